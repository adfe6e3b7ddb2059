use crate::helpers::{goji, problem, shop, spawn_app};
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn five_hundred_concurrent_checkouts_never_oversell_one_hundred() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("hot-goji", "HOT-1", 100))
        .await
        .json()
        .await
        .unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    let service = app.keys.service("order");

    let mut tasks = Vec::new();
    for _ in 0..500 {
        let client = app.client.clone();
        let url = app.url("/internal/v1/reservations");
        let body = json!({"tenant_id": a.id, "order_id": Uuid::now_v7(), "lines": [{"variant_id": variant, "quantity": 1}]});
        let token = service.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 100);
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        400,
        "{statuses:?}"
    );
    let after: Value = app
        .get_with(
            &a.owner,
            &format!("/v1/products/{}", product["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["variants"][0]["reserved"], 100);
    assert_eq!(after["variants"][0]["available"], 0);
}

#[tokio::test]
async fn reservations_are_all_or_nothing_idempotent_and_settle_once() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let goji_product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji", "G-1", 10))
        .await
        .json()
        .await
        .unwrap();
    let raisin_product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("raisins", "R-1", 2))
        .await
        .json()
        .await
        .unwrap();
    let goji = goji_product["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let raisins = raisin_product["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let service = app.keys.service("order");
    let order = Uuid::now_v7();

    // Too many raisins: nothing is held, the short line is named.
    let short = app
        .post_with(
            &service,
            "/internal/v1/reservations",
            &json!({"tenant_id": a.id, "order_id": order,
        "lines": [{"variant_id": goji, "quantity": 3}, {"variant_id": raisins, "quantity": 5}]}),
        )
        .await;
    let body = problem(short, 409).await;
    assert_eq!(body["code"], "insufficient_stock");
    assert_eq!(body["errors"][0]["field"], "lines[1]");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2 available")
    );
    let goji_after: Value = app
        .get_with(
            &a.owner,
            &format!("/v1/products/{}", goji_product["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(goji_after["variants"][0]["reserved"], 0, "all or nothing");

    let request = json!({"tenant_id": a.id, "order_id": order, "lines": [{"variant_id": goji, "quantity": 3}, {"variant_id": raisins, "quantity": 2}]});
    let held = app
        .post_with(&service, "/internal/v1/reservations", &request)
        .await;
    assert_eq!(held.status(), 201);
    let first: Value = held.json().await.unwrap();
    let repeated: Value = app
        .post_with(&service, "/internal/v1/reservations", &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        first, repeated,
        "the same call answers the same reservation"
    );
    let raisins_after: Value = app
        .get_with(
            &a.owner,
            &format!("/v1/products/{}", raisin_product["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        raisins_after["variants"][0]["reserved"], 2,
        "held once, not twice"
    );

    let commit = app
        .post_with(
            &service,
            &format!("/internal/v1/reservations/{order}/commit"),
            &json!({"tenant_id": a.id}),
        )
        .await;
    assert_eq!(commit.status(), 200);
    let again = app
        .post_with(
            &service,
            &format!("/internal/v1/reservations/{order}/commit"),
            &json!({"tenant_id": a.id}),
        )
        .await;
    assert_eq!(again.status(), 200);
    let release = app
        .post_with(
            &service,
            &format!("/internal/v1/reservations/{order}/release"),
            &json!({"tenant_id": a.id}),
        )
        .await;
    assert_eq!(problem(release, 409).await["code"], "reservation_settled");
    let goji_sold: Value = app
        .get_with(
            &a.owner,
            &format!("/v1/products/{}", goji_product["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(goji_sold["variants"][0]["on_hand"], 7);
    assert_eq!(goji_sold["variants"][0]["reserved"], 0);

    // A released order gives its stock back.
    let other = Uuid::now_v7();
    app.post_with(&service, "/internal/v1/reservations", &json!({"tenant_id": a.id, "order_id": other, "lines": [{"variant_id": goji, "quantity": 7}]})).await;
    let released = app
        .post_with(
            &service,
            &format!("/internal/v1/reservations/{other}/release"),
            &json!({"tenant_id": a.id}),
        )
        .await;
    assert_eq!(released.status(), 200);
    let goji_back: Value = app
        .get_with(
            &a.owner,
            &format!("/v1/products/{}", goji_product["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(goji_back["variants"][0]["available"], 7);

    // Only services may reserve; another shop's id finds nothing.
    assert_eq!(
        app.post_with(&a.owner, "/internal/v1/reservations", &request)
            .await
            .status(),
        403
    );
    let b = shop(&app, "active", None).await;
    let cross = app.post_with(&service, "/internal/v1/reservations", &json!({"tenant_id": b.id, "order_id": Uuid::now_v7(), "lines": [{"variant_id": goji, "quantity": 1}]})).await;
    let cross = problem(cross, 409).await;
    assert!(
        cross["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("0 available"),
        "{cross}"
    );
}

#[tokio::test]
async fn settled_reservations_are_not_reported_as_held_and_huge_numbers_are_refused() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji", "G-1", 10))
        .await
        .json()
        .await
        .unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    let service = app.keys.service("order");
    let order = Uuid::now_v7();
    let request = json!({"tenant_id": a.id, "order_id": order, "lines": [{"variant_id": variant, "quantity": 2}]});
    assert_eq!(
        app.post_with(&service, "/internal/v1/reservations", &request)
            .await
            .status(),
        201
    );
    app.post_with(
        &service,
        &format!("/internal/v1/reservations/{order}/release"),
        &json!({"tenant_id": a.id}),
    )
    .await;
    let again = app
        .post_with(&service, "/internal/v1/reservations", &request)
        .await;
    assert_eq!(problem(again, 409).await["code"], "reservation_settled");

    let huge = json!({"tenant_id": a.id, "order_id": Uuid::now_v7(), "lines": [{"variant_id": variant, "quantity": i32::MAX}]});
    assert_eq!(
        problem(
            app.post_with(&service, "/internal/v1/reservations", &huge)
                .await,
            422
        )
        .await["errors"][0]["field"],
        "lines[0].quantity"
    );
    let overflow = app
        .post_with(
            &a.owner,
            "/v1/inventory/adjustments",
            &json!({"variant_id": variant, "delta": 2147483640, "reason": "received"}),
        )
        .await;
    assert_eq!(problem(overflow, 422).await["errors"][0]["field"], "delta");
    let nul = app
        .client
        .get(app.url(&format!("/v1/shops/{}/products?q=%00", a.slug)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        nul.status(),
        422,
        "a NUL character is the caller's mistake, not a 500"
    );
}
