//! Retention, with time moved in the database: what is older than its rule is
//! removed or cleared by replicas sharing the work, and everything else stays.

use crate::helpers::{spawn_stack, unique_email};
use caravan_order::retention::RULES;
use caravan_shared::retention::Retention;
use prometheus::Registry;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The one number `sql` answers, read as the owner.
async fn count(stack: &crate::helpers::Stack, sql: &str) -> i64 {
    stack.order_rows(&format!("SELECT ({sql}) AS n")).await[0]["n"]
        .as_i64()
        .unwrap()
}

/// The value of `metric` for `rule` in `registry`.
fn rows_of(registry: &Registry, rule: &str) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|family| family.name() == "retention_rows_total")
        .flat_map(|family| family.get_metric().iter())
        .filter(|metric| metric.get_label().iter().any(|label| label.value() == rule))
        .map(|metric| metric.get_counter().get_value() as u64)
        .sum()
}

#[tokio::test]
async fn each_rule_removes_only_what_is_older_than_it_keeps() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let abandoned = stack.cart(&shop, 1).await;
    let recent = stack.cart(&shop, 1).await;
    let ordered = stack.place_order(&shop, 1, &unique_email("buyer")).await;

    // A month and a day pass for the first cart and the order's cart, and a day
    // and an hour for the order's idempotency record.
    stack
        .order_sql(&format!(
            "UPDATE carts SET updated_at = now() - interval '31 days' \
             WHERE id = '{}' OR order_id = '{}';
             UPDATE idempotency_keys SET created_at = now() - interval '25 hours';
             INSERT INTO mail_outbox (id, recipient, subject, body, failed_at) VALUES
                 (gen_random_uuid(), 'old@buyer.example', '订单确认', 'link with a token', now() - interval '31 days'),
                 (gen_random_uuid(), 'new@buyer.example', '订单确认', 'link with a token', now() - interval '1 day');
             INSERT INTO parked_events (producer, seq, event_id, event_type, envelope, error, attempts, parked_at, resolved_at) VALUES
                 ('catalog', 1, gen_random_uuid(), 'stock.changed', '{{}}', 'failed', 5, now() - interval '40 days', now() - interval '31 days'),
                 ('catalog', 2, gen_random_uuid(), 'stock.changed', '{{}}', 'failed', 5, now() - interval '40 days', NULL);",
            abandoned.0, ordered["id"].as_str().unwrap()
        ))
        .await;
    // A second order after the clock moved: its records are a minute old.
    let fresh = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let old_keys = count(
        &stack,
        "SELECT count(*) FROM idempotency_keys WHERE created_at < now() - interval '24 hours'",
    )
    .await;
    assert!(old_keys > 0);
    let kept_keys = count(&stack, "SELECT count(*) FROM idempotency_keys").await - old_keys;
    // Every event published so far is eight days old.
    let published = count(
        &stack,
        "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL",
    )
    .await;
    assert!(published > 0);
    stack
        .order_sql(
            "UPDATE outbox SET published_at = now() - interval '8 days' \
             WHERE published_at IS NOT NULL",
        )
        .await;

    // Two replicas run the rules at once and share the rows.
    let settings: HashMap<String, String> = HashMap::new();
    let pool = caravan_shared::db::connect(&stack.order.database.runtime_url, 4)
        .await
        .unwrap();
    let registries = [Registry::new(), Registry::new()];
    let replicas: Vec<Retention> = registries
        .iter()
        .map(|registry| Retention::from_source(&settings, pool.clone(), &RULES, registry).unwrap())
        .collect();
    let (first, second) = tokio::join!(replicas[0].run(), replicas[1].run());
    assert_eq!(first.len(), 5, "every rule ran to the end: {first:?}");
    assert_eq!(second.len(), 5, "every rule ran to the end: {second:?}");
    let removed = |rule: &str| rows_of(&registries[0], rule) + rows_of(&registries[1], rule);
    assert_eq!(removed("abandoned_carts"), 1);
    assert_eq!(removed("idempotency_keys"), old_keys as u64);
    assert_eq!(removed("mail_bodies"), 1);
    assert_eq!(removed("resolved_parked_events"), 1);
    assert_eq!(removed("published_events"), published as u64);

    // The abandoned cart is gone; the recent one, and the one that became an
    // order, stay.
    let cart = |id: &str, token: &str| {
        stack
            .order
            .client
            .get(
                stack
                    .order
                    .url(&format!("/v1/shops/{}/carts/{id}", shop.slug)),
            )
            .header("X-Cart-Token", token.to_owned())
            .send()
    };
    assert_eq!(
        cart(&abandoned.0, &abandoned.1).await.unwrap().status(),
        404
    );
    assert_eq!(cart(&recent.0, &recent.1).await.unwrap().status(), 200);
    assert_eq!(
        stack.staff_view(&shop, &ordered).await["status"],
        "pending_payment"
    );
    assert_eq!(
        count(&stack, "SELECT count(*) FROM idempotency_keys").await,
        kept_keys,
        "the second order's records stay"
    );
    let mail = stack
        .order_rows(
            "SELECT recipient, subject, body FROM mail_outbox \
             WHERE failed_at IS NOT NULL ORDER BY recipient",
        )
        .await;
    assert_eq!(
        Value::from(mail),
        json!([
            {"recipient": "new@buyer.example", "subject": "订单确认", "body": "link with a token"},
            {"recipient": "old@buyer.example", "subject": "订单确认", "body": ""},
        ])
    );
    assert_eq!(
        count(
            &stack,
            "SELECT count(*) FROM parked_events WHERE resolved_at IS NULL"
        )
        .await,
        1
    );
    assert_eq!(count(&stack, "SELECT count(*) FROM parked_events").await, 1);
    assert_eq!(
        count(
            &stack,
            "SELECT count(*) FROM outbox WHERE published_at < now() - interval '7 days'"
        )
        .await,
        0
    );
    // The relay goes on numbering and publishing after the old events went.
    let after = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    assert_eq!(
        after["number"].as_i64(),
        fresh["number"].as_i64().map(|n| n + 1)
    );
    for _ in 0..100 {
        let waiting = count(
            &stack,
            "SELECT count(*) FROM outbox WHERE published_at IS NULL",
        )
        .await;
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        count(
            &stack,
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        )
        .await,
        0
    );
}

#[test]
fn a_retention_setting_must_keep_something() {
    let settings: HashMap<String, String> =
        HashMap::from([("RETENTION_ABANDONED_CART_HOURS".to_owned(), "0".to_owned())]);
    // Refused before anything is asked of a database.
    let error = Retention::from_source(
        &settings,
        sea_orm::DatabaseConnection::default(),
        &RULES,
        &Registry::new(),
    )
    .err()
    .unwrap();
    assert!(
        error.to_string().contains("RETENTION_ABANDONED_CART_HOURS"),
        "{error:#}"
    );
}
