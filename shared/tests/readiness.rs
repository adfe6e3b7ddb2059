#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! `/readyz` answers 503 while Redis is down and 200 again once it is back, without a
//! restart of the service. Runs a Redis server of its own on a free port.

mod common;

use common::spawn_notes;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct RedisServer(Child);

impl RedisServer {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        Self(child)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
    let redis = RedisServer::start(port);
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

    let _redis = RedisServer::start(port);
    let back = wait_for_status(&app, 200).await;
    assert_eq!(back["database"], "up");
}
