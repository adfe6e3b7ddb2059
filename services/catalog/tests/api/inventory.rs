//! The stock list: every variant of the shop with its stock, by SKU.

use crate::helpers::{goji, problem, shop, spawn_app};
use serde_json::Value;

fn skus(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["sku"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_stock_list_pages_filters_and_stays_in_its_shop() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let b = shop(&app, "active", None).await;
    // The threshold of goji() is 5: 2 and 5 available are low, 50 is not.
    for (handle, sku, stock) in [
        ("goji-a", "A-1", 2),
        ("goji-b", "B-1", 50),
        ("goji-c", "C-1", 5),
    ] {
        let created = app
            .post_with(&a.owner, "/v1/products", &goji(handle, sku, stock))
            .await;
        assert_eq!(created.status(), 201);
    }
    let mut other = goji("walnuts", "X-1", 1);
    other["title"] = serde_json::json!({"en": "Aksu walnuts"});
    assert_eq!(
        app.post_with(&b.owner, "/v1/products", &other)
            .await
            .status(),
        201
    );

    let first: Value = app
        .get_with(&a.owner, "/v1/inventory?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skus(&first), ["A-1", "B-1"]);
    let item = &first["items"][0];
    assert_eq!(item["on_hand"], 2);
    assert_eq!(item["reserved"], 0);
    assert_eq!(item["available"], 2);
    assert_eq!(item["low_stock_threshold"], 5);
    assert_eq!(item["low"], true);
    assert_eq!(item["track_stock"], true);
    assert_eq!(item["product_handle"], "goji-a");
    assert_eq!(item["product_status"], "active");
    assert_eq!(item["product_title"]["en"], "Ningxia goji berries");
    assert_eq!(item["variant_title"]["en"], "500 g");
    assert!(item["variant_id"].is_string() && item["product_id"].is_string());
    assert_eq!(first["items"][1]["low"], false);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get_with(&a.owner, &format!("/v1/inventory?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skus(&second), ["C-1"]);
    assert!(second["next_cursor"].is_null());

    let low: Value = app
        .get_with(&a.owner, "/v1/inventory?low_stock=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skus(&low), ["A-1", "C-1"]);
    let by_sku: Value = app
        .get_with(&a.owner, "/v1/inventory?q=b-1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skus(&by_sku), ["B-1"]);
    let b1 = by_sku["items"][0]["variant_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let one: Value = app
        .get_with(&a.owner, &format!("/v1/inventory?variant_id={b1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skus(&one), ["B-1"]);
    // Another shop asking for it by id finds nothing.
    let not_theirs: Value = app
        .get_with(&b.owner, &format!("/v1/inventory?variant_id={b1}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        not_theirs["items"].as_array().unwrap().is_empty(),
        "{not_theirs}"
    );
    let by_title: Value = app
        .get_with(&a.owner, "/v1/inventory?q=%E6%9E%B8%E6%9D%9E") // 枸杞
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skus(&by_title), ["A-1", "B-1", "C-1"]);
    // Another shop's variants are not there, whatever the filter; its own are.
    let nothing: Value = app
        .get_with(&a.owner, "/v1/inventory?q=walnut")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skus(&nothing), Vec::<&str>::new());
    let theirs: Value = app
        .get_with(&b.owner, "/v1/inventory")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skus(&theirs), ["X-1"]);
    assert_eq!(theirs["items"][0]["low"], true);
    // A's cursor in B's list continues B's list, nothing of A's.
    let crossed: Value = app
        .get_with(&b.owner, &format!("/v1/inventory?cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skus(&crossed), ["X-1"]);
}

#[tokio::test]
async fn the_stock_list_refuses_bad_queries_by_name() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let body = problem(
        app.get_with(&a.owner, "/v1/inventory?cursor=made-up").await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "cursor", "{body}");
    let long = "x".repeat(201);
    let body = problem(
        app.get_with(&a.owner, &format!("/v1/inventory?q={long}"))
            .await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "q", "{body}");
    let body = problem(app.get_with(&a.owner, "/v1/inventory?limit=0").await, 422).await;
    assert_eq!(body["errors"][0]["field"], "limit", "{body}");
    problem(
        app.get_with(&a.owner, "/v1/inventory?low_stock=maybe")
            .await,
        422,
    )
    .await;
    let unauthenticated = app.get("/v1/inventory").await;
    assert_eq!(unauthenticated.status(), 401);
}
