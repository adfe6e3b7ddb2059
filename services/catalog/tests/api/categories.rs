use crate::helpers::{goji, shop, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn categories_are_renamed_moved_and_deleted_without_loops_or_lost_products() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let b = shop(&app, "active", None).await;
    let category = |handle: &str, parent: Option<&str>| json!({"handle": handle, "name": {"zh-CN": handle}, "parent_id": parent, "position": 0});
    let create = |body: Value| {
        let app = &app;
        let token = a.owner.clone();
        async move {
            let created: Value = app
                .post_with(&token, "/v1/categories", &body)
                .await
                .json()
                .await
                .unwrap();
            created["id"].as_str().unwrap().to_owned()
        }
    };
    let fruit = create(category("dried-fruit", None)).await;
    let goji_shelf = create(category("goji", Some(&fruit))).await;
    let mut product = goji("goji-500", "GOJI-500", 10);
    product["category_ids"] = json!([goji_shelf]);
    let created: Value = app
        .post_with(&a.owner, "/v1/products", &product)
        .await
        .json()
        .await
        .unwrap();
    let product_id = created["id"].as_str().unwrap().to_owned();

    // Renamed and reordered.
    let renamed = app
        .put_with(
            &a.owner,
            &format!("/v1/categories/{goji_shelf}"),
            &json!({"handle": "goji-berries", "name": {"zh-CN": "枸杞", "ug": "لەڭزە"}, "parent_id": fruit, "position": 2}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(renamed["handle"], "goji-berries");
    assert_eq!(renamed["position"], 2);

    // A parent inside itself, or itself, is a loop; an unknown parent is refused.
    for parent in [goji_shelf.clone(), uuid::Uuid::now_v7().to_string()] {
        let looped = app
            .put_with(
                &a.owner,
                &format!("/v1/categories/{fruit}"),
                &category("dried-fruit", Some(&parent)),
            )
            .await;
        assert_eq!(looped.status(), 422, "{parent}");
        let problem: Value = looped.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "parent_id");
    }

    // Another shop can neither change nor delete it, nor tell it exists.
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/v1/categories/{fruit}"),
        format!("/v1/categories/{unknown}"),
    ] {
        let changed = app.put_with(&b.owner, &path, &category("mine", None)).await;
        assert_eq!(changed.status(), 404, "{path}");
        let deleted = app.delete_with(&b.owner, &path).await;
        assert_eq!(deleted.status(), 404, "{path}");
    }

    // A category with subcategories stays; a leaf goes, and its product stays without it.
    let refused = app
        .delete_with(&a.owner, &format!("/v1/categories/{fruit}"))
        .await;
    assert_eq!(refused.status(), 409);
    let deleted = app
        .delete_with(&a.owner, &format!("/v1/categories/{goji_shelf}"))
        .await;
    assert_eq!(deleted.status(), 204);
    let after: Value = app
        .get_with(&a.owner, &format!("/v1/products/{product_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["category_ids"], json!([]), "{after}");
    let left: Value = app
        .get_with(&a.owner, "/v1/categories")
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    let handles: Vec<&str> = left
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, ["dried-fruit"]);
    let now_empty = app
        .delete_with(&a.owner, &format!("/v1/categories/{fruit}"))
        .await;
    assert_eq!(now_empty.status(), 204);
}

#[tokio::test]
async fn categories_are_listed_a_page_at_a_time_in_the_documented_shape() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    for (handle, position) in [("melons", 2), ("goji", 1), ("raisins", 1), ("nuts", 3)] {
        let body = json!({"handle": handle, "name": {"zh-CN": handle}, "position": position});
        assert_eq!(
            app.post_with(&a.owner, "/v1/categories", &body)
                .await
                .status(),
            201
        );
    }

    // By position, then handle; two at a time, each page saying where the next starts.
    let mut handles = Vec::new();
    let mut path = "/v1/categories?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page: Value = app.get_with(&a.owner, &path).await.json().await.unwrap();
        pages += 1;
        for category in page["items"].as_array().unwrap() {
            handles.push(category["handle"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/categories?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(handles, ["goji", "raisins", "melons", "nuts"]);
    assert_eq!(pages, 2);

    // A made-up cursor or an out-of-range limit names its field.
    for (query, field) in [("cursor=bm90LWEta2V5", "cursor"), ("limit=101", "limit")] {
        let refused = app
            .get_with(&a.owner, &format!("/v1/categories?{query}"))
            .await;
        assert_eq!(refused.status(), 422, "{query}");
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
}
