use crate::helpers::{goji, problem, shop, spawn_app};
use caravan_shared::identity::Role;
use serde_json::{Value, json};

#[tokio::test]
async fn another_shop_cannot_read_change_or_detect_a_product() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let b = shop(&app, "active", None).await;
    let created = app
        .post_with(&a.owner, "/v1/products", &goji("goji-500", "GOJI-500", 10))
        .await;
    assert_eq!(created.status(), 201);
    let product: Value = created.json().await.unwrap();
    let id = product["id"].as_str().unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap();

    // Shop B: 404 on every route, empty listings.
    assert_eq!(
        app.get_with(&b.owner, &format!("/v1/products/{id}"))
            .await
            .status(),
        404
    );
    let patch = app
        .patch_with(
            &b.owner,
            &format!("/v1/products/{id}"),
            &json!({"tags": ["x"]}),
        )
        .await;
    assert_eq!(patch.status(), 404);
    assert_eq!(
        app.post_with(&b.owner, &format!("/v1/products/{id}/archive"), &json!({}))
            .await
            .status(),
        404
    );
    let delete = app
        .delete_with(&b.owner, &format!("/v1/products/{id}"))
        .await;
    assert_eq!(delete.status(), 404);
    let adjust = app
        .post_with(
            &b.owner,
            "/v1/inventory/adjustments",
            &json!({"variant_id": variant, "delta": 5, "reason": "received"}),
        )
        .await;
    assert_eq!(adjust.status(), 404);
    let listed: Value = app
        .get_with(&b.owner, "/v1/products")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    // The same handle and SKU are free in shop B.
    assert_eq!(
        app.post_with(&b.owner, "/v1/products", &goji("goji-500", "GOJI-500", 1))
            .await
            .status(),
        201
    );
    // Shop B's storefront does not show A's product under the same handle's id either.
    let detail = app
        .client
        .get(app.url(&format!("/v1/shops/{}/products/goji-500", a.slug)))
        .send()
        .await
        .unwrap();
    let detail: Value = detail.json().await.unwrap();
    assert_eq!(detail["id"], id);

    // An app of shop A with only catalog:read cannot write; nor can it touch B.
    let reader = app.keys.member(a.id, Role::App, &["catalog:read"]);
    assert_eq!(
        app.post_with(&reader, "/v1/products", &goji("other", "OTHER-1", 1))
            .await
            .status(),
        403
    );
    let writer = app
        .keys
        .member(a.id, Role::App, &["catalog:write", "catalog:read"]);
    let b_product: Value = app
        .get_with(&b.owner, "/v1/products")
        .await
        .json()
        .await
        .unwrap();
    let b_id = b_product["items"][0]["id"].as_str().unwrap();
    let cross = app
        .patch_with(
            &writer,
            &format!("/v1/products/{b_id}"),
            &json!({"tags": ["taken"]}),
        )
        .await;
    assert_eq!(cross.status(), 404);
    let b_after: Value = app
        .get_with(&b.owner, &format!("/v1/products/{b_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b_after["tags"], json!(["goji", "dried-fruit"]));
}

#[tokio::test]
async fn products_are_managed_and_stock_is_kept_in_a_ledger() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji-1kg", "GOJI-1KG", 20))
        .await
        .json()
        .await
        .unwrap();
    let id = product["id"].as_str().unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap();
    assert_eq!(product["variants"][0]["available"], 20);

    let duplicate = app
        .post_with(&a.owner, "/v1/products", &goji("goji-1kg", "OTHER-SKU", 1))
        .await;
    assert_eq!(problem(duplicate, 409).await["code"], "handle_taken");
    let sku = app
        .post_with(
            &a.owner,
            "/v1/products",
            &goji("other-handle", "GOJI-1KG", 1),
        )
        .await;
    assert_eq!(problem(sku, 409).await["code"], "sku_taken");

    let received = app.post_with(&a.owner, "/v1/inventory/adjustments", &json!({"variant_id": variant, "delta": 30, "reason": "received", "note": "August harvest"})).await;
    assert_eq!(received.json::<Value>().await.unwrap()["on_hand"], 50);
    let too_much = app
        .post_with(
            &a.owner,
            "/v1/inventory/adjustments",
            &json!({"variant_id": variant, "delta": -51, "reason": "damaged"}),
        )
        .await;
    assert_eq!(problem(too_much, 409).await["code"], "insufficient_stock");
    let ledger: Value = app
        .get_with(
            &a.owner,
            &format!("/v1/inventory/adjustments?variant_id={variant}"),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    let deltas: Vec<i64> = ledger
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["delta"].as_i64().unwrap())
        .collect();
    assert_eq!(deltas, [30, 20]);
    for limit in [0, 101] {
        let refused = app
            .get_with(
                &a.owner,
                &format!("/v1/inventory/adjustments?variant_id={variant}&limit={limit}"),
            )
            .await;
        assert_eq!(problem(refused, 422).await["errors"][0]["field"], "limit");
    }

    let patched = app
        .patch_with(
            &a.owner,
            &format!("/v1/products/{id}"),
            &json!({"tags": ["goji", "organic"], "title": {"zh-CN": "有机枸杞", "en": "Organic goji"}}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let listed: Value = app
        .get_with(&a.owner, "/v1/products?tag=organic")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let searched: Value = app
        .get_with(&a.owner, "/v1/products?q=%E6%9C%89%E6%9C%BA")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        searched["items"].as_array().unwrap().len(),
        1,
        "有机 matches"
    );

    // Active products cannot be deleted; archived ones disappear from the storefront.
    let delete = app
        .delete_with(&a.owner, &format!("/v1/products/{id}"))
        .await;
    assert_eq!(problem(delete, 409).await["code"], "not_deletable");
    let archived = app
        .post_with(&a.owner, &format!("/v1/products/{id}/archive"), &json!({}))
        .await;
    assert_eq!(
        archived.json::<Value>().await.unwrap()["status"],
        "archived"
    );
    let gone = app
        .client
        .get(app.url(&format!("/v1/shops/{}/products/goji-1kg", a.slug)))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_and_the_quota_applies() {
    let app = spawn_app().await;
    let a = shop(&app, "active", Some(1)).await;
    let mut bad = goji("Bad Handle", "sku with space", -1);
    bad["variants"][0]["unit"] = json!("bushel");
    bad["harvest_months"] = json!([13]);
    bad["storage"] = json!("warm");
    let refused = problem(app.post_with(&a.owner, "/v1/products", &bad).await, 422).await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in [
        "handle",
        "variants[0].sku",
        "variants[0].unit",
        "variants[0].stock",
        "harvest_months[0]",
        "storage",
    ] {
        assert!(fields.contains(&field), "{field} in {refused}");
    }
    let mut no_price = goji("no-price", "NP-1", 1);
    no_price["variants"][0]["prices"] = json!([{"amount": 100, "currency": "XYZ"}]);
    let body = problem(
        app.post_with(&a.owner, "/v1/products", &no_price).await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "variants[0].prices[0].currency");

    assert_eq!(
        app.post_with(&a.owner, "/v1/products", &goji("first", "F-1", 1))
            .await
            .status(),
        201
    );
    let over = problem(
        app.post_with(&a.owner, "/v1/products", &goji("second", "S-1", 1))
            .await,
        403,
    )
    .await;
    assert_eq!(over["code"], "quota_exceeded");
    assert!(over["detail"].as_str().unwrap().contains("max_products"));
}

#[tokio::test]
async fn a_suspended_shops_staff_are_refused() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    crate::helpers::set_status(&app, &a, "suspended").await;
    let refused = problem(
        app.post_with(&a.owner, "/v1/products", &goji("x", "X-1", 1))
            .await,
        403,
    )
    .await;
    assert_eq!(refused["code"], "tenant_suspended");
    let storefront = app
        .client
        .get(app.url(&format!("/v1/shops/{}/products", a.slug)))
        .send()
        .await
        .unwrap();
    assert_eq!(storefront.status(), 404);
}

#[tokio::test]
async fn a_variants_prices_change_and_reach_the_storefront() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let b = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji", "G-1", 5))
        .await
        .json()
        .await
        .unwrap();
    let id = product["id"].as_str().unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap();
    let path = format!("/v1/products/{id}/variants/{variant}");
    let changed = app
        .patch_with(
            &a.owner,
            &path,
            &json!({"prices": [{"amount": 7200, "currency": "CNY"}], "compare_at_price": {"amount": 8000, "currency": "CNY"}}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let page: Value = app
        .client
        .get(app.url(&format!("/v1/shops/{}/products/goji", a.slug)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["variants"][0]["price"],
        json!({"amount": 7200, "currency": "CNY"})
    );
    let bad = app
        .patch_with(&a.owner, &path, &json!({"unit": "bushel"}))
        .await;
    assert_eq!(problem(bad, 422).await["errors"][0]["field"], "unit");
    let negative = app
        .patch_with(
            &a.owner,
            &path,
            &json!({"compare_at_price": {"amount": -1, "currency": "CNY"}}),
        )
        .await;
    assert_eq!(
        problem(negative, 422).await["errors"][0]["field"],
        "compare_at_price.amount"
    );
    let other = app
        .patch_with(&b.owner, &path, &json!({"weight_grams": 1}))
        .await;
    assert_eq!(other.status(), 404);
}

#[tokio::test]
async fn a_variant_is_added_to_a_product_with_its_first_stock_and_only_in_its_own_shop() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let b = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji-500g", "GOJI-500", 10))
        .await
        .json()
        .await
        .unwrap();
    let id = product["id"].as_str().unwrap();
    let path = format!("/v1/products/{id}/variants");
    let box_of_1kg = json!({
        "sku": "GOJI-1KG", "unit": "box", "weight_grams": 1050,
        "prices": [{"amount": 12800, "currency": "CNY"}], "stock": 25,
        "title": {"zh-CN": "1 公斤礼盒"}
    });
    let added = app.post_with(&a.owner, &path, &box_of_1kg).await;
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.unwrap();
    let variants = added["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    let new = variants.iter().find(|v| v["sku"] == "GOJI-1KG").unwrap();
    assert_eq!(new["on_hand"], 25);
    assert_eq!(new["prices"][0]["amount"], 12800);
    let ledger: Value = app
        .get_with(
            &a.owner,
            &format!(
                "/v1/inventory/adjustments?variant_id={}",
                new["id"].as_str().unwrap()
            ),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    assert_eq!(ledger[0]["reason"], "initial", "{ledger}");

    // The same SKU again is taken; a bad price names its field; nothing is added.
    assert_eq!(
        app.post_with(&a.owner, &path, &box_of_1kg).await.status(),
        409
    );
    let mut free = box_of_1kg.clone();
    free["sku"] = json!("GOJI-2KG");
    free["prices"] = json!([{"amount": -1, "currency": "CNY"}]);
    let refused = app.post_with(&a.owner, &path, &free).await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert!(
        problem["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("prices"),
        "{problem}"
    );
    // Another shop cannot add to it, and learns nothing: the same 404 as no product.
    free["prices"] = json!([{"amount": 100, "currency": "CNY"}]);
    let theirs = app.post_with(&b.owner, &path, &free).await;
    assert_eq!(theirs.status(), 404);
    let unknown = app
        .post_with(
            &b.owner,
            &format!("/v1/products/{}/variants", uuid::Uuid::now_v7()),
            &free,
        )
        .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        theirs.json::<Value>().await.unwrap(),
        unknown.json::<Value>().await.unwrap()
    );
    let after: Value = app
        .get_with(&a.owner, &format!("/v1/products/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["variants"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn parallel_creations_take_exactly_the_products_the_plan_has_left() {
    let app = spawn_app().await;
    let a = shop(&app, "active", Some(7)).await;
    for n in 0..2 {
        let body = goji(&format!("kept-{n}"), &format!("K-{n}"), 1);
        assert_eq!(
            app.post_with(&a.owner, "/v1/products", &body)
                .await
                .status(),
            201
        );
    }

    // Five left on the plan; twenty staff members add one each at once.
    let bodies: Vec<Value> = (0..20)
        .map(|n| goji(&format!("racing-{n}"), &format!("R-{n}"), 1))
        .collect();
    let answers = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| app.post_with(&a.owner, "/v1/products", body)),
    )
    .await;
    let mut created = 0;
    for answer in answers {
        match answer.status().as_u16() {
            201 => created += 1,
            403 => assert_eq!(problem(answer, 403).await["code"], "quota_exceeded"),
            other => panic!("{other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!(created, 5);
    let listed: Value = app
        .get_with(&a.owner, "/v1/products?limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 7, "{listed}");
}
