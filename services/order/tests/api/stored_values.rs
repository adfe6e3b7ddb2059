//! Statuses, payment kinds and currencies read from rows are what they say or an
//! error: a value the service does not know answers 500 (logged), never a default
//! that could, say, make a corrupted order payable or refundable.

use crate::helpers::{Shop, Stack, problem, spawn_stack, unique_email};
use serde_json::{Value, json};

/// Every way to read or pay the order answers 500 problem+json, without the
/// stored value in it; and the order stays unpaid.
async fn unreadable(stack: &Stack, shop: &Shop, order: &Value, stored: &str) {
    let id = order["id"].as_str().unwrap();
    let token = order["access_token"].as_str().unwrap();
    let client = &stack.order.client;
    let answers = [
        client
            .get(
                stack
                    .order
                    .url(&format!("/v1/shops/{}/orders/{id}", shop.slug)),
            )
            .header("X-Order-Token", token)
            .send()
            .await
            .unwrap(),
        stack.pay(shop, order, "4242424242424242").await,
        stack
            .order
            .get_with(&shop.owner, &format!("/v1/orders/{id}"))
            .await,
        stack.order.get_with(&shop.owner, "/v1/orders").await,
        stack
            .order
            .post_with(
                &shop.owner,
                &format!("/v1/orders/{id}/mark-paid"),
                &json!({}),
            )
            .await,
        stack
            .order
            .post_with(
                &shop.owner,
                &format!("/v1/orders/{id}/cancel"),
                &json!({"reason": "corrupted"}),
            )
            .await,
    ];
    for answer in answers {
        let url = answer.url().path().to_owned();
        let body = problem(answer, 500).await;
        assert_eq!(body["code"], "internal_error", "{url}: {body}");
        assert!(!body.to_string().contains(stored), "{url}: {body}");
    }
    // Nothing was paid or recorded.
    let rows = stack
        .order_rows(&format!(
            "SELECT status, currency, paid, paid_at, \
             (SELECT count(*) FROM payments WHERE order_id = o.id) AS payments, \
             (SELECT count(*) FROM payment_authorisations WHERE order_id = o.id) AS attempts \
             FROM orders o WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["paid"], 0, "{rows:?}");
    assert_eq!(rows[0]["paid_at"], Value::Null, "{rows:?}");
    assert_eq!(rows[0]["payments"], 0, "{rows:?}");
    assert_eq!(rows[0]["attempts"], 0, "{rows:?}");
}

#[tokio::test]
async fn an_order_with_an_unknown_stored_status_answers_500_and_cannot_be_paid() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    // Written as the database's owner, past the column's check: a status this
    // version of the service does not know (a newer one's, or damage).
    stack
        .order_sql(&format!(
            "ALTER TABLE orders DROP CONSTRAINT orders_status_check; \
             UPDATE orders SET status = 'on_hold' WHERE id = '{}'",
            order["id"].as_str().unwrap()
        ))
        .await;
    unreadable(&stack, &shop, &order, "on_hold").await;
    let rows = stack
        .order_rows(&format!(
            "SELECT status FROM orders WHERE id = '{}'",
            order["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rows[0]["status"], "on_hold");
}

#[tokio::test]
async fn an_order_with_an_unknown_stored_currency_answers_500_and_cannot_be_paid() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    stack
        .order_sql(&format!(
            "UPDATE orders SET currency = 'ZZZ' WHERE id = '{}'",
            order["id"].as_str().unwrap()
        ))
        .await;
    unreadable(&stack, &shop, &order, "ZZZ").await;

    // A cart's currency too: never read as yuan.
    let cart = stack.cart(&shop, 1).await;
    stack
        .order_sql(&format!(
            "UPDATE carts SET currency = 'ZZZ' WHERE id = '{}'",
            cart.0
        ))
        .await;
    let read = stack
        .order
        .client
        .get(
            stack
                .order
                .url(&format!("/v1/shops/{}/carts/{}", shop.slug, cart.0)),
        )
        .header("X-Cart-Token", &cart.1)
        .send()
        .await
        .unwrap();
    let body = problem(read, 500).await;
    assert_eq!(body["code"], "internal_error");
}

/// A paid order whose payment row holds a value this version does not know, written
/// as the database's owner past the column's check (`column`'s constraint dropped):
/// reading the order, by its buyer or its staff, and refunding it answer 500
/// problem+json without the value; no refund is recorded and no money moves.
async fn unreadable_payment(column: &str, stored: &str) {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.paid_order(&shop, 1).await;
    let id = order["id"].as_str().unwrap();
    stack
        .order_sql(&format!(
            "ALTER TABLE payments DROP CONSTRAINT payments_{column}_check; \
             UPDATE payments SET {column} = '{stored}' WHERE order_id = '{id}'"
        ))
        .await;
    let answers = [
        stack
            .order
            .client
            .get(
                stack
                    .order
                    .url(&format!("/v1/shops/{}/orders/{id}", shop.slug)),
            )
            .header("X-Order-Token", order["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
        stack
            .order
            .get_with(&shop.owner, &format!("/v1/orders/{id}"))
            .await,
        stack
            .order
            .post_with(
                &shop.owner,
                &format!("/v1/orders/{id}/refunds"),
                &json!({"amount": {"amount": 2000, "currency": "CNY"}, "reason": "一盒破损"}),
            )
            .await,
    ];
    for answer in answers {
        let url = answer.url().path().to_owned();
        let body = problem(answer, 500).await;
        assert_eq!(body["code"], "internal_error", "{url}: {body}");
        assert!(!body.to_string().contains(stored), "{url}: {body}");
    }
    let rows = stack
        .order_rows(&format!(
            "SELECT status, paid, refunded, \
             (SELECT count(*) FROM payments WHERE order_id = o.id) AS payments, \
             (SELECT {column} FROM payments WHERE order_id = o.id LIMIT 1) AS stored \
             FROM orders o WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "paid", "{rows:?}");
    assert_eq!(rows[0]["paid"], order["total"]["amount"], "{rows:?}");
    assert_eq!(rows[0]["refunded"], 0, "{rows:?}");
    assert_eq!(rows[0]["payments"], 1, "{rows:?}");
    assert_eq!(rows[0]["stored"], stored, "{rows:?}");
}

#[tokio::test]
async fn a_payment_with_an_unknown_stored_status_answers_500_and_is_not_refunded() {
    unreadable_payment("status", "disputed").await;
}

#[tokio::test]
async fn a_payment_with_an_unknown_stored_kind_answers_500_and_is_not_refunded() {
    unreadable_payment("kind", "chargeback").await;
}
