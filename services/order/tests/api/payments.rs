//! The test card gateway: off unless a deployment turns it on with a secret of its
//! own, and its notifications change an order only through an authorisation it
//! started for that order.

use crate::helpers::{
    Shop, Stack, problem, spawn_stack, spawn_stack_with, spawn_stack_without_gateway, unique_email,
};
use caravan_order::payments::{SLOW_ANSWER, TestGateway, cards};
use caravan_shared::config::{ConfigError, PUBLISHED_SECRETS, ServiceName, generate_secret};
use caravan_shared::testing::TestApp;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn notice(kind: &str, shop: &Shop, order: &Value, reference: &str, amount: &Value) -> Value {
    json!({
        "type": kind, "tenant_id": shop.id, "order_id": order["id"],
        "reference": reference, "amount": amount
    })
}

/// The order as its buyer reads it, with its access token.
async fn buyer_view(stack: &Stack, shop: &Shop, order: &Value) -> Value {
    let response = stack
        .order
        .client
        .get(stack.order.url(&format!(
            "/v1/shops/{}/orders/{}",
            shop.slug,
            order["id"].as_str().unwrap()
        )))
        .header("X-Order-Token", order["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Pays with the card that times out; answers the pending attempt's reference, as
/// the buyer's answer and the order's payments show it.
async fn timed_out(stack: &Stack, shop: &Shop, order: &Value) -> String {
    let answer = problem(stack.pay(shop, order, cards::TIMES_OUT).await, 504).await;
    let view = buyer_view(stack, shop, order).await;
    assert_eq!(view["status"], "pending_payment");
    let attempt = view["payments"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(attempt["status"], "pending", "{view}");
    assert_eq!(attempt["provider"], "test");
    let reference = attempt["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("test-auth-"), "{reference}");
    assert!(
        answer["detail"].as_str().unwrap().contains(&reference),
        "{answer}"
    );
    reference
}

fn statuses(view: &Value) -> Vec<String> {
    view["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_unpaid(view: &Value) {
    assert_eq!(view["status"], "pending_payment", "{view}");
    assert_eq!(view["paid"]["amount"], 0, "{view}");
    assert!(
        !statuses(view).iter().any(|status| status == "succeeded"),
        "{view}"
    );
}

#[tokio::test]
async fn with_the_test_gateway_off_card_payments_and_its_notifications_are_refused() {
    let stack = spawn_stack_without_gateway().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;

    let refused = problem(stack.pay(&shop, &order, cards::SUCCEEDS).await, 422).await;
    assert_eq!(refused["errors"][0]["field"], "provider");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("must be one of: manual"),
        "{refused}"
    );
    // The webhook route has no `test` provider, whatever the signature: not even the
    // secret that used to be the default opens it.
    let body = notice(
        "payment.succeeded",
        &shop,
        &order,
        &format!(
            "test-auth-{}",
            order["id"].as_str().unwrap().replace('-', "")
        ),
        &order["total"],
    );
    let signature = TestGateway::sign("test-gateway-secret", body.to_string().as_bytes());
    problem(stack.notify_signed(&signature, &body).await, 404).await;
    let view = stack.staff_view(&shop, &order).await;
    assert_unpaid(&view);
    assert!(statuses(&view).is_empty());

    // Manual payment is still offered.
    let manual = stack
        .order
        .client
        .post(stack.order.url(&format!(
            "/v1/shops/{}/orders/{}/payments",
            shop.slug,
            order["id"].as_str().unwrap()
        )))
        .header("X-Order-Token", order["access_token"].as_str().unwrap())
        .json(&json!({"provider": "manual"}))
        .send()
        .await
        .unwrap();
    assert_eq!(manual.status(), 202);
}

#[tokio::test]
async fn a_signed_notification_for_an_order_the_gateway_never_authorised_changes_nothing() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    // Correctly signed, with the amount the order owes and the reference the gateway
    // used to derive from the order's id: still no authorisation of this order.
    let guessed = format!(
        "test-auth-{}",
        order["id"].as_str().unwrap().replace('-', "")
    );
    for kind in ["payment.succeeded", "payment.failed"] {
        let body = notice(kind, &shop, &order, &guessed, &order["total"]);
        problem(stack.notify(&body).await, 404).await;
    }
    // A forged signature is refused before anything is looked at.
    let body = notice(
        "payment.succeeded",
        &shop,
        &order,
        &guessed,
        &order["total"],
    );
    let forged = TestGateway::sign(&generate_secret(), body.to_string().as_bytes());
    problem(stack.notify_signed(&forged, &body).await, 401).await;

    let view = stack.staff_view(&shop, &order).await;
    assert_unpaid(&view);
    assert!(statuses(&view).is_empty());
    // The stock is still only held.
    assert_eq!(stack.stock(&shop, shop.variant).await, (10, 1));
}

#[tokio::test]
async fn a_notification_whose_amount_or_currency_is_not_the_authorisations_changes_nothing() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let reference = timed_out(&stack, &shop, &order).await;
    let total = order["total"]["amount"].as_i64().unwrap();
    for amount in [
        json!({"amount": total - 1, "currency": "CNY"}),
        json!({"amount": total + 100, "currency": "CNY"}),
        json!({"amount": total, "currency": "USD"}),
    ] {
        let body = notice("payment.succeeded", &shop, &order, &reference, &amount);
        let refused = problem(stack.notify(&body).await, 422).await;
        assert_eq!(refused["errors"][0]["field"], "amount", "{amount}");
        let failed = notice("payment.failed", &shop, &order, &reference, &amount);
        problem(stack.notify(&failed).await, 422).await;
    }
    let view = stack.staff_view(&shop, &order).await;
    assert_unpaid(&view);
    assert_eq!(statuses(&view), ["pending"]);

    // The authorisation is untouched: the gateway's genuine notification still pays.
    let genuine = notice(
        "payment.succeeded",
        &shop,
        &order,
        &reference,
        &order["total"],
    );
    assert_eq!(stack.notify(&genuine).await.status(), 204);
    let view = stack.staff_view(&shop, &order).await;
    assert_eq!(view["status"], "paid");
    assert_eq!(view["paid"], order["total"]);
}

#[tokio::test]
async fn a_notification_naming_another_orders_authorisation_changes_nothing() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let other_shop = stack.shop(10).await;
    let first = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let second = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    assert_eq!(first["total"], second["total"]);
    let reference = timed_out(&stack, &shop, &first).await;

    // The first order's reference, sent about the second order.
    let body = notice(
        "payment.succeeded",
        &shop,
        &second,
        &reference,
        &second["total"],
    );
    let refused = problem(stack.notify(&body).await, 422).await;
    assert_eq!(refused["errors"][0]["field"], "reference");
    // The right order, but under another shop: that shop has no such order.
    let mut elsewhere = notice(
        "payment.succeeded",
        &shop,
        &first,
        &reference,
        &first["total"],
    );
    elsewhere["tenant_id"] = json!(other_shop.id);
    problem(stack.notify(&elsewhere).await, 404).await;
    assert_unpaid(&stack.staff_view(&shop, &first).await);
    let second_view = stack.staff_view(&shop, &second).await;
    assert_unpaid(&second_view);
    assert!(statuses(&second_view).is_empty());

    // The authorisations are the shop's own rows, under row-level security like the
    // rest of its data.
    let tables =
        caravan_shared::testing::assert_every_tenant_table_forces_rls(&stack.order.database).await;
    assert!(
        tables.iter().any(|t| t == "payment_authorisations"),
        "{tables:?}"
    );
    let pool = caravan_shared::db::connect(&stack.order.database.runtime_url, 1)
        .await
        .unwrap();
    for (tenant, expected) in [(other_shop.id, 0), (shop.id, 1)] {
        let tx =
            caravan_shared::tenancy::TenantTx::begin(&pool, caravan_shared::TenantId::from(tenant))
                .await
                .unwrap();
        let row = sea_orm::ConnectionTrait::query_one_raw(
            tx.conn(),
            sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!(
                    "SELECT count(*) AS n FROM payment_authorisations WHERE order_id = '{}'",
                    first["id"].as_str().unwrap()
                ),
            ),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), expected);
    }
}

#[tokio::test]
async fn a_timed_out_payment_is_paid_once_when_the_gateway_confirms_it_even_twice_at_once() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 2, &unique_email("buyer")).await;
    stack.wait_for_stock(&shop, shop.variant, (10, 2)).await;
    let reference = timed_out(&stack, &shop, &order).await;

    let body = notice(
        "payment.succeeded",
        &shop,
        &order,
        &reference,
        &order["total"],
    );
    let answers = futures_util::future::join_all((0..4).map(|_| stack.notify(&body))).await;
    for answer in answers {
        assert_eq!(answer.status(), 204);
    }
    let view = stack.staff_view(&shop, &order).await;
    assert_eq!(view["status"], "paid");
    assert_eq!(view["paid"], order["total"]);
    assert_eq!(view["payment_provider"], "test");
    assert_eq!(statuses(&view), ["pending", "succeeded"]);
    assert_eq!(view["payments"][1]["reference"], reference.as_str());
    stack.wait_for_stock(&shop, shop.variant, (8, 0)).await;

    // Delivered again later: nothing changes.
    assert_eq!(stack.notify(&body).await.status(), 204);
    // A failure reported about it now contradicts what was settled.
    let failed = notice("payment.failed", &shop, &order, &reference, &order["total"]);
    let refused = problem(stack.notify(&failed).await, 409).await;
    assert_eq!(
        refused["errors"][0],
        json!({"field": "authorisation_status", "message": "captured"})
    );
    // And the buyer cannot pay a second time.
    problem(stack.pay(&shop, &order, cards::SUCCEEDS).await, 409).await;
    let after = stack.staff_view(&shop, &order).await;
    assert_eq!(after["paid"], order["total"]);
    assert_eq!(statuses(&after), ["pending", "succeeded"]);
    let timeline: Value = stack
        .order
        .get_with(
            &shop.owner,
            &format!("/v1/orders/{}/timeline", order["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    let paid: Vec<&Value> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "paid")
        .collect();
    assert_eq!(paid.len(), 1, "{timeline}");
    assert_eq!(paid[0]["actor"], "provider:test");
}

#[tokio::test]
async fn a_settled_authorisation_can_no_longer_pay_the_order() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;

    // The buyer paid with another card after the timeout: the pending attempt is
    // voided, and the gateway's late confirmation of it takes nothing more.
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let reference = timed_out(&stack, &shop, &order).await;
    assert_eq!(
        stack.pay(&shop, &order, cards::SUCCEEDS).await.status(),
        200
    );
    let late = notice(
        "payment.succeeded",
        &shop,
        &order,
        &reference,
        &order["total"],
    );
    let refused = problem(stack.notify(&late).await, 409).await;
    assert_eq!(
        refused["errors"][0],
        json!({"field": "authorisation_status", "message": "voided"})
    );
    let view = stack.staff_view(&shop, &order).await;
    assert_eq!(view["paid"], order["total"]);
    assert_eq!(statuses(&view), ["pending", "succeeded"]);

    // The gateway reported that the attempt failed: recorded once; a later
    // "succeeded" about the same attempt changes nothing.
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let reference = timed_out(&stack, &shop, &order).await;
    let failed = notice("payment.failed", &shop, &order, &reference, &order["total"]);
    for _ in 0..2 {
        assert_eq!(stack.notify(&failed).await.status(), 204);
    }
    let succeeded = notice(
        "payment.succeeded",
        &shop,
        &order,
        &reference,
        &order["total"],
    );
    let refused = problem(stack.notify(&succeeded).await, 409).await;
    assert_eq!(refused["errors"][0]["message"], "failed");
    let view = stack.staff_view(&shop, &order).await;
    assert_unpaid(&view);
    assert_eq!(statuses(&view), ["pending", "declined"]);
    assert_eq!(view["payments"][1]["reference"], reference.as_str());
    // The buyer can still pay.
    assert_eq!(
        stack.pay(&shop, &order, cards::SUCCEEDS).await.status(),
        200
    );
}

#[tokio::test]
async fn the_service_refuses_to_start_with_the_test_gateway_on_and_no_secret_of_its_own() {
    let mut refused: Vec<Vec<(&str, &str)>> = vec![vec![("PAYMENT_TEST_GATEWAY", "true")]];
    for published in PUBLISHED_SECRETS.iter().chain(&["too-short-a-secret"]) {
        refused.push(vec![
            ("PAYMENT_TEST_GATEWAY", "true"),
            ("PAYMENT_TEST_WEBHOOK_SECRET", published),
        ]);
    }
    for overrides in &refused {
        let started = TestApp::spawn::<caravan_order::migrations::Migrations, _, _>(
            ServiceName::Order,
            caravan_order::startup::build,
            overrides,
        )
        .await;
        let error = match started {
            Ok(_) => panic!("started with {overrides:?}"),
            Err(error) => error,
        };
        let config = error
            .downcast_ref::<ConfigError>()
            .unwrap_or_else(|| panic!("{overrides:?}: {error:#}"));
        assert_eq!(config.variable, "PAYMENT_TEST_WEBHOOK_SECRET", "{config}");
    }
    // A secret of its own starts it; so does leaving the gateway off, which needs none.
    let secret = generate_secret();
    for overrides in [
        vec![
            ("PAYMENT_TEST_GATEWAY", "true"),
            ("PAYMENT_TEST_WEBHOOK_SECRET", secret.as_str()),
        ],
        vec![],
    ] {
        TestApp::spawn::<caravan_order::migrations::Migrations, _, _>(
            ServiceName::Order,
            caravan_order::startup::build,
            &overrides,
        )
        .await
        .unwrap_or_else(|error| panic!("{overrides:?}: {error:#}"));
    }
}

/// The order's timeline entries with `action`.
async fn entries(stack: &Stack, shop: &Shop, order: &Value, action: &str) -> Vec<Value> {
    let timeline: Value = stack
        .order
        .get_with(
            &shop.owner,
            &format!("/v1/orders/{}/timeline", order["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

#[tokio::test]
async fn while_a_slow_gateway_is_asked_no_connection_or_lock_is_held() {
    // Two connections: were a payment to hold one while its gateway thinks, these
    // two payments would leave none for anyone else.
    let stack = spawn_stack_with(false, &[("DATABASE_MAX_CONNECTIONS", "2")]).await;
    let shop = stack.shop(10).await;
    let orders = [
        stack.place_order(&shop, 1, &unique_email("buyer")).await,
        stack.place_order(&shop, 1, &unique_email("buyer")).await,
    ];
    let paying: Vec<_> = orders
        .iter()
        .map(|order| tokio::spawn(stack.pay_request(&shop, order, cards::SLOW).send()))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Both wait for the gateway; the orders, and the shop's list, answer meanwhile.
    let asked = Instant::now();
    let view = buyer_view(&stack, &shop, &orders[0]).await;
    assert_eq!(view["status"], "pending_payment");
    assert_eq!(
        stack.staff_view(&shop, &orders[1]).await["status"],
        "pending_payment"
    );
    let list = stack.order.get_with(&shop.owner, "/v1/orders").await;
    assert_eq!(list.status(), 200);
    let took = asked.elapsed();
    assert!(
        paying.iter().all(|payment| !payment.is_finished()),
        "the payments ended before the reads were answered ({took:?})"
    );
    assert!(took < SLOW_ANSWER - Duration::from_secs(1), "{took:?}");

    for (order, payment) in orders.iter().zip(paying) {
        let answer = payment.await.unwrap().unwrap();
        assert_eq!(answer.status(), 200);
        let view = stack.staff_view(&shop, order).await;
        assert_eq!(view["status"], "paid");
        assert_eq!(view["paid"], order["total"]);
        assert_eq!(statuses(&view), ["succeeded"]);
    }
    stack.wait_for_stock(&shop, shop.variant, (8, 0)).await;
}

#[tokio::test]
async fn money_a_gateway_takes_after_the_order_was_paid_otherwise_goes_back() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let id = order["id"].as_str().unwrap();
    let paying = tokio::spawn(stack.pay_request(&shop, &order, cards::SLOW).send());
    tokio::time::sleep(Duration::from_millis(500)).await;

    // While the card payment waits for its gateway: a second card payment is
    // refused at once, and staff confirm a bank transfer meanwhile.
    let second = problem(stack.pay(&shop, &order, cards::SUCCEEDS).await, 409).await;
    assert_eq!(second["code"], "payment_in_progress");
    assert!(
        second["detail"].as_str().unwrap().contains("in progress"),
        "{second}"
    );
    let marked = stack
        .order
        .post_with(
            &shop.owner,
            &format!("/v1/orders/{id}/mark-paid"),
            &json!({"reference": "ICBC 2026-11-28 #1"}),
        )
        .await;
    assert_eq!(marked.status(), 200);
    assert!(!paying.is_finished());

    // The card's money arrives too late: it goes back, and the buyer is told.
    let late = problem(paying.await.unwrap().unwrap(), 409).await;
    assert_eq!(
        late["errors"][0],
        json!({"field": "status", "message": "paid"})
    );
    assert!(
        late["detail"].as_str().unwrap().contains("returned"),
        "{late}"
    );
    let view = stack.staff_view(&shop, &order).await;
    assert_eq!(view["status"], "paid");
    assert_eq!(view["paid"], order["total"]);
    assert_eq!(view["refunded"]["amount"], 0);
    assert_eq!(view["payment_provider"], "manual");
    let payments: Vec<(&str, &str)> = view["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["provider"].as_str().unwrap(),
                p["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(payments, [("manual", "succeeded"), ("test", "failed")]);
    let returned = &view["payments"][1];
    assert_eq!(returned["amount"], order["total"]);
    assert!(
        returned["detail"]
            .as_str()
            .unwrap()
            .contains("returned in full"),
        "{returned}"
    );
    assert_eq!(entries(&stack, &shop, &order, "paid").await.len(), 1);
    assert_eq!(
        entries(&stack, &shop, &order, "payment_returned")
            .await
            .len(),
        1
    );
    // Its stock was committed once.
    stack.wait_for_stock(&shop, shop.variant, (9, 0)).await;
    // A late notification about the card attempt takes nothing either.
    let attempt = stack
        .order_rows(&format!(
            "SELECT reference, status FROM payment_authorisations WHERE order_id = '{id}'"
        ))
        .await;
    assert_eq!(attempt.len(), 1);
    assert_eq!(attempt[0]["status"], "voided");
    let body = notice(
        "payment.succeeded",
        &shop,
        &order,
        attempt[0]["reference"].as_str().unwrap(),
        &order["total"],
    );
    problem(stack.notify(&body).await, 409).await;
    assert_eq!(
        stack.staff_view(&shop, &order).await["paid"],
        order["total"]
    );
}

#[tokio::test]
async fn money_a_gateway_takes_after_the_order_expired_goes_back() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 2, &unique_email("buyer")).await;
    let id = order["id"].as_str().unwrap();
    stack.wait_for_stock(&shop, shop.variant, (10, 2)).await;
    let paying = tokio::spawn(stack.pay_request(&shop, &order, cards::SLOW).send());
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Its payment window closes while the gateway thinks: the order expires on time.
    stack
        .order_sql(&format!(
            "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = '{id}'; \
             UPDATE order_deadlines SET due_at = now() - interval '1 second' WHERE order_id = '{id}'"
        ))
        .await;
    let deadline = Instant::now() + Duration::from_secs(2);
    while stack.staff_view(&shop, &order).await["status"] != "expired" {
        assert!(Instant::now() < deadline, "the order did not expire");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!paying.is_finished());

    let late = problem(paying.await.unwrap().unwrap(), 409).await;
    assert_eq!(late["code"], "order_expired");
    assert_eq!(
        late["errors"][0],
        json!({"field": "status", "message": "expired"})
    );
    let view = stack.staff_view(&shop, &order).await;
    assert_eq!(view["status"], "expired");
    assert_eq!(view["paid"]["amount"], 0);
    assert_eq!(statuses(&view), ["failed"]);
    assert!(
        view["payments"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("returned in full"),
        "{view}"
    );
    // Nothing was committed: the stock is released.
    stack.wait_for_stock(&shop, shop.variant, (10, 0)).await;
}

#[tokio::test]
async fn a_payment_retried_with_its_key_takes_the_money_once() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let keyed = |card: &str| {
        stack
            .pay_request(&shop, &order, card)
            .header("Idempotency-Key", "pay-7f3a")
    };

    // A retry sent while the slow gateway is still asked is told to wait.
    let first = tokio::spawn(keyed(cards::SLOW).send());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let meanwhile = problem(keyed(cards::SLOW).send().await.unwrap(), 409).await;
    assert_eq!(meanwhile["code"], "idempotency_key_in_use", "{meanwhile}");
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 200);
    let paid: Value = first.json().await.unwrap();
    assert_eq!(paid["status"], "paid");

    // The retry after the answer gets the same answer, and no gateway is asked.
    let again = keyed(cards::SLOW).send().await.unwrap();
    assert_eq!(again.status(), 200);
    let replayed: Value = again.json().await.unwrap();
    assert_eq!(replayed["id"], paid["id"]);
    assert_eq!(replayed["paid"], order["total"]);
    let view = stack.staff_view(&shop, &order).await;
    assert_eq!(statuses(&view), ["succeeded"], "{view}");
    assert_eq!(view["paid"], order["total"]);

    // The same key for another card is another request, refused by name.
    let other = problem(keyed(cards::SUCCEEDS).send().await.unwrap(), 422).await;
    assert_eq!(other["errors"][0]["field"], "Idempotency-Key", "{other}");
    // With another token the key answers nothing of the order.
    let mut stranger = keyed(cards::SLOW).build().unwrap();
    stranger
        .headers_mut()
        .insert("X-Order-Token", "not-the-orders-token".parse().unwrap());
    let stranger = stack.order.client.execute(stranger).await.unwrap();
    let text = problem(stranger, 404).await.to_string();
    assert!(!text.contains(order["id"].as_str().unwrap()), "{text}");
}

#[tokio::test]
async fn a_declined_payment_is_kept_for_its_key_and_a_timeout_is_asked_again() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let keyed = |card: &str, key: &str| {
        stack
            .pay_request(&shop, &order, card)
            .header("Idempotency-Key", key)
    };

    let declined = problem(keyed(cards::DECLINED, "pay-1").send().await.unwrap(), 402).await;
    let replayed = problem(keyed(cards::DECLINED, "pay-1").send().await.unwrap(), 402).await;
    assert_eq!(replayed, declined);
    // One attempt recorded: the replay asked no gateway.
    assert_eq!(
        statuses(&buyer_view(&stack, &shop, &order).await),
        ["declined"]
    );

    // A timeout keeps nothing for its key: the retry asks again (and is paid).
    problem(keyed(cards::TIMES_OUT, "pay-2").send().await.unwrap(), 504).await;
    let retried = keyed(cards::TIMES_OUT, "pay-2").send().await.unwrap();
    assert_eq!(retried.status(), 504);
    let view = buyer_view(&stack, &shop, &order).await;
    assert_eq!(view["status"], "pending_payment");
    assert_eq!(
        statuses(&view).iter().filter(|s| *s == "declined").count(),
        1,
        "{view}"
    );
    let paid = keyed(cards::SUCCEEDS, "pay-3").send().await.unwrap();
    assert_eq!(paid.status(), 200);
    assert_unpaid_then_paid_once(&stack.staff_view(&shop, &order).await, &order);
}

/// The order is paid exactly its total, by one succeeded payment.
fn assert_unpaid_then_paid_once(view: &Value, order: &Value) {
    assert_eq!(view["status"], "paid", "{view}");
    assert_eq!(view["paid"], order["total"], "{view}");
    assert_eq!(
        statuses(view).iter().filter(|s| *s == "succeeded").count(),
        1,
        "{view}"
    );
}
