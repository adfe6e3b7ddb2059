use crate::helpers::{Stack, spawn_stack, unique_email};
use caravan_order::payments::cards;
use serde_json::Value;
use uuid::Uuid;

/// `buyers` guest carts of `quantity` each, ready to check out.
async fn prepared(
    stack: &Stack,
    shop: &crate::helpers::Shop,
    buyers: usize,
    quantity: i32,
) -> Vec<((String, String), Value, String)> {
    let mut carts = Vec::with_capacity(buyers);
    let mut rate = None;
    for _ in 0..buyers {
        let cart = stack.cart(shop, quantity).await;
        if rate.is_none() {
            rate = Some(stack.rate_for(shop, &cart).await);
        }
        let body = stack.checkout_body(&cart, rate.as_deref().unwrap(), &unique_email("buyer"));
        carts.push((cart, body, Uuid::now_v7().to_string()));
    }
    carts
}

#[tokio::test]
async fn the_last_units_go_to_as_many_buyers_as_there_are_units() {
    let stack = spawn_stack().await;
    let shop = stack.shop(5).await;
    let carts = prepared(&stack, &shop, 25, 1).await;
    let answers = futures_util::future::join_all(
        carts
            .iter()
            .map(|(cart, body, key)| stack.checkout(&shop, cart, key, body)),
    )
    .await;
    let mut won = 0;
    let mut lost = 0;
    for answer in answers {
        match answer.status().as_u16() {
            201 => won += 1,
            409 => {
                let problem: Value = answer.json().await.unwrap();
                assert_eq!(problem["code"], "insufficient_stock");
                lost += 1;
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!((won, lost), (5, 20));
    // Exactly the five winners hold stock: nothing oversold, nothing leaked.
    assert_eq!(stack.stock(&shop, shop.variant).await, (5, 5));
}

#[tokio::test]
async fn order_numbers_are_sequential_without_gaps_under_200_concurrent_checkouts() {
    let stack = spawn_stack().await;
    let shop = stack.shop(1000).await;
    let carts = prepared(&stack, &shop, 200, 1).await;
    let answers = futures_util::future::join_all(
        carts
            .iter()
            .map(|(cart, body, key)| stack.checkout(&shop, cart, key, body)),
    )
    .await;
    let mut numbers = Vec::new();
    for answer in answers {
        assert_eq!(answer.status(), 201);
        let order: Value = answer.json().await.unwrap();
        numbers.push(order["number"].as_i64().unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1001..=1200).collect::<Vec<i64>>());
    assert_eq!(stack.stock(&shop, shop.variant).await, (1000, 200));
}

#[tokio::test]
async fn concurrent_refunds_never_return_more_than_was_paid() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.paid_order(&shop, 1).await;
    let total = order["total"]["amount"].as_i64().unwrap();
    let path = format!("/v1/orders/{}/refunds", order["id"].as_str().unwrap());
    let half_and_more = serde_json::json!({"amount": {"amount": total / 2 + 1, "currency": "CNY"}});
    let answers = futures_util::future::join_all(
        (0..6).map(|_| stack.post_order(Some(&shop.owner), &path, &half_and_more)),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 422),
        "{statuses:?}"
    );
    let after: Value = stack
        .get_order(
            Some(&shop.owner),
            &format!("/v1/orders/{}", order["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["refunded"]["amount"], total / 2 + 1);
    assert_eq!(after["status"], "partially_refunded");
}

#[tokio::test]
async fn payments_of_one_order_racing_pay_it_once() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let answers =
        futures_util::future::join_all((0..4).map(|_| stack.pay(&shop, &order, cards::SUCCEEDS)))
            .await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    statuses.sort_unstable();
    // One is paid; the others find it in progress, or already paid.
    assert_eq!(statuses, [200, 409, 409, 409]);
    for answer in answers {
        if answer.status() == 409 {
            let problem: Value = answer.json().await.unwrap();
            assert_eq!(problem["code"], "invalid_status_change", "{problem}");
        }
    }
    let view: Value = stack
        .get_order(
            Some(&shop.owner),
            &format!("/v1/orders/{}", order["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "paid");
    assert_eq!(view["paid"], order["total"]);
    let succeeded: Vec<&Value> = view["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "succeeded")
        .collect();
    assert_eq!(succeeded.len(), 1, "{view}");
    stack.wait_for_stock(&shop, shop.variant, (9, 0)).await;
}
