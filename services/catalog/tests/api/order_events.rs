//! The order service's events as the catalog consumes them, through the real
//! outbox, relay, feed and consumer: an event the catalog cannot settle is parked
//! for an operator, never passed over as if it had been handled.

use crate::helpers::{goji, problem, shop, spawn_app_with};
use caravan_shared::config::ServiceName;
use caravan_shared::testing::{TestApp, free_port};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The catalog's offset for the order service, and the error it parked event `seq`
/// with (if it did), read together as the database's owner.
async fn offset_and_parked(owner: &sea_orm::DatabaseConnection, seq: i64) -> (i64, Option<String>) {
    let row = owner
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT coalesce((SELECT last_seq FROM event_offsets WHERE producer = 'order'), 0) AS last_seq, \
                 (SELECT error FROM parked_events WHERE producer = 'order' AND seq = {seq}) AS error"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get("", "last_seq").unwrap(),
        row.try_get("", "error").unwrap(),
    )
}

#[tokio::test]
async fn an_order_event_without_a_usable_order_id_is_parked_and_the_next_one_still_settles() {
    let order_port = free_port();
    let media = std::env::temp_dir().join("caravan-catalog-test-media");
    let app = spawn_app_with(&[
        ("MEDIA_STORE", &format!("file://{}", media.display())),
        ("ORDER_URL", &format!("http://127.0.0.1:{order_port}")),
    ])
    .await;
    // The order service's outbox, relay and feed, on the address the catalog reads.
    let orders = TestApp::spawn_producer(
        ServiceName::Order,
        &[
            ("BIND", &format!("127.0.0.1:{order_port}")),
            ("AUTH_URL", &app.keys.auth_url),
            ("REDIS_PREFIX", &app.settings.redis_prefix),
        ],
    )
    .await
    .unwrap();
    let owner = caravan_shared::db::connect(&app.database.owner_url, 1)
        .await
        .unwrap();

    let a = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji", "G-1", 10))
        .await
        .json()
        .await
        .unwrap();
    let product_path = format!("/v1/products/{}", product["id"].as_str().unwrap());
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    let order = Uuid::now_v7();
    let held = app
        .post_with(
            &app.keys.service("order"),
            "/internal/v1/reservations",
            &json!({"tenant_id": a.id, "order_id": order, "lines": [{"variant_id": variant, "quantity": 3}]}),
        )
        .await;
    assert_eq!(held.status(), 201);

    // Event 1 names no order the catalog can read; event 2 is a good one.
    orders
        .publish(
            "order.paid",
            Some(a.id),
            json!({"order_id": "ORD-2026-0017"}),
        )
        .await
        .unwrap();
    orders
        .publish("order.paid", Some(a.id), json!({"order_id": order}))
        .await
        .unwrap();

    // The offset passes event 1 only together with parking it (one transaction):
    // at no moment is it past event 1 while event 1 is nowhere.
    let deadline = Instant::now() + Duration::from_secs(20);
    let error = loop {
        let (last_seq, parked) = offset_and_parked(&owner, 1).await;
        assert!(
            last_seq == 0 || parked.is_some(),
            "the offset moved to {last_seq} past event 1 without parking it"
        );
        if let Some(error) = parked {
            break error;
        }
        assert!(Instant::now() < deadline, "event 1 was never parked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        error.contains("order.paid")
            && error.contains("order_id")
            && error.contains("ORD-2026-0017"),
        "the parked error says what is wrong: {error}"
    );

    // Consumption went on: the good event after it settled its order.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let sold: Value = app
            .get_with(&a.owner, &product_path)
            .await
            .json()
            .await
            .unwrap();
        if sold["variants"][0]["reserved"] == 0 {
            assert_eq!(sold["variants"][0]["on_hand"], 7);
            break;
        }
        assert!(Instant::now() < deadline, "event 2 never settled: {sold}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(offset_and_parked(&owner, 2).await, (2, None));

    // An operator retrying it sees the same reason, and it stays parked.
    let retried = app
        .post_with(
            &app.keys.operator(),
            "/v1/operations/catalog/parked-events/order/1/retry",
            &json!({}),
        )
        .await;
    let body = problem(retried, 409).await;
    assert_eq!(body["code"], "handler_failed");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("no valid order_id"),
        "{body}"
    );
    assert!(offset_and_parked(&owner, 1).await.1.is_some());
}
