//! Group deals (拼团): a group forms when its last place is paid, fails and refunds
//! everyone when its time runs out (time is moved in the database), never holds
//! more orders than its size nor sells more units than its deal allows, whatever
//! the concurrency, and is invisible to other shops.

use crate::helpers::{Shop, Stack, problem, spawn_stack_with, unique_email};
use caravan_shared::testing::wait_for_mail;
use reqwest::Response;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

const CARD: &str = "4242424242424242";

async fn stack() -> Stack {
    spawn_stack_with(false, &[("SWEEP_INTERVAL_MS", "100")]).await
}

/// A live deal on the shop's variant (normal price ¥68.00): ¥59.00 in a group of
/// `size`, open 24 hours, at most `units` units.
async fn deal(stack: &Stack, shop: &Shop, size: i32, units: i32) -> Value {
    let response = stack
        .order
        .post_with(
            &shop.owner,
            "/v1/group-deals",
            &json!({
                "variant_id": shop.variant, "prices": [{"amount": 5900, "currency": "CNY"}],
                "group_size": size, "open_hours": 24, "max_units": units,
                "ends_at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// A buyer's checkout of `quantity` units at the group price, opening or joining
/// (`group`: `{"deal_id"}` or `{"group_id"}`).
async fn group_checkout(stack: &Stack, shop: &Shop, quantity: i32, group: Value) -> Response {
    let cart = stack.cart(shop, quantity).await;
    let rate = stack.rate_for(shop, &cart).await;
    let mut body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    body["group"] = group;
    stack
        .checkout(shop, &cart, &Uuid::now_v7().to_string(), &body)
        .await
}

/// `buyers` group checkouts of one unit each (`group` as in [`group_checkout`]),
/// their carts ready first and then sent all at once; answers them in order.
async fn race(stack: &Stack, shop: &Shop, buyers: usize, group: Value) -> Vec<Response> {
    let mut carts = Vec::new();
    for _ in 0..buyers {
        let cart = stack.cart(shop, 1).await;
        let rate = stack.rate_for(shop, &cart).await;
        let mut body = stack.checkout_body(&cart, &rate, &unique_email("racer"));
        body["group"] = group.clone();
        carts.push((cart, body));
    }
    let attempts = carts.iter().map(|(cart, body)| {
        stack
            .order
            .client
            .post(
                stack
                    .order
                    .url(&format!("/v1/shops/{}/checkout", shop.slug)),
            )
            .header("X-Cart-Token", &cart.1)
            .header("Idempotency-Key", Uuid::now_v7().to_string())
            .json(body)
            .send()
    });
    futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

async fn open(stack: &Stack, shop: &Shop, deal: &Value) -> Value {
    let response = group_checkout(stack, shop, 1, json!({"deal_id": deal["id"]})).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn join(stack: &Stack, shop: &Shop, group: &str) -> Value {
    let response = group_checkout(stack, shop, 1, json!({"group_id": group})).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn pay(stack: &Stack, shop: &Shop, order: &Value) -> Value {
    let paid = stack.pay(shop, order, CARD).await;
    assert_eq!(paid.status(), 200);
    paid.json().await.unwrap()
}

async fn count(stack: &Stack, sql: &str) -> i64 {
    stack.order_rows(sql).await[0]["count"].as_i64().unwrap()
}

/// Waits until `sql` counts `expected`.
async fn wait_for_count(stack: &Stack, sql: &str, expected: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = count(stack, sql).await;
        if found == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: {found}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_group_forms_when_its_last_place_is_paid() {
    let stack = stack().await;
    let shop = stack.shop(20).await;
    let deal = deal(&stack, &shop, 3, 10).await;
    assert_eq!(deal["status"], "live");
    assert_eq!(deal["regular_prices"][0]["amount"], 6800);
    assert_eq!(deal["editable"], true);

    // The opener checks out at the group price and pays: paid, waiting for the group.
    let first = open(&stack, &shop, &deal).await;
    assert_eq!(first["status"], "pending_payment");
    assert_eq!(first["lines"][0]["unit_price"]["amount"], 5900);
    assert_eq!(first["total"]["amount"], 5900 + 1200);
    let group = first["group"]["id"].as_str().unwrap().to_owned();
    assert_eq!(first["group"]["status"], "forming");
    assert_eq!(first["group"]["group_size"], 3);
    let paid = pay(&stack, &shop, &first).await;
    assert_eq!(paid["status"], "awaiting_group");
    assert_eq!(paid["group"]["joined"], 1);
    // Its stock stays held, not sold, until the group forms.
    stack.wait_for_stock(&shop, shop.variant, (20, 1)).await;

    // The share page, as a friend opens it.
    let page: Value = stack
        .order
        .get(&format!("/v1/shops/{}/groups/{group}", shop.slug))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["joined"], 1);
    assert_eq!(page["places_left"], 2);
    assert_eq!(page["deal"]["prices"][0]["amount"], 5900);
    assert_eq!(page["deal"]["regular_prices"][0]["amount"], 6800);

    // Terms are fixed once a group opened.
    let edit = stack
        .order
        .patch_with(
            &shop.owner,
            &format!("/v1/group-deals/{}", deal["id"].as_str().unwrap()),
            &json!({"group_size": 2}),
        )
        .await;
    assert_eq!(edit.status(), 409);
    assert_eq!(problem(edit, 409).await["code"], "deal_locked");

    let second = join(&stack, &shop, &group).await;
    assert_eq!(
        pay(&stack, &shop, &second).await["status"],
        "awaiting_group"
    );
    let third = join(&stack, &shop, &group).await;
    let started = Instant::now();
    let last = pay(&stack, &shop, &third).await;
    let formed_in = started.elapsed();
    // The last payment forms the group in its own transaction: every order is paid
    // by the time its answer arrives.
    assert_eq!(last["status"], "paid");
    assert_eq!(last["group"]["status"], "formed");
    for order in [&first, &second] {
        assert_eq!(stack.staff_view(&shop, order).await["status"], "paid");
    }
    let paid_before_answer = count(
        &stack,
        &format!(
            "SELECT count(*) FROM orders WHERE group_id = '{group}' AND status = 'paid' \
             AND updated_at = (SELECT updated_at FROM orders WHERE id = '{}')",
            third["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(paid_before_answer, 3);
    println!(
        "group of 3: from the 3rd join's payment to every order paid: {} ms (one request, one transaction)",
        formed_in.as_millis()
    );
    // Sold: three units leave the shelf.
    stack.wait_for_stock(&shop, shop.variant, (17, 0)).await;

    // A fourth buyer is told it formed, and offered the deal.
    let late = group_checkout(&stack, &shop, 1, json!({"group_id": group})).await;
    assert_eq!(late.status(), 409);
    let late = problem(late, 409).await;
    assert_eq!(late["code"], "group_closed");
    assert_eq!(late["errors"][0]["field"], "deal_id");
    assert_eq!(late["errors"][0]["message"], deal["id"]);

    // Events, and an email to every buyer.
    let events = stack
        .order_rows(
            "SELECT event_type, count(*) AS n FROM outbox WHERE event_type LIKE 'group.%' \
             OR event_type = 'order.paid' GROUP BY event_type ORDER BY event_type",
        )
        .await;
    assert_eq!(
        events,
        vec![
            json!({"event_type": "group.formed", "n": 1}),
            json!({"event_type": "group.joined", "n": 3}),
            json!({"event_type": "group.opened", "n": 1}),
            json!({"event_type": "order.paid", "n": 3}),
        ]
    );
    let formed = stack
        .order_rows("SELECT data FROM outbox WHERE event_type = 'group.formed'")
        .await;
    assert_eq!(formed[0]["data"]["joined"], 3);
    assert_eq!(formed[0]["data"]["orders"].as_array().unwrap().len(), 3);
    for order in [&first, &second, &third] {
        let mails = wait_for_mail(order["email"].as_str().unwrap(), 2)
            .await
            .unwrap();
        let placed = mails.iter().find(|m| m.subject.contains("已收到")).unwrap();
        let link = format!("/s/{}/zh-CN/g/{group}", shop.slug);
        assert!(placed.text.contains(&link), "{mails:?}");
        assert!(
            mails.iter().any(|m| m.subject.contains("拼团成功")),
            "{mails:?}"
        );
    }

    // Staff see the deal and the group with its orders.
    let seen: Value = stack
        .order
        .get_with(
            &shop.owner,
            &format!("/v1/group-deals/{}", deal["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["units_taken"], 3);
    assert_eq!(
        seen["groups"],
        json!({"forming": 0, "formed": 1, "failed": 0})
    );
    assert_eq!(seen["editable"], false);
    let group_view: Value = stack
        .order
        .get_with(&shop.owner, &format!("/v1/groups/{group}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(group_view["status"], "formed");
    assert_eq!(group_view["orders"].as_array().unwrap().len(), 3);
    let listed: Value = stack
        .order
        .get_with(
            &shop.owner,
            &format!(
                "/v1/group-deals/{}/groups?status=formed",
                deal["id"].as_str().unwrap()
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], group.as_str());
    assert_eq!(listed["items"][0]["joined"], 3);
}

#[tokio::test]
async fn the_largest_group_forms_in_its_last_payment() {
    let stack = stack().await;
    let shop = stack.shop(60).await;
    let deal = deal(&stack, &shop, 50, 60).await;
    let first = open(&stack, &shop, &deal).await;
    let group = first["group"]["id"].as_str().unwrap().to_owned();
    pay(&stack, &shop, &first).await;
    let mut joined = Vec::new();
    for _ in 0..49 {
        joined.push(join(&stack, &shop, &group).await);
    }
    let last = joined.pop().unwrap();
    for order in &joined {
        assert_eq!(pay(&stack, &shop, order).await["status"], "awaiting_group");
    }
    let started = Instant::now();
    let formed = pay(&stack, &shop, &last).await;
    let took = started.elapsed();
    assert_eq!(formed["status"], "paid");
    assert_eq!(formed["group"]["joined"], 50);
    let paid = count(
        &stack,
        &format!("SELECT count(*) FROM orders WHERE group_id = '{group}' AND status = 'paid'"),
    )
    .await;
    assert_eq!(paid, 50);
    println!(
        "group of 50: the 50th payment answered with all 50 orders paid in {} ms",
        took.as_millis()
    );
    stack.wait_for_stock(&shop, shop.variant, (10, 0)).await;
}

#[tokio::test]
async fn a_group_that_runs_out_of_time_fails_and_everyone_is_refunded_in_full() {
    let stack = stack().await;
    let shop = stack.shop(20).await;
    let deal = deal(&stack, &shop, 3, 10).await;
    let first = open(&stack, &shop, &deal).await;
    let group = first["group"]["id"].as_str().unwrap().to_owned();
    pay(&stack, &shop, &first).await;
    let second = join(&stack, &shop, &group).await;
    pay(&stack, &shop, &second).await;
    // A third joins but has not paid yet.
    let third = join(&stack, &shop, &group).await;
    stack.wait_for_stock(&shop, shop.variant, (20, 3)).await;

    // Its 24 hours pass.
    stack
        .order_sql(&format!(
            "UPDATE groups SET expires_at = now() - interval '1 second' WHERE id = '{group}'"
        ))
        .await;
    wait_for_count(
        &stack,
        &format!(
            "SELECT count(*) FROM groups WHERE id = '{group}' AND status = 'failed' \
             AND settled_at IS NOT NULL"
        ),
        1,
    )
    .await;
    // The group failed no later than its orders were cancelled.
    let order = stack
        .order_rows(&format!(
            "SELECT count(*) FROM orders o JOIN groups g ON g.id = o.group_id \
             WHERE g.id = '{group}' AND o.cancelled_at < g.failed_at"
        ))
        .await;
    assert_eq!(order[0]["count"], 0);
    for order in [&first, &second] {
        let view = stack.staff_view(&shop, order).await;
        assert_eq!(view["status"], "cancelled");
        assert_eq!(view["paid"]["amount"], 7100);
        assert_eq!(view["refunded"]["amount"], 7100);
        assert_eq!(view["cancel_reason"], "the group did not form in time");
    }
    let unpaid = stack.staff_view(&shop, &third).await;
    assert_eq!(unpaid["status"], "cancelled");
    assert_eq!(unpaid["refunded"]["amount"], 0);
    // Every unit goes back on the shelf.
    stack.wait_for_stock(&shop, shop.variant, (20, 0)).await;
    let failed = stack
        .order_rows("SELECT data FROM outbox WHERE event_type = 'group.failed'")
        .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["data"]["orders"].as_array().unwrap().len(), 3);
    for order in [&first, &second, &third] {
        let mails = wait_for_mail(order["email"].as_str().unwrap(), 2)
            .await
            .unwrap();
        assert!(
            mails
                .iter()
                .any(|m| m.text.contains("拼团未能在时限内凑齐人数")),
            "{mails:?}"
        );
    }
    // Too late to join or pay.
    let late = group_checkout(&stack, &shop, 1, json!({"group_id": group})).await;
    assert_eq!(late.status(), 409);
    assert_eq!(problem(late, 409).await["code"], "group_closed");
    let paid_late = stack.pay(&shop, &third, CARD).await;
    assert_eq!(paid_late.status(), 409);
}

#[tokio::test]
async fn buyers_racing_for_the_last_places_never_overfill_a_group() {
    let stack = stack().await;
    let shop = stack.shop(50).await;
    let deal = deal(&stack, &shop, 4, 50).await;
    let first = open(&stack, &shop, &deal).await;
    let group = first["group"]["id"].as_str().unwrap().to_owned();
    pay(&stack, &shop, &first).await;

    // Twelve buyers race for the last three places.
    let answers = race(&stack, &shop, 12, json!({"group_id": group})).await;
    let mut placed = Vec::new();
    let mut full = 0;
    for answer in answers {
        match answer.status().as_u16() {
            201 => placed.push(answer.json::<Value>().await.unwrap()),
            409 => {
                assert_eq!(problem(answer, 409).await["code"], "group_full");
                full += 1;
            }
            other => panic!("a join answered {other}"),
        }
    }
    assert_eq!((placed.len(), full), (3, 9));

    // All three pay at once: the group forms with exactly four paid orders.
    let payments = placed
        .iter()
        .map(|order| stack.pay_request(&shop, order, CARD).send());
    for paid in futures_util::future::join_all(payments).await {
        assert_eq!(paid.unwrap().status(), 200);
    }
    let orders = stack
        .order_rows(&format!(
            "SELECT status FROM orders WHERE group_id = '{group}'"
        ))
        .await;
    assert_eq!(orders.len(), 4);
    assert!(orders.iter().all(|o| o["status"] == "paid"), "{orders:?}");
    stack.wait_for_stock(&shop, shop.variant, (46, 0)).await;
}

#[tokio::test]
async fn a_deal_never_sells_more_units_than_it_may() {
    let stack = stack().await;
    let shop = stack.shop(50).await;
    let deal = deal(&stack, &shop, 2, 5).await;
    // Ten buyers open groups of one unit each at once; the deal has five units.
    let answers = race(&stack, &shop, 10, json!({"deal_id": deal["id"]})).await;
    let mut statuses = Vec::new();
    for answer in answers {
        let status = answer.status().as_u16();
        if status == 409 {
            assert_eq!(problem(answer, 409).await["code"], "deal_sold_out");
        }
        statuses.push(status);
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 201, 201, 201, 409, 409, 409, 409, 409]);
    // Nothing of the refused ones stays reserved.
    stack.wait_for_stock(&shop, shop.variant, (50, 5)).await;
    let seen: Value = stack
        .order
        .get_with(
            &shop.owner,
            &format!("/v1/group-deals/{}", deal["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["units_taken"], 5);
}

#[tokio::test]
async fn an_unpaid_join_gives_its_place_back_when_its_payment_window_passes() {
    let stack = stack().await;
    let shop = stack.shop(20).await;
    let deal = deal(&stack, &shop, 2, 10).await;
    let first = open(&stack, &shop, &deal).await;
    let group = first["group"]["id"].as_str().unwrap().to_owned();
    pay(&stack, &shop, &first).await;
    let idle = join(&stack, &shop, &group).await;
    // Its place is held while it may still pay.
    let refused = group_checkout(&stack, &shop, 1, json!({"group_id": group})).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(problem(refused, 409).await["code"], "group_full");

    // Its payment window passes.
    stack
        .order_sql(&format!(
            "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = '{id}'; \
             UPDATE order_deadlines SET due_at = now() - interval '1 second' WHERE order_id = '{id}'",
            id = idle["id"].as_str().unwrap()
        ))
        .await;
    wait_for_count(
        &stack,
        &format!(
            "SELECT count(*) FROM orders WHERE id = '{}' AND status = 'expired'",
            idle["id"].as_str().unwrap()
        ),
        1,
    )
    .await;
    let second = join(&stack, &shop, &group).await;
    assert_eq!(pay(&stack, &shop, &second).await["status"], "paid");
    assert_eq!(stack.staff_view(&shop, &first).await["status"], "paid");
}

#[tokio::test]
async fn deals_are_checked_and_open_only_while_they_run() {
    let stack = stack().await;
    let shop = stack.shop(20).await;
    let week = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let bad = stack
        .order
        .post_with(
            &shop.owner,
            "/v1/group-deals",
            &json!({
                "variant_id": shop.variant, "prices": [{"amount": 6800, "currency": "CNY"}, {"amount": 900, "currency": "KZT"}],
                "group_size": 51, "open_hours": 0, "max_units": 0, "ends_at": week,
            }),
        )
        .await;
    assert_eq!(bad.status(), 422);
    let fields: Vec<String> = problem(bad, 422).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["group_size", "open_hours", "max_units"]);
    let priced = stack
        .order
        .post_with(
            &shop.owner,
            "/v1/group-deals",
            &json!({
                "variant_id": shop.variant, "prices": [{"amount": 6800, "currency": "CNY"}, {"amount": 900, "currency": "KZT"}],
                "group_size": 2, "open_hours": 1, "max_units": 5, "ends_at": week,
            }),
        )
        .await;
    assert_eq!(priced.status(), 422);
    let errors = problem(priced, 422).await["errors"].clone();
    assert_eq!(errors[0]["field"], "prices[0].amount");
    assert_eq!(errors[1]["field"], "prices[1].currency");
    let unknown = stack
        .order
        .post_with(
            &shop.owner,
            "/v1/group-deals",
            &json!({
                "variant_id": Uuid::now_v7(), "prices": [{"amount": 5000, "currency": "CNY"}],
                "group_size": 2, "open_hours": 1, "max_units": 5, "ends_at": week,
            }),
        )
        .await;
    assert_eq!(unknown.status(), 422);
    assert_eq!(
        problem(unknown, 422).await["errors"][0]["field"],
        "variant_id"
    );
    assert_eq!(count(&stack, "SELECT count(*) FROM group_deals").await, 0);

    // A deal that starts tomorrow opens no group today, and is not on show.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let later: Value = stack
        .order
        .post_with(
            &shop.owner,
            "/v1/group-deals",
            &json!({
                "variant_id": shop.variant, "prices": [{"amount": 5000, "currency": "CNY"}],
                "group_size": 2, "open_hours": 1, "max_units": 5, "starts_at": tomorrow, "ends_at": week,
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later["status"], "scheduled");
    let early = group_checkout(&stack, &shop, 1, json!({"deal_id": later["id"]})).await;
    assert_eq!(early.status(), 409);
    assert_eq!(problem(early, 409).await["code"], "deal_not_live");
    let on_show: Value = stack
        .order
        .get(&format!(
            "/v1/shops/{}/group-deals?product_id={}",
            shop.slug, shop.product
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(on_show["items"], json!([]));

    // Moved to today, it opens; ended, it does not.
    let edited = stack
        .order
        .patch_with(
            &shop.owner,
            &format!("/v1/group-deals/{}", later["id"].as_str().unwrap()),
            &json!({"starts_at": chrono::Utc::now().to_rfc3339()}),
        )
        .await;
    assert_eq!(edited.status(), 200);
    let on_show: Value = stack
        .order
        .get(&format!(
            "/v1/shops/{}/group-deals?product_id={}",
            shop.slug, shop.product
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(on_show["items"][0]["id"], later["id"]);
    assert_eq!(on_show["items"][0]["units_left"], 5);
    // Only the deal's variant, alone, buys at the group price.
    let two = group_checkout(
        &stack,
        &shop,
        1,
        json!({"deal_id": later["id"], "group_id": later["id"]}),
    )
    .await;
    assert_eq!(two.status(), 422);
    assert_eq!(problem(two, 422).await["errors"][0]["field"], "group");
    let (_, walnuts) = stack.create_product(&shop.owner, "walnuts", 10).await;
    let cart = stack.empty_cart(&shop).await;
    let added = stack
        .order
        .client
        .post(
            stack
                .order
                .url(&format!("/v1/shops/{}/carts/{}/lines", shop.slug, cart.0)),
        )
        .header("X-Cart-Token", &cart.1)
        .json(&json!({"variant_id": walnuts, "quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let rate = stack.rate_for(&shop, &cart).await;
    let mut body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    body["group"] = json!({"deal_id": later["id"]});
    let wrong = stack
        .checkout(&shop, &cart, &Uuid::now_v7().to_string(), &body)
        .await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(problem(wrong, 422).await["errors"][0]["field"], "cart_id");
    let ended = stack
        .order
        .post_with(
            &shop.owner,
            &format!("/v1/group-deals/{}/end", later["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(ended.status(), 200);
    assert_eq!(ended.json::<Value>().await.unwrap()["status"], "ended");
    let gone = group_checkout(&stack, &shop, 1, json!({"deal_id": later["id"]})).await;
    assert_eq!(gone.status(), 409);
    assert_eq!(problem(gone, 409).await["code"], "deal_not_live");
}

#[tokio::test]
async fn another_shop_cannot_read_change_or_join_a_shops_deals_and_groups() {
    let stack = stack().await;
    let shop = stack.shop(20).await;
    let other = stack.shop(20).await;
    let deal = deal(&stack, &shop, 2, 10).await;
    let deal_id = deal["id"].as_str().unwrap();
    let first = open(&stack, &shop, &deal).await;
    let group = first["group"]["id"].as_str().unwrap();

    for path in [
        format!("/v1/group-deals/{deal_id}"),
        format!("/v1/group-deals/{deal_id}/groups"),
        format!("/v1/groups/{group}"),
    ] {
        let seen = stack.order.get_with(&other.owner, &path).await;
        assert_eq!(seen.status(), 404, "{path}");
    }
    let listed: Value = stack
        .order
        .get_with(&other.owner, "/v1/group-deals")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    let edit = stack
        .order
        .patch_with(
            &other.owner,
            &format!("/v1/group-deals/{deal_id}"),
            &json!({"group_size": 5}),
        )
        .await;
    assert_eq!(edit.status(), 404);
    let end = stack
        .order
        .post_with(
            &other.owner,
            &format!("/v1/group-deals/{deal_id}/end"),
            &json!({}),
        )
        .await;
    assert_eq!(end.status(), 404);
    // Through the other shop's storefront the group does not exist.
    let shared = stack
        .order
        .get(&format!("/v1/shops/{}/groups/{group}", other.slug))
        .await;
    assert_eq!(shared.status(), 404);
    let joined = group_checkout(&stack, &other, 1, json!({"group_id": group})).await;
    assert_eq!(joined.status(), 422);
    assert_eq!(
        problem(joined, 422).await["errors"][0]["message"],
        "no such group"
    );
    let opened = group_checkout(&stack, &other, 1, json!({"deal_id": deal_id})).await;
    assert_eq!(opened.status(), 422);
    assert_eq!(
        problem(opened, 422).await["errors"][0]["message"],
        "no such deal"
    );
    // Nothing changed for the shop.
    let seen: Value = stack
        .order
        .get_with(&shop.owner, &format!("/v1/group-deals/{deal_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["group_size"], 2);
    assert_eq!(seen["status"], "live");
}
