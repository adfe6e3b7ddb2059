//! A stored price the catalog cannot read (a currency it does not know, written by a
//! newer version or by hand) is an internal error, logged and answered 500; never a
//! variant shown without its price.

use crate::helpers::{WITHIN, goji, problem, shop, spawn_app, until};
use sea_orm::ConnectionTrait;
use serde_json::Value;

#[tokio::test]
async fn a_price_in_an_unknown_currency_is_an_internal_error_not_a_missing_price() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji", "G-1", 5))
        .await
        .json()
        .await
        .unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    let staff_path = format!("/v1/products/{}", product["id"].as_str().unwrap());
    let path = format!("/v1/shops/{}/products/goji?currency=CNY", a.slug);
    let storefront = app.url(&path);
    let buyer = app.client.get(&storefront).send().await.unwrap();
    assert_eq!(buyer.status(), 200);
    assert_eq!(
        buyer.json::<Value>().await.unwrap()["variants"][0]["price"]["amount"],
        6800
    );

    let owner = caravan_shared::db::connect(&app.database.owner_url, 1)
        .await
        .unwrap();
    let set_prices =
        |prices: &str| format!("UPDATE variants SET prices = '{prices}' WHERE id = '{variant}'");
    owner
        .execute_unprepared(&set_prices(
            r#"[{"amount": 6800, "currency": "XYZ"}, {"amount": 950, "currency": "USD"}]"#,
        ))
        .await
        .unwrap();

    // The storefront held the readable answer; the change reaches it within a second.
    let took = until(&app, &path, |status, _| status == 500).await;
    assert!(took < WITHIN, "the storefront took {took:?}");
    let buyer = app.client.get(&storefront).send().await.unwrap();
    let body = problem(buyer, 500).await;
    assert_eq!(body["code"], "internal_error");
    assert!(
        !body.to_string().contains("XYZ"),
        "internals stay inside: {body}"
    );
    let staff = app.get_with(&a.owner, &staff_path).await;
    assert_eq!(problem(staff, 500).await["code"], "internal_error");

    // Readable again: served again.
    owner
        .execute_unprepared(&set_prices(
            r#"[{"amount": 6800, "currency": "CNY"}, {"amount": 950, "currency": "USD"}]"#,
        ))
        .await
        .unwrap();
    let took = until(&app, &path, |status, _| status == 200).await;
    assert!(took < WITHIN, "the storefront took {took:?}");
}

#[tokio::test]
async fn a_compare_at_price_in_an_unknown_currency_is_an_internal_error_not_dropped() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji", "G-1", 5))
        .await
        .json()
        .await
        .unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    let staff_path = format!("/v1/products/{}", product["id"].as_str().unwrap());
    let storefront = app.url(&format!("/v1/shops/{}/products/goji", a.slug));

    let owner = caravan_shared::db::connect(&app.database.owner_url, 1)
        .await
        .unwrap();
    let set_compare_at = |price: &str| {
        format!("UPDATE variants SET compare_at_price = {price} WHERE id = '{variant}'")
    };
    owner
        .execute_unprepared(&set_compare_at(r#"'{"amount": 7800, "currency": "XYZ"}'"#))
        .await
        .unwrap();

    let buyer = app.client.get(&storefront).send().await.unwrap();
    let body = problem(buyer, 500).await;
    assert_eq!(body["code"], "internal_error");
    assert!(
        !body.to_string().contains("XYZ"),
        "internals stay inside: {body}"
    );
    let staff = app.get_with(&a.owner, &staff_path).await;
    assert_eq!(problem(staff, 500).await["code"], "internal_error");

    // Readable again: served again, with the price.
    owner
        .execute_unprepared(&set_compare_at(r#"'{"amount": 7800, "currency": "CNY"}'"#))
        .await
        .unwrap();
    let staff: Value = app
        .get_with(&a.owner, &staff_path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        staff["variants"][0]["compare_at_price"],
        serde_json::json!({"amount": 7800, "currency": "CNY"})
    );
}
