use crate::helpers::{Stack, problem, spawn_stack, unique_email};
use serde_json::{Value, json};

#[tokio::test]
async fn the_service_answers_its_operational_endpoints() {
    let stack = spawn_stack().await;
    stack.order.assert_operational_endpoints("order").await;
}

async fn usage(stack: &Stack, token: &str, query: &str) -> reqwest::Response {
    stack
        .order
        .get_with(token, &format!("/v1/operations/order/usage{query}"))
        .await
}

#[tokio::test]
async fn operators_read_each_shops_orders_this_month_and_net_sales_and_the_totals() {
    let stack = spawn_stack().await;
    let a = stack.shop_with(50, Some(3)).await;
    let b = stack.shop(50).await;

    // Shop A: an order of two months ago, which neither the quota nor this month's
    // sales count; then ¥80 paid, ¥161 paid with ¥20 refunded, and one unpaid.
    let old = stack.paid_order(&a, 1).await;
    stack
        .order_sql(&format!(
            "UPDATE orders SET created_at = now() - interval '2 months' WHERE id = '{}'",
            old["id"].as_str().unwrap()
        ))
        .await;
    stack.paid_order(&a, 1).await;
    let refunded = stack.paid_order(&a, 2).await;
    let refund = stack
        .order.post_with(&a.owner,
            &format!("/v1/orders/{}/refunds", refunded["id"].as_str().unwrap()),
            &json!({"amount": {"amount": 2000, "currency": "CNY"}, "reason": "One box arrived damaged"}),
        )
        .await;
    assert_eq!(refund.status(), 200);
    stack.place_order(&a, 1, &unique_email("buyer")).await;
    // Shop B: ¥80 paid.
    stack.paid_order(&b, 1).await;

    let operator = stack.tenant.keys.operator();
    let of_a: Value = usage(&stack, &operator, &format!("?tenant_id={}", a.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        of_a,
        json!({
            "tenant_id": a.id, "counts": {"orders_this_month": 3},
            "sales": [{"amount": 8000 + 16100 - 2000, "currency": "CNY"}]
        })
    );
    // The same net as the shop's own summary says.
    let summary: Value = stack
        .order
        .get_with(&a.owner, "/v1/orders/summary")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(summary["sales"][0]["net"], of_a["sales"][0]);

    let of_b: Value = usage(&stack, &operator, &format!("?tenant_id={}", b.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(of_b["counts"], json!({"orders_this_month": 1}));
    assert_eq!(of_b["sales"], json!([{"amount": 8000, "currency": "CNY"}]));
    let total: Value = usage(&stack, &operator, "").await.json().await.unwrap();
    assert_eq!(
        total,
        json!({
            "tenant_id": null, "counts": {"orders_this_month": 4},
            "sales": [{"amount": 22100 + 8000, "currency": "CNY"}]
        })
    );

    // The quota counts as usage does: shop A has used its 3 orders this month.
    let cart = stack.cart(&a, 1).await;
    let rate = stack.rate_for(&a, &cart).await;
    let body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    let refused = stack.checkout(&a, &cart, "fourth", &body).await;
    assert_eq!(problem(refused, 403).await["code"], "quota_exceeded");
}

#[tokio::test]
async fn usage_is_for_operators_and_takes_a_shop_id() {
    let stack = spawn_stack().await;
    let a = stack.shop(5).await;
    let refused = usage(&stack, &a.owner, &format!("?tenant_id={}", a.id)).await;
    assert_eq!(problem(refused, 403).await["code"], "forbidden");
    let anonymous = stack
        .order
        .client
        .get(stack.order.url("/v1/operations/order/usage"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let operator = stack.tenant.keys.operator();
    let malformed = usage(&stack, &operator, "?tenant_id=%20nope").await;
    assert_eq!(
        problem(malformed, 422).await["errors"][0]["field"],
        "tenant_id"
    );
    let unknown = usage(
        &stack,
        &operator,
        &format!("?tenant_id={}", uuid::Uuid::now_v7()),
    )
    .await;
    assert_eq!(problem(unknown, 404).await["code"], "not_found");
}
