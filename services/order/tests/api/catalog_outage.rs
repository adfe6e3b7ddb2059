//! When the catalog cannot be reached, carts and checkout answer 503 saying what
//! failed, never where: the catalog's internal address stays in the logs.

use crate::helpers::{problem, spawn_stack_with};
use caravan_shared::testing::free_port;
use serde_json::{Value, json};
use uuid::Uuid;

/// Checks a 503 problem names the catalog and none of its address.
async fn unavailable_without_the_address(response: reqwest::Response, port: u16) -> Value {
    let body = problem(response, 503).await;
    assert_eq!(body["code"], "service_unavailable", "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("catalog"), "{body}");
    let text = body.to_string();
    for secret in [
        "http",
        "127.0.0.1",
        "localhost",
        "internal",
        "/v1/",
        &port.to_string(),
    ] {
        assert!(!text.contains(secret), "{secret:?} in {body}");
    }
    body
}

#[tokio::test]
async fn an_unreachable_catalog_answers_503_saying_what_failed_not_where() {
    // Nothing listens there.
    let port = free_port();
    let nowhere = format!("http://127.0.0.1:{port}");
    let stack = spawn_stack_with(false, &[("CATALOG_URL", &nowhere)]).await;
    let shop = stack.shop(10).await;

    let (id, token) = stack.empty_cart(&shop).await;
    let (id, token) = (id.as_str(), token.as_str());
    let lines = format!("/v1/shops/{}/carts/{id}/lines", shop.slug);
    let added = stack
        .order
        .client
        .post(stack.order.url(&lines))
        .header("X-Cart-Token", token)
        .json(&json!({"variant_id": shop.variant, "quantity": 1}))
        .send()
        .await
        .unwrap();
    unavailable_without_the_address(added, port).await;

    // A line that got in while the catalog was up: reading the cart and checking
    // out ask the catalog for its price.
    stack
        .order_sql(&format!(
            "INSERT INTO cart_lines (cart_id, tenant_id, variant_id, quantity) VALUES ('{id}', '{}', '{}', 1)",
            shop.id, shop.variant
        ))
        .await;
    let read = stack
        .order
        .client
        .get(
            stack
                .order
                .url(&format!("/v1/shops/{}/carts/{id}", shop.slug)),
        )
        .header("X-Cart-Token", token)
        .send()
        .await
        .unwrap();
    unavailable_without_the_address(read, port).await;
    let cart = (id.to_owned(), token.to_owned());
    let body = stack.checkout_body(&cart, &Uuid::now_v7().to_string(), "buyer@example.cn");
    let checkout = stack
        .checkout(&shop, &cart, &Uuid::now_v7().to_string(), &body)
        .await;
    unavailable_without_the_address(checkout, port).await;
    // Nothing was ordered.
    let orders = stack.order_rows("SELECT id FROM orders").await;
    assert!(orders.is_empty(), "{orders:?}");
}
