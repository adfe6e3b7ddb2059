#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! The tenant status replica and guard: a shop suspended by the tenant service is
//! refused by another service within a second, and served again once reinstated.

mod common;

use caravan_shared::config::ServiceName;
use caravan_shared::identity::Role;
use caravan_shared::testing::{TestApp, reserve_port};
use common::spawn_notes;
use serde_json::json;
use std::time::{Duration, Instant};

async fn status_of(app: &TestApp, token: &str) -> u16 {
    app.client
        .get(app.url("/v1/notes/staff"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_suspended_shop_is_refused_within_a_second() {
    let shops_port = reserve_port();
    let notes = spawn_notes(&[("TENANT_URL", &format!("http://127.0.0.1:{shops_port}"))]).await;
    let shops = TestApp::spawn_producer(
        ServiceName::Tenant,
        &[
            ("BIND", &format!("127.0.0.1:{shops_port}")),
            ("AUTH_URL", &notes.keys.auth_url),
            ("REDIS_PREFIX", &notes.settings.redis_prefix),
        ],
    )
    .await
    .unwrap();
    let shop = uuid::Uuid::now_v7();
    let other_shop = uuid::Uuid::now_v7();
    let staff = notes.keys.member(shop, Role::Staff, &["catalog:write"]);
    let other_staff = notes.keys.member(other_shop, Role::Staff, &[]);
    shops
        .publish(
            "tenant.activated",
            Some(shop),
            json!({"slug": "aksu-apples", "plan": "free"}),
        )
        .await
        .unwrap();
    shops
        .publish(
            "tenant.activated",
            Some(other_shop),
            json!({"slug": "korla-pears"}),
        )
        .await
        .unwrap();
    assert_eq!(status_of(&notes, &staff).await, 200);
    // Give the subscription time to settle: what matters is the time from the
    // suspension's commit to the first refusal.
    tokio::time::sleep(Duration::from_millis(500)).await;

    shops
        .publish(
            "tenant.suspended",
            Some(shop),
            json!({"slug": "aksu-apples", "reason": "fraud review"}),
        )
        .await
        .unwrap();
    let committed = Instant::now();
    loop {
        let status = status_of(&notes, &staff).await;
        if status == 403 {
            break;
        }
        assert!(
            committed.elapsed() < Duration::from_secs(1),
            "still served after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = notes
        .client
        .get(notes.url("/v1/notes/catalog-write"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "tenant_suspended");
    // Another shop is unaffected.
    assert_eq!(status_of(&notes, &other_staff).await, 200);

    shops
        .publish(
            "tenant.reinstated",
            Some(shop),
            json!({"slug": "aksu-apples"}),
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while status_of(&notes, &staff).await != 200 {
        assert!(Instant::now() < deadline, "never served again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
