use crate::helpers::{goji, problem, shop, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn the_service_answers_its_operational_endpoints() {
    let app = spawn_app().await;
    app.assert_operational_endpoints("catalog").await;
}

async fn usage(
    app: &caravan_shared::testing::TestApp,
    token: &str,
    query: &str,
) -> reqwest::Response {
    app.get_with(token, &format!("/v1/operations/catalog/usage{query}"))
        .await
}

#[tokio::test]
async fn operators_read_the_products_each_shop_counts_against_its_plan_and_the_total() {
    let app = spawn_app().await;
    let a = shop(&app, "active", Some(3)).await;
    let b = shop(&app, "active", None).await;
    let mut made = Vec::new();
    for index in 0..3 {
        let mut product = goji(&format!("goji-{index}"), &format!("GOJI-{index}"), 10);
        if index == 2 {
            product["status"] = json!("draft");
        }
        let created = app.post_with(&a.owner, "/v1/products", &product).await;
        assert_eq!(created.status(), 201);
        made.push(
            created.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // An archived product no longer counts; a draft does.
    let archived = app
        .post_with(
            &a.owner,
            &format!("/v1/products/{}/archive", made[0]),
            &json!({}),
        )
        .await;
    assert_eq!(archived.status(), 200);
    let created = app
        .post_with(&b.owner, "/v1/products", &goji("walnuts", "WALNUT-1", 4))
        .await;
    assert_eq!(created.status(), 201);

    let operator = app.keys.operator();
    let of_a: Value = usage(&app, &operator, &format!("?tenant_id={}", a.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        of_a,
        json!({"tenant_id": a.id, "counts": {"products": 2}, "sales": []})
    );
    let of_b: Value = usage(&app, &operator, &format!("?tenant_id={}", b.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(of_b["counts"], json!({"products": 1}));
    let total: Value = usage(&app, &operator, "").await.json().await.unwrap();
    assert_eq!(
        total,
        json!({"tenant_id": null, "counts": {"products": 3}, "sales": []})
    );

    // The quota counts the same: a third product fits the plan's 3, a fourth does not.
    let third = app
        .post_with(&a.owner, "/v1/products", &goji("goji-3", "GOJI-3", 1))
        .await;
    assert_eq!(third.status(), 201);
    let of_a: Value = usage(&app, &operator, &format!("?tenant_id={}", a.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(of_a["counts"]["products"], 3);
    let fourth = app
        .post_with(&a.owner, "/v1/products", &goji("goji-4", "GOJI-4", 1))
        .await;
    assert_eq!(problem(fourth, 403).await["code"], "quota_exceeded");
}

#[tokio::test]
async fn usage_is_for_operators_and_takes_a_shop_id() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let refused = usage(&app, &a.owner, &format!("?tenant_id={}", a.id)).await;
    assert_eq!(problem(refused, 403).await["code"], "forbidden");
    let anonymous = app
        .client
        .get(app.url("/v1/operations/catalog/usage"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let operator = app.keys.operator();
    let malformed = usage(&app, &operator, "?tenant_id=1234").await;
    assert_eq!(
        problem(malformed, 422).await["errors"][0]["field"],
        "tenant_id"
    );
    let unknown = usage(
        &app,
        &operator,
        &format!("?tenant_id={}", uuid::Uuid::now_v7()),
    )
    .await;
    assert_eq!(problem(unknown, 404).await["code"], "not_found");
}
