#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! `/readyz` answers 503 while Redis is down and 200 again once it is back, without a
//! restart of the service. Runs a Redis server of its own on a free port.

mod common;

use caravan_shared::testing::{RedisServer, free_port};
use common::spawn_notes;
use std::time::{Duration, Instant};

async fn wait_for_status(app: &caravan_shared::testing::TestApp, status: u16) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let response = app.get("/readyz").await;
        if response.status() == status {
            return response.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "/readyz never answered {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn readiness_follows_redis_down_and_back() {
    let port = free_port();
    let redis_url = format!("redis://127.0.0.1:{port}");
    let redis = RedisServer::start(port).unwrap();
    let app = spawn_notes(&[("REDIS_URL", &redis_url)]).await;

    let ready = wait_for_status(&app, 200).await;
    assert_eq!(ready["redis"], "up");

    drop(redis);
    let down = wait_for_status(&app, 503).await;
    assert_eq!(down["code"], "service_unavailable");
    assert!(
        down["detail"].as_str().unwrap().contains("redis down"),
        "{down}"
    );

    let _redis = RedisServer::start(port).unwrap();
    let back = wait_for_status(&app, 200).await;
    assert_eq!(back["database"], "up");
}
