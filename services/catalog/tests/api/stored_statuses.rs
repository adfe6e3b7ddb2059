//! A stored status the catalog does not know (written by a newer version or by
//! hand) is an internal error, logged and answered 500; never a default, and never
//! a product that silently is "not active".

use crate::helpers::{WITHIN, goji, problem, shop, spawn_app, until};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn a_product_with_an_unknown_status_is_an_internal_error_not_a_missing_product() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji", "G-1", 5))
        .await
        .json()
        .await
        .unwrap();
    let id = product["id"].as_str().unwrap().to_owned();
    let staff_path = format!("/v1/products/{id}");
    let path = format!("/v1/shops/{}/products/goji", a.slug);
    let storefront = app.url(&path);
    let buyer = app.client.get(&storefront).send().await.unwrap();
    assert_eq!(buyer.status(), 200);

    let owner = caravan_shared::db::connect(&app.database.owner_url, 1)
        .await
        .unwrap();
    owner
        .execute_unprepared("ALTER TABLE products DROP CONSTRAINT products_status_check")
        .await
        .unwrap();
    let set_status =
        |status: &str| format!("UPDATE products SET status = '{status}' WHERE id = '{id}'");
    owner
        .execute_unprepared(&set_status("published"))
        .await
        .unwrap();

    // The storefront held the readable answer; the change reaches it within a second.
    let took = until(&app, &path, |status, _| status == 500).await;
    assert!(took < WITHIN, "the storefront took {took:?}");
    let buyer = app.client.get(&storefront).send().await.unwrap();
    let body = problem(buyer, 500).await;
    assert_eq!(body["code"], "internal_error");
    assert!(
        !body.to_string().contains("published"),
        "internals stay inside: {body}"
    );
    for path in [staff_path.as_str(), "/v1/products", "/v1/inventory"] {
        let staff = app.get_with(&a.owner, path).await;
        assert_eq!(
            problem(staff, 500).await["code"],
            "internal_error",
            "{path}"
        );
    }

    // Readable again: served again, with the same strings as before.
    owner
        .execute_unprepared(&set_status("active"))
        .await
        .unwrap();
    let took = until(&app, &path, |status, _| status == 200).await;
    assert!(took < WITHIN, "the storefront took {took:?}");
    let staff: Value = app
        .get_with(&a.owner, &staff_path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(staff["status"], "active");
    let stock: Value = app
        .get_with(&a.owner, "/v1/inventory")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stock["items"][0]["product_status"], "active");
}

#[tokio::test]
async fn a_reservation_with_an_unknown_status_is_an_internal_error_not_a_conflict() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji", "G-1", 5))
        .await
        .json()
        .await
        .unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    let order = Uuid::now_v7();
    let order_service = app.keys.service("order");
    let reservation = json!({"tenant_id": a.id, "order_id": order,
        "lines": [{"variant_id": variant, "quantity": 2}]});
    let reserve = || app.post_with(&order_service, "/internal/v1/reservations", &reservation);
    let held = reserve().await;
    assert_eq!(held.status(), 201);
    let held: Value = held.json().await.unwrap();
    assert_eq!(held["lines"][0]["status"], "held", "{held}");

    let owner = caravan_shared::db::connect(&app.database.owner_url, 1)
        .await
        .unwrap();
    owner
        .execute_unprepared("ALTER TABLE reservations DROP CONSTRAINT reservations_status_check")
        .await
        .unwrap();
    owner
        .execute_unprepared(&format!(
            "UPDATE reservations SET status = 'shipped' WHERE order_id = '{order}'"
        ))
        .await
        .unwrap();

    let again = reserve().await;
    let body = problem(again, 500).await;
    assert_eq!(body["code"], "internal_error");
    assert!(
        !body.to_string().contains("shipped"),
        "internals stay inside: {body}"
    );
}
