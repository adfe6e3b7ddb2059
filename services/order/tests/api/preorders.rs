//! Harvest pre-orders (预售): counted against the allocation and never oversold,
//! paid by deposit or in full, moved to fulfilment when the harvest is announced,
//! cancelled under the deposit policy when a balance goes unpaid (time is moved in
//! the database), refunded in full when the harvest is called off, and invisible to
//! other shops.

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

/// A campaign on `variant` of `shop` (its price ¥68.00): `allocation` units,
/// `deposit` per unit (or paid in full), under `policy`.
async fn campaign(
    stack: &Stack,
    shop: &Shop,
    variant: Uuid,
    allocation: i32,
    deposit: Option<i64>,
    policy: &str,
) -> Value {
    let ships_from = (chrono::Utc::now() + chrono::Duration::days(200)).date_naive();
    let response = stack
        .order
        .post_with(
            &shop.owner,
            "/v1/preorder-campaigns",
            &json!({
                "variant_id": variant, "allocation": allocation, "ships_from": ships_from,
                "deposits": deposit.map(|amount| json!([{"amount": amount, "currency": "CNY"}])),
                "deposit_policy": policy,
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// A guest's checkout of `quantity` units of `variant` pre-ordered from `campaign`.
async fn preorder_checkout(
    stack: &Stack,
    shop: &Shop,
    variant: Uuid,
    quantity: i32,
    campaign: &Value,
) -> Response {
    preorder_checkout_in(stack, shop, variant, quantity, campaign, "zh-CN").await
}

/// [`preorder_checkout`] from a cart in `locale`.
async fn preorder_checkout_in(
    stack: &Stack,
    shop: &Shop,
    variant: Uuid,
    quantity: i32,
    campaign: &Value,
    locale: &str,
) -> Response {
    let cart: Value = stack
        .order
        .post(
            &format!("/v1/shops/{}/carts", shop.slug),
            &json!({"locale": locale}),
        )
        .await
        .json()
        .await
        .unwrap();
    let cart = (
        cart["id"].as_str().unwrap().to_owned(),
        cart["token"].as_str().unwrap().to_owned(),
    );
    let added = stack
        .order
        .client
        .post(
            stack
                .order
                .url(&format!("/v1/shops/{}/carts/{}/lines", shop.slug, cart.0)),
        )
        .header("X-Cart-Token", &cart.1)
        .json(&json!({"variant_id": variant, "quantity": quantity}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let rate = stack.rate_for(shop, &cart).await;
    let mut body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    body["preorder"] = json!({"campaign_id": campaign["id"]});
    stack
        .checkout(shop, &cart, &Uuid::now_v7().to_string(), &body)
        .await
}

async fn preorder(stack: &Stack, shop: &Shop, campaign: &Value) -> Value {
    let variant: Uuid = campaign["variant_id"].as_str().unwrap().parse().unwrap();
    let response = preorder_checkout(stack, shop, variant, 1, campaign).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn pay(stack: &Stack, shop: &Shop, order: &Value) -> Value {
    let paid = stack.pay(shop, order, CARD).await;
    assert_eq!(paid.status(), 200);
    paid.json().await.unwrap()
}

async fn wait_for_status(stack: &Stack, shop: &Shop, order: &Value, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let view = stack.staff_view(shop, order).await;
        if view["status"] == status {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "order is {}, expected {status}",
            view["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post(stack: &Stack, shop: &Shop, path: &str, body: Value) -> Response {
    stack.order.post_with(&shop.owner, path, &body).await
}

#[tokio::test]
async fn a_deposit_pre_order_is_paid_in_full_after_the_harvest_is_announced() {
    let stack = stack().await;
    // Nothing on the shelf: the harvest is not picked yet.
    let shop = stack.shop(0).await;
    let campaign = campaign(&stack, &shop, shop.variant, 10, Some(2000), "forfeit").await;
    assert_eq!(campaign["status"], "open");
    assert_eq!(campaign["prices"][0]["amount"], 6800);

    let first = preorder(&stack, &shop, &campaign).await;
    assert_eq!(first["status"], "pending_payment");
    assert_eq!(first["total"]["amount"], 6800 + 1200);
    assert_eq!(first["preorder"]["deposit"]["amount"], 2000);
    assert_eq!(first["preorder"]["ships_from"], campaign["ships_from"]);
    let paid = pay(&stack, &shop, &first).await;
    assert_eq!(paid["status"], "preordered");
    assert_eq!(paid["paid"]["amount"], 2000);
    assert_eq!(paid["preorder"]["balance"]["amount"], 6000);
    assert_eq!(paid["preorder"]["balance_due_at"], Value::Null);
    // A second buyer, later.
    let second = preorder(&stack, &shop, &campaign).await;
    pay(&stack, &shop, &second).await;
    // No stock was held or sold.
    assert_eq!(stack.stock(&shop, shop.variant).await, (0, 0));
    // Before the harvest, the balance cannot be paid.
    let early = stack.pay(&shop, &first, CARD).await;
    assert_eq!(early.status(), 409);

    let harvested = post(
        &stack,
        &shop,
        &format!(
            "/v1/preorder-campaigns/{}/harvest",
            campaign["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    assert_eq!(harvested.status(), 200);
    let harvested: Value = harvested.json().await.unwrap();
    assert_eq!(harvested["status"], "harvested");
    assert_eq!(harvested["sold"], 2);
    assert_eq!(harvested["paid"], 0);
    // Pre-orders close with the harvest.
    let closed = preorder_checkout(&stack, &shop, shop.variant, 1, &campaign).await;
    assert_eq!(closed.status(), 409);
    assert_eq!(problem(closed, 409).await["code"], "campaign_closed");

    // The balance email carries a link of its own, which opens and pays the order.
    let email = first["email"].as_str().unwrap();
    let mails = wait_for_mail(email, 2).await.unwrap();
    assert!(mails[0].text.contains("定金 20.00 CNY"), "{mails:?}");
    let balance = mails.iter().find(|m| m.subject.contains("尾款")).unwrap();
    assert!(balance.text.contains("60.00 CNY"), "{mails:?}");
    let token = balance.token().unwrap();
    assert_ne!(token, first["access_token"].as_str().unwrap());
    let mut linked = first.clone();
    linked["access_token"] = json!(token);
    let seen = stack
        .order
        .client
        .get(stack.order.url(&format!(
            "/v1/shops/{}/orders/{}",
            shop.slug,
            first["id"].as_str().unwrap()
        )))
        .header("X-Order-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), 200);
    let seen: Value = seen.json().await.unwrap();
    assert_eq!(seen["preorder"]["balance"]["amount"], 6000);
    assert!(seen["preorder"]["balance_due_at"].is_string());
    let settled = pay(&stack, &shop, &linked).await;
    assert_eq!(settled["status"], "paid");
    assert_eq!(settled["paid"]["amount"], 8000);
    let payments: Vec<i64> = settled["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount"]["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(payments, [2000, 6000]);
    // It ships like any paid order.
    let shipped = stack
        .order
        .post_with(
            &shop.owner,
            &format!("/v1/orders/{}/fulfillments", first["id"].as_str().unwrap()),
            &json!({"carrier": "SF Express", "tracking_number": "SF1234567890"}),
        )
        .await;
    assert_eq!(shipped.status(), 200, "{:?}", shipped.text().await);
    let view: Value = stack
        .order
        .get_with(
            &shop.owner,
            &format!(
                "/v1/preorder-campaigns/{}",
                campaign["id"].as_str().unwrap()
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            view["sold"].as_i64(),
            view["paid"].as_i64(),
            view["shipped"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    let events = stack
        .order_rows(
            "SELECT event_type, count(*) AS n FROM outbox WHERE event_type IN \
             ('order.preordered', 'preorder.harvested', 'order.paid') GROUP BY event_type ORDER BY event_type",
        )
        .await;
    assert_eq!(
        events,
        vec![
            json!({"event_type": "order.paid", "n": 1}),
            json!({"event_type": "order.preordered", "n": 2}),
            json!({"event_type": "preorder.harvested", "n": 1}),
        ]
    );
}

#[tokio::test]
async fn pre_orders_paid_in_full_move_to_fulfilment_in_order_of_purchase_at_the_harvest() {
    let stack = stack().await;
    let shop = stack.shop(0).await;
    let campaign = campaign(&stack, &shop, shop.variant, 10, None, "forfeit").await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        let order = preorder(&stack, &shop, &campaign).await;
        assert_eq!(order["preorder"]["deposit"], Value::Null);
        assert_eq!(pay(&stack, &shop, &order).await["paid"]["amount"], 8000);
        orders.push(order);
    }
    // One more, placed but not paid when the harvest is announced.
    let late = preorder(&stack, &shop, &campaign).await;
    let harvested = post(
        &stack,
        &shop,
        &format!(
            "/v1/preorder-campaigns/{}/harvest",
            campaign["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    assert_eq!(harvested.status(), 200);
    for order in &orders {
        assert_eq!(stack.staff_view(&shop, order).await["status"], "paid");
    }
    let moved = stack
        .order_rows(&format!(
            "SELECT t.order_id FROM order_timeline t JOIN orders o ON o.id = t.order_id \
             WHERE t.action = 'harvested' AND o.preorder_campaign_id = '{}' ORDER BY t.id",
            campaign["id"].as_str().unwrap()
        ))
        .await;
    let moved: Vec<&str> = moved
        .iter()
        .map(|r| r["order_id"].as_str().unwrap())
        .collect();
    let placed: Vec<&str> = orders.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(moved, placed);
    // Staff page through them in order of purchase, with what each has paid.
    let path = format!(
        "/v1/preorder-campaigns/{}/orders?limit=2",
        campaign["id"].as_str().unwrap()
    );
    let first_page: Value = stack
        .order
        .get_with(&shop.owner, &path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first_page["items"][0]["id"], orders[0]["id"]);
    assert_eq!(first_page["items"][1]["paid"]["amount"], 8000);
    let cursor = first_page["next_cursor"].as_str().unwrap();
    let rest: Value = stack
        .order
        .get_with(&shop.owner, &format!("{path}&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    let rest: Vec<&Value> = rest["items"].as_array().unwrap().iter().collect();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0]["id"], orders[2]["id"]);
    assert_eq!(rest[1]["id"], late["id"]);
    assert_eq!(rest[1]["paid"]["amount"], 0);
    // Paid after the harvest, in full, it ships at once.
    assert_eq!(pay(&stack, &shop, &late).await["status"], "paid");
    let shipping = wait_for_mail(orders[0]["email"].as_str().unwrap(), 2)
        .await
        .unwrap();
    assert!(shipping[1].subject.contains("即将发货"), "{shipping:?}");
}

#[tokio::test]
async fn the_allocation_is_never_oversold() {
    let stack = stack().await;
    let shop = stack.shop(0).await;
    let campaign = campaign(&stack, &shop, shop.variant, 5, Some(1000), "forfeit").await;
    let mut carts = Vec::new();
    for _ in 0..10 {
        let cart = stack.cart(&shop, 1).await;
        let rate = stack.rate_for(&shop, &cart).await;
        let mut body = stack.checkout_body(&cart, &rate, &unique_email("racer"));
        body["preorder"] = json!({"campaign_id": campaign["id"]});
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
    let mut statuses = Vec::new();
    for answer in futures_util::future::join_all(attempts).await {
        let answer = answer.unwrap();
        let status = answer.status().as_u16();
        if status == 409 {
            assert_eq!(problem(answer, 409).await["code"], "allocation_sold_out");
        }
        statuses.push(status);
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 201, 201, 201, 409, 409, 409, 409, 409]);
    let view: Value = stack
        .order
        .get_with(
            &shop.owner,
            &format!(
                "/v1/preorder-campaigns/{}",
                campaign["id"].as_str().unwrap()
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["sold"], 5);
    let on_show: Value = stack
        .order
        .get(&format!(
            "/v1/shops/{}/preorder-campaigns?product_id={}",
            shop.slug, shop.product
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(on_show["items"][0]["units_left"], 0);
}

#[tokio::test]
async fn an_unpaid_balance_cancels_the_pre_order_under_the_shops_deposit_policy() {
    let stack = stack().await;
    let shop = stack.shop(0).await;
    let (_, refunded_variant) = stack.create_product(&shop.owner, "hami-melon", 0).await;
    let forfeit = campaign(&stack, &shop, shop.variant, 10, Some(2000), "forfeit").await;
    let refund = campaign(&stack, &shop, refunded_variant, 10, Some(2000), "refund").await;
    let kept = preorder(&stack, &shop, &forfeit).await;
    pay(&stack, &shop, &kept).await;
    let returned = preorder(&stack, &shop, &refund).await;
    pay(&stack, &shop, &returned).await;
    for campaign in [&forfeit, &refund] {
        let harvested = post(
            &stack,
            &shop,
            &format!(
                "/v1/preorder-campaigns/{}/harvest",
                campaign["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
        assert_eq!(harvested.status(), 200);
    }
    // A week passes without the balances.
    stack
        .order_sql(
            "UPDATE preorder_campaigns SET balance_due_at = now() - interval '1 second'; \
             UPDATE orders SET balance_due_at = now() - interval '1 second' WHERE balance_due_at IS NOT NULL",
        )
        .await;
    let forfeited = wait_for_status(&stack, &shop, &kept, "cancelled").await;
    assert_eq!(forfeited["paid"]["amount"], 2000);
    assert_eq!(forfeited["refunded"]["amount"], 0);
    let returned = wait_for_status(&stack, &shop, &returned, "cancelled").await;
    assert_eq!(returned["refunded"]["amount"], 2000);
    let told = wait_for_mail(kept["email"].as_str().unwrap(), 3)
        .await
        .unwrap();
    let cancelled = told.iter().find(|m| m.subject.contains("已取消")).unwrap();
    assert!(cancelled.text.contains("定金不予退还"), "{told:?}");
    assert!(!cancelled.text.contains("已退款"), "{told:?}");
    let told = wait_for_mail(returned["email"].as_str().unwrap(), 3)
        .await
        .unwrap();
    let cancelled = told.iter().find(|m| m.subject.contains("已取消")).unwrap();
    assert!(cancelled.text.contains("定金全额退还"), "{told:?}");
    assert!(cancelled.text.contains("已退款 20.00 CNY"), "{told:?}");
    // Too late to pay now.
    let late = stack.pay(&shop, &kept, CARD).await;
    assert_eq!(late.status(), 409);
}

#[tokio::test]
async fn calling_off_a_harvest_cancels_and_refunds_every_pre_order() {
    let stack = stack().await;
    let shop = stack.shop(0).await;
    let campaign = campaign(&stack, &shop, shop.variant, 10, Some(2000), "forfeit").await;
    let deposit = preorder(&stack, &shop, &campaign).await;
    pay(&stack, &shop, &deposit).await;
    let unpaid = preorder(&stack, &shop, &campaign).await;
    // A buyer who shops in Uyghur, and one in Russian.
    let mut abroad = Vec::new();
    for locale in ["ug", "ru"] {
        let placed = preorder_checkout_in(&stack, &shop, shop.variant, 1, &campaign, locale).await;
        assert_eq!(placed.status(), 201);
        let placed: Value = placed.json().await.unwrap();
        pay(&stack, &shop, &placed).await;
        abroad.push(placed);
    }
    let id = campaign["id"].as_str().unwrap();
    let blank = post(
        &stack,
        &shop,
        &format!("/v1/preorder-campaigns/{id}/call-off"),
        json!({"reason": "  "}),
    )
    .await;
    assert_eq!(blank.status(), 422);
    let called = post(
        &stack,
        &shop,
        &format!("/v1/preorder-campaigns/{id}/call-off"),
        json!({"reason": "冰雹"}),
    )
    .await;
    assert_eq!(called.status(), 200);
    assert_eq!(
        called.json::<Value>().await.unwrap()["status"],
        "called_off"
    );
    let deposit = wait_for_status(&stack, &shop, &deposit, "cancelled").await;
    assert_eq!(deposit["refunded"]["amount"], 2000);
    let unpaid = wait_for_status(&stack, &shop, &unpaid, "cancelled").await;
    assert_eq!(unpaid["refunded"]["amount"], 0);
    for order in [&deposit, &unpaid] {
        let mails = wait_for_mail(order["email"].as_str().unwrap(), 2)
            .await
            .unwrap();
        assert!(
            mails.iter().any(|m| m.text.contains("收成取消（冰雹）")),
            "{mails:?}"
        );
    }
    for (order, words) in abroad.iter().zip([
        "بۇ مەۋسۇملۇق ھوسۇل ئەمەلدىن قالدۇرۇلدى (冰雹)",
        "урожай этого сезона отменён (冰雹)",
    ]) {
        let view = wait_for_status(&stack, &shop, order, "cancelled").await;
        assert_eq!(view["refunded"]["amount"], 2000);
        let mails = wait_for_mail(order["email"].as_str().unwrap(), 2)
            .await
            .unwrap();
        assert!(mails.iter().any(|m| m.text.contains(words)), "{mails:?}");
    }
    let again = post(
        &stack,
        &shop,
        &format!("/v1/preorder-campaigns/{id}/call-off"),
        json!({"reason": "again"}),
    )
    .await;
    assert_eq!(again.status(), 409);
    let harvest = post(
        &stack,
        &shop,
        &format!("/v1/preorder-campaigns/{id}/harvest"),
        json!({}),
    )
    .await;
    assert_eq!(harvest.status(), 409);
    let closed = preorder_checkout(&stack, &shop, shop.variant, 1, &campaign).await;
    assert_eq!(closed.status(), 409);
    let events = stack
        .order_rows("SELECT data FROM outbox WHERE event_type = 'preorder.called_off'")
        .await;
    assert_eq!(events[0]["data"]["call_off_reason"], "冰雹");
}

#[tokio::test]
async fn campaigns_are_checked() {
    let stack = stack().await;
    let shop = stack.shop(0).await;
    let past = (chrono::Utc::now() - chrono::Duration::days(2)).date_naive();
    let bad = post(
        &stack,
        &shop,
        "/v1/preorder-campaigns",
        json!({"variant_id": shop.variant, "allocation": 0, "ships_from": past,
               "deposits": [{"amount": 0, "currency": "CNY"}], "balance_days": 90}),
    )
    .await;
    assert_eq!(bad.status(), 422);
    let fields: Vec<String> = problem(bad, 422).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        fields,
        [
            "allocation",
            "ships_from",
            "deposits[0].amount",
            "balance_days"
        ]
    );
    let soon = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let dear = post(
        &stack,
        &shop,
        "/v1/preorder-campaigns",
        json!({"variant_id": shop.variant, "allocation": 5, "ships_from": soon,
               "deposits": [{"amount": 6800, "currency": "CNY"}]}),
    )
    .await;
    assert_eq!(dear.status(), 422);
    assert_eq!(
        problem(dear, 422).await["errors"][0]["field"],
        "deposits[0].amount"
    );
    let nothing = stack
        .order_rows("SELECT count(*) AS n FROM preorder_campaigns")
        .await;
    assert_eq!(nothing[0]["n"], 0);
    // A pre-order of another variant than the campaign's is refused.
    let campaign = campaign(&stack, &shop, shop.variant, 5, None, "refund").await;
    let (_, walnuts) = stack.create_product(&shop.owner, "walnuts", 5).await;
    let wrong = preorder_checkout(&stack, &shop, walnuts, 1, &campaign).await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(problem(wrong, 422).await["errors"][0]["field"], "cart_id");
}

#[tokio::test]
async fn another_shop_cannot_read_change_or_pre_order_a_shops_campaigns() {
    let stack = stack().await;
    let shop = stack.shop(0).await;
    let other = stack.shop(0).await;
    let campaign = campaign(&stack, &shop, shop.variant, 5, Some(1000), "forfeit").await;
    let id = campaign["id"].as_str().unwrap();
    for path in [
        format!("/v1/preorder-campaigns/{id}"),
        format!("/v1/preorder-campaigns/{id}/orders"),
    ] {
        assert_eq!(
            stack.order.get_with(&other.owner, &path).await.status(),
            404,
            "{path}"
        );
    }
    let listed: Value = stack
        .order
        .get_with(&other.owner, "/v1/preorder-campaigns")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    for (path, body) in [
        (format!("/v1/preorder-campaigns/{id}/harvest"), json!({})),
        (
            format!("/v1/preorder-campaigns/{id}/call-off"),
            json!({"reason": "frost"}),
        ),
    ] {
        let answer = post(&stack, &other, &path, body).await;
        assert_eq!(answer.status(), 404, "{path}");
    }
    let shown: Value = stack
        .order
        .get(&format!("/v1/shops/{}/preorder-campaigns", other.slug))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["items"], json!([]));
    let taken = preorder_checkout(&stack, &other, other.variant, 1, &campaign).await;
    assert_eq!(taken.status(), 422);
    assert_eq!(
        problem(taken, 422).await["errors"][0]["message"],
        "no such campaign"
    );
    let seen: Value = stack
        .order
        .get_with(&shop.owner, &format!("/v1/preorder-campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["status"], "open");
}
