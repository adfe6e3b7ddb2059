#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! A slow service is busy, not down (README, "Slow is not down"): the gateway tells
//! the service how long it waits (`Request-Timeout`), passes a service's 503 and its
//! `Retry-After` through, and answers 503 `busy` with `Retry-After` itself when the
//! service does not answer in time.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use caravan_gateway::limits::Limits;
use caravan_gateway::{GatewaySettings, Upstreams, build};
use caravan_shared::testing::{TEST_AUDIENCE, TEST_ISSUER, TestKeys, free_port, redis_url};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A catalog stand-in: `/v1/products/slow` answers after 3 s, `/v1/products/shed`
/// answers 503 `busy` with `Retry-After: 7`, anything else 200. It records the
/// `Request-Timeout` it was sent.
async fn start(
    upstream_timeout: Duration,
    catalog_up: bool,
) -> (String, Arc<Mutex<Vec<String>>>, TestKeys) {
    let keys = TestKeys::start().await.unwrap();
    let timeouts = Arc::new(Mutex::new(Vec::new()));
    let record = timeouts.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let record = record.clone();
        App::new().default_service(web::to(move |request: HttpRequest| {
            let told = request
                .headers()
                .get("request-timeout")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("none")
                .to_owned();
            record.lock().unwrap().push(told);
            async move {
                match request.path() {
                    "/v1/products/slow" => {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        HttpResponse::Ok().json(serde_json::json!({}))
                    }
                    "/v1/products/shed" => HttpResponse::ServiceUnavailable()
                        .insert_header(("Retry-After", "7"))
                        .content_type("application/problem+json")
                        .body(
                            r#"{"type":"/problems/busy","title":"Service busy","status":503,"code":"busy","detail":"the service is busy; try again in a moment"}"#,
                        ),
                    _ => HttpResponse::Ok().json(serde_json::json!({})),
                }
            }
        }))
    })
    .workers(2)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let catalog = if catalog_up {
        upstream.clone()
    } else {
        format!("http://127.0.0.1:{}", free_port())
    };
    let gateway = build(GatewaySettings {
        bind: "127.0.0.1:0".to_owned(),
        upstreams: Upstreams {
            auth: keys.auth_url.clone(),
            tenant: upstream.clone(),
            catalog,
            web: upstream.clone(),
            order: upstream,
        },
        redis_url: redis_url(),
        redis_prefix: format!("gateway-test-{}", uuid::Uuid::now_v7()),
        trusted_proxies: Default::default(),
        jwt_issuer: TEST_ISSUER.to_owned(),
        jwt_audience: TEST_AUDIENCE.to_owned(),
        limits: Limits {
            anonymous: 10_000,
            authenticated: 10_000,
        },
        upstream_timeout,
    })
    .unwrap();
    let base = format!("http://127.0.0.1:{}", gateway.port);
    tokio::spawn(gateway.server);
    (base, timeouts, keys)
}

#[tokio::test]
async fn a_service_that_sheds_load_is_passed_through_with_its_retry_after() {
    let (base, timeouts, _keys) = start(Duration::from_secs(2), true).await;
    let answer = reqwest::get(format!("{base}/v1/products/shed"))
        .await
        .unwrap();
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.headers()["retry-after"], "7");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "busy", "{body}");
    // The service was told how long the gateway waits.
    assert_eq!(timeouts.lock().unwrap().last().unwrap(), "2000");
}

#[tokio::test]
async fn a_service_too_slow_for_the_deadline_is_answered_busy_in_time() {
    let (base, timeouts, _keys) = start(Duration::from_millis(800), true).await;
    let started = Instant::now();
    let answer = reqwest::get(format!("{base}/v1/products/slow"))
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.headers()["retry-after"], "1");
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "busy", "{body}");
    assert_eq!(
        body["detail"], "the catalog service is busy; try again in a moment",
        "{body}"
    );
    assert!(!body.to_string().contains("127.0.0.1"), "{body}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    assert_eq!(timeouts.lock().unwrap().last().unwrap(), "800");

    // A client that waits less says so, and the service hears the shorter wait; a
    // client cannot make the gateway wait longer than its own timeout.
    let client = reqwest::Client::new();
    for (asked, told) in [("300", "300"), ("600000", "800"), ("soon", "800")] {
        let answer = client
            .get(format!("{base}/v1/products/fast"))
            .header("Request-Timeout", asked)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(timeouts.lock().unwrap().last().unwrap(), told, "{asked}");
    }
}

#[tokio::test]
async fn only_a_service_that_is_not_there_cannot_be_reached() {
    let (base, _, _keys) = start(Duration::from_secs(2), false).await;
    let answer = reqwest::get(format!("{base}/v1/products")).await.unwrap();
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.headers()["retry-after"], "1");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "service_unavailable", "{body}");
    assert_eq!(
        body["detail"], "the catalog service cannot be reached; try again shortly",
        "{body}"
    );
}
