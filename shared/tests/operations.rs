#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! `GET /v1/operations/{service}/status`: what an operator reads about a running
//! service — its database, Redis, parked events and event relay — through real HTTP,
//! PostgreSQL and a Redis server of the test's own.

mod common;

use caravan_shared::db;
use caravan_shared::identity::Role;
use caravan_shared::testing::{RedisServer, TestApp, free_port, problem};
use common::spawn_notes;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn status(app: &TestApp, token: Option<&str>, service: &str) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/v1/operations/{service}/status")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// Polls the status until `ready` holds for it.
async fn status_until(app: &TestApp, operator: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answer = status(app, Some(operator), "catalog").await;
        assert_eq!(answer.status(), 200);
        let body: Value = answer.json().await.unwrap();
        if ready(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "the status never became so: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_operator_sees_dependencies_parked_events_and_the_relay() {
    let port = free_port();
    let redis_url = format!("redis://127.0.0.1:{port}");
    let redis = RedisServer::start(port).unwrap();
    // The notes service runs under the catalog's name.
    let app = spawn_notes(&[("REDIS_URL", &redis_url)]).await;
    let operator = app.keys.operator();

    let fresh = status_until(&app, &operator, |body| body["redis"] == "up").await;
    assert_eq!(fresh["service"], "catalog");
    assert_eq!(fresh["database"], "up");
    assert_eq!(fresh["parked"], 0);
    assert_eq!(
        fresh["relay"],
        json!({"published": 0, "backlog": 0, "lag_seconds_mean": null, "lag_seconds_p99": null})
    );

    // Three events committed: the relay publishes them and times each.
    for index in 0..3 {
        app.publish("note.created", None, json!({"index": index}))
            .await
            .unwrap();
    }
    let published = status_until(&app, &operator, |body| body["relay"]["published"] == 3).await;
    assert_eq!(published["relay"]["backlog"], 0);
    let mean = published["relay"]["lag_seconds_mean"].as_f64().unwrap();
    let p99 = published["relay"]["lag_seconds_p99"].as_f64().unwrap();
    assert!(mean >= 0.0 && mean <= p99, "{published}");

    // An event the service's handler gave up on counts until it is resolved.
    let owner = db::connect(&app.database.owner_url, 1).await.unwrap();
    owner
        .execute_unprepared(&format!(
            "INSERT INTO parked_events (producer, seq, event_id, event_type, envelope, error, attempts) \
             VALUES ('tenant', 7, '{}', 'tenant.updated', '{{}}', 'deadlock detected', 5), \
                    ('tenant', 8, '{}', 'tenant.updated', '{{}}', 'deadlock detected', 5)",
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7()
        ))
        .await
        .unwrap();
    owner
        .execute_unprepared("UPDATE parked_events SET resolved_at = now() WHERE seq = 8")
        .await
        .unwrap();
    let parked = status_until(&app, &operator, |body| body["parked"] == 1).await;
    assert_eq!(parked["database"], "up");

    // Redis goes away: still an answer, saying so.
    drop(redis);
    let down = status_until(&app, &operator, |body| body["redis"] == "down").await;
    assert_eq!(down["database"], "up");
    assert_eq!(down["relay"]["published"], 3);
}

#[tokio::test]
async fn only_operators_read_the_status_and_only_of_the_service_they_ask() {
    let app = spawn_notes(&[]).await;
    let shop = uuid::Uuid::now_v7();

    let anonymous = status(&app, None, "catalog").await;
    assert_eq!(problem(anonymous, 401).await["code"], "unauthorized");
    let owner = app.keys.member(shop, Role::Owner, &["catalog:read"]);
    let refused = status(&app, Some(&owner), "catalog").await;
    assert_eq!(problem(refused, 403).await["code"], "forbidden");

    let operator = app.keys.operator();
    let elsewhere = status(&app, Some(&operator), "order").await;
    assert_eq!(problem(elsewhere, 404).await["code"], "not_found");
    let here = status(&app, Some(&operator), "catalog").await;
    assert_eq!(here.status(), 200);

    // Documented with the service's other operations.
    let document: Value = app.get("/openapi.json").await.json().await.unwrap();
    let operation = &document["paths"]["/v1/operations/{service}/status"]["get"];
    assert_eq!(operation["operationId"], "operations_status");
    assert!(
        document["components"]["schemas"]["ServiceStatus"]["example"].is_object(),
        "{document}"
    );
}
