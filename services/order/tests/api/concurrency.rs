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
        let status = answer.status();
        let order: Value = answer.json().await.unwrap();
        assert_eq!(status, 201, "{order}");
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
        (0..6).map(|_| stack.order.post_with(&shop.owner, &path, &half_and_more)),
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
        .order
        .get_with(
            &shop.owner,
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
            // In progress (the first attempt is between its two transactions), or
            // already paid; both leave the order paid once.
            assert!(
                problem["code"] == "payment_in_progress"
                    || problem["code"] == "invalid_status_change",
                "{problem}"
            );
        }
    }
    let view: Value = stack
        .order
        .get_with(
            &shop.owner,
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

/// The refunds recorded for `order` and its `paid` and `refunded`, read as the owner.
async fn ledger(stack: &Stack, order: &str) -> (Vec<(String, i64)>, i64, i64) {
    let refunds = stack
        .order_rows(&format!(
            "SELECT status, amount FROM payments WHERE order_id = '{order}' AND kind = 'refund'"
        ))
        .await
        .iter()
        .map(|row| {
            (
                row["status"].as_str().unwrap().to_owned(),
                row["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    let totals = stack
        .order_rows(&format!(
            "SELECT paid, refunded FROM orders WHERE id = '{order}'"
        ))
        .await;
    (
        refunds,
        totals[0]["paid"].as_i64().unwrap(),
        totals[0]["refunded"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn refunds_racing_for_what_is_left_return_it_once_and_the_ledger_adds_up() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.paid_order(&shop, 1).await;
    let id = order["id"].as_str().unwrap();
    let total = order["total"]["amount"].as_i64().unwrap();
    let path = format!("/v1/orders/{id}/refunds");
    let part = serde_json::json!({"amount": {"amount": total / 3, "currency": "CNY"}});
    let answer = stack.order.post_with(&shop.owner, &path, &part).await;
    assert_eq!(answer.status().as_u16(), 200);

    // Each asks for everything left: whichever is recorded first takes it, and the
    // others find nothing left, whether it is still in flight or already returned.
    let everything_left = serde_json::json!({});
    let answers = futures_util::future::join_all(
        (0..4).map(|_| stack.order.post_with(&shop.owner, &path, &everything_left)),
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

    let (refunds, paid, refunded) = ledger(&stack, id).await;
    assert_eq!(paid, total);
    assert_eq!(refunded, total);
    assert!(
        refunds.iter().all(|(status, _)| status == "succeeded"),
        "{refunds:?}"
    );
    assert_eq!(refunds.iter().map(|(_, amount)| amount).sum::<i64>(), total);
    assert_eq!(refunds.len(), 2, "{refunds:?}");
    let after = stack.staff_view(&shop, &order).await;
    assert_eq!(after["status"], "refunded");
    assert_eq!(after["refunded"]["amount"], total);
}

#[tokio::test]
async fn a_cancellation_racing_refunds_gives_the_money_back_once() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.paid_order(&shop, 1).await;
    let id = order["id"].as_str().unwrap();
    let total = order["total"]["amount"].as_i64().unwrap();
    let refunds = format!("/v1/orders/{id}/refunds");
    let cancel = format!("/v1/orders/{id}/cancel");
    let everything_left = serde_json::json!({});
    let reason = serde_json::json!({"reason": "Buyer asked to cancel"});
    let (cancelled, refunded) = tokio::join!(
        stack.order.post_with(&shop.owner, &cancel, &reason),
        futures_util::future::join_all((0..3).map(|_| stack.order.post_with(
            &shop.owner,
            &refunds,
            &everything_left
        )),),
    );
    let statuses: Vec<u16> = refunded.iter().map(|a| a.status().as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 422),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{statuses:?}"
    );
    // Cancelled, unless a refund returned everything before the cancellation began.
    let after = stack.staff_view(&shop, &order).await;
    match cancelled.status().as_u16() {
        200 => assert_eq!(after["status"], "cancelled"),
        409 => assert_eq!(after["status"], "refunded"),
        other => panic!("cancel answered {other}"),
    }

    let (refunds, paid, refunded) = ledger(&stack, id).await;
    assert_eq!(paid, total);
    assert_eq!(refunded, total);
    assert!(
        refunds.iter().all(|(status, _)| status == "succeeded"),
        "{refunds:?}"
    );
    assert_eq!(refunds.iter().map(|(_, amount)| amount).sum::<i64>(), total);
    assert_eq!(after["refunded"]["amount"], total);
}

/// Records a refund of `amount` of `order` as pending, as one whose provider has
/// not answered yet.
async fn refund_in_flight(stack: &Stack, order: &str, amount: i64) {
    stack
        .order_sql(&format!(
            "INSERT INTO payments (id, tenant_id, order_id, provider, kind, status, amount, actor) \
             SELECT gen_random_uuid(), tenant_id, id, 'test', 'refund', 'pending', {amount}, 'test' \
             FROM orders WHERE id = '{order}'"
        ))
        .await;
}

#[tokio::test]
async fn money_being_refunded_counts_as_refunded_for_refunds_and_cancellations() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;

    let order = stack.paid_order(&shop, 1).await;
    let id = order["id"].as_str().unwrap();
    let total = order["total"]["amount"].as_i64().unwrap();
    let in_flight = total / 2;
    let left = total - in_flight;
    refund_in_flight(&stack, id, in_flight).await;
    let path = format!("/v1/orders/{id}/refunds");
    let too_much = serde_json::json!({"amount": {"amount": left + 1, "currency": "CNY"}});
    let answer = stack.order.post_with(&shop.owner, &path, &too_much).await;
    assert_eq!(answer.status().as_u16(), 422);
    assert!(answer.text().await.unwrap().contains("being refunded"));
    let answer = stack
        .order
        .post_with(&shop.owner, &path, &serde_json::json!({}))
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    let after: Value = answer.json().await.unwrap();
    assert_eq!(after["refunded"]["amount"], left);
    // The refund in flight has not come back yet.
    assert_eq!(after["status"], "partially_refunded");
    let (refunds, _, refunded) = ledger(&stack, id).await;
    assert_eq!(refunded, left);
    assert_eq!(refunds.len(), 2, "{refunds:?}");

    // A cancellation gives back only what is not being refunded already.
    let order = stack.paid_order(&shop, 1).await;
    let id = order["id"].as_str().unwrap();
    refund_in_flight(&stack, id, in_flight).await;
    let cancel = format!("/v1/orders/{id}/cancel");
    let reason = serde_json::json!({"reason": "Buyer asked to cancel"});
    let answer = stack.order.post_with(&shop.owner, &cancel, &reason).await;
    assert_eq!(answer.status().as_u16(), 200);
    let after: Value = answer.json().await.unwrap();
    assert_eq!(after["status"], "cancelled");
    assert_eq!(after["refunded"]["amount"], left);
    let (refunds, paid, refunded) = ledger(&stack, id).await;
    assert_eq!((paid, refunded), (total, left));
    let pending: Vec<_> = refunds.iter().filter(|(s, _)| s == "pending").collect();
    assert_eq!(pending, [&("pending".to_owned(), in_flight)]);
}

#[tokio::test]
async fn a_sold_out_variant_is_refused_at_once_and_sold_again_within_a_second_of_a_restock() {
    let stack = spawn_stack().await;
    let shop = stack.shop(1).await;
    let carts = prepared(&stack, &shop, 8, 1).await;
    let mut carts = carts.into_iter();
    let first = carts.next().unwrap();
    let (cart, body, key) = &first;
    assert_eq!(stack.checkout(&shop, cart, key, body).await.status(), 201);

    // The next buyer finds it sold out, and so does everyone after, with the same
    // answer, until the mark lapses.
    let (cart, body, key) = carts.next().unwrap();
    let refused = stack.checkout(&shop, &cart, &key, &body).await;
    assert_eq!(refused.status(), 409);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "insufficient_stock");
    assert_eq!(problem["errors"][0]["field"], "lines[0]");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("1 requested, 0 available"), "{message}");
    // A retry with the same key is told the same.
    let replay = stack.checkout(&shop, &cart, &key, &body).await;
    assert_eq!(replay.status(), 409);
    // The buyer who took the last unit and retries is answered the order, not
    // "sold out".
    let (winner, winner_body, winner_key) = &first;
    let again = stack.checkout(&shop, winner, winner_key, winner_body).await;
    assert_eq!(again.status(), 201);
    // With a new key, that buyer is told the cart became an order, not "sold out".
    let renewed = stack
        .checkout(&shop, winner, "another-attempt", winner_body)
        .await;
    assert_eq!(renewed.status(), 409);
    let renewed: Value = renewed.json().await.unwrap();
    assert_eq!(renewed["code"], "cart_checked_out");

    // The shop restocks: the mark lapses within a second and the variant sells.
    let restocked = stack
        .catalog
        .post_with(
            &shop.owner,
            "/v1/inventory/adjustments",
            &serde_json::json!({"variant_id": shop.variant, "delta": 3, "reason": "received"}),
        )
        .await;
    assert_eq!(
        restocked.status(),
        200,
        "{}",
        restocked.text().await.unwrap()
    );
    let restocked_at = std::time::Instant::now();
    let mut sold = false;
    for (cart, body, key) in carts {
        let answer = stack.checkout(&shop, &cart, &key, &body).await;
        match answer.status().as_u16() {
            201 => {
                sold = true;
                break;
            }
            409 => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert!(sold, "nothing sold after the restock");
    assert!(
        restocked_at.elapsed() < std::time::Duration::from_millis(1500),
        "sold {:?} after the restock",
        restocked_at.elapsed()
    );
    // Nothing oversold: 4 on hand, 2 held.
    assert_eq!(stack.stock(&shop, shop.variant).await, (4, 2));
}

#[tokio::test]
async fn parallel_checkouts_take_exactly_the_orders_the_plan_has_left_this_month() {
    let stack = spawn_stack().await;
    let shop = stack.shop_with(100, Some(7)).await;
    for _ in 0..2 {
        stack.place_order(&shop, 1, &unique_email("buyer")).await;
    }

    // Five orders left this month; twenty buyers check out at once.
    let carts = prepared(&stack, &shop, 20, 1).await;
    let answers = futures_util::future::join_all(
        carts
            .iter()
            .map(|(cart, body, key)| stack.checkout(&shop, cart, key, body)),
    )
    .await;
    let mut won = 0;
    for answer in answers {
        match answer.status().as_u16() {
            201 => won += 1,
            403 => {
                let problem: Value = answer.json().await.unwrap();
                assert_eq!(problem["code"], "quota_exceeded", "{problem}");
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!(won, 5);
    // The refused hold nothing: only the seven orders' units are reserved.
    assert_eq!(stack.stock(&shop, shop.variant).await, (100, 7));
    let orders = stack
        .order_rows(&format!(
            "SELECT count(*) AS n FROM orders WHERE tenant_id = '{}'",
            shop.id
        ))
        .await;
    assert_eq!(orders[0]["n"], 7);
}
