#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! Rate limits at the gateway, counted in the real Redis, over real HTTP: a small
//! upstream stands in for the tenant service and counts what reaches it.

use actix_web::{App, HttpResponse, HttpServer, web};
use caravan_gateway::limits::{Limits, WINDOW_SECS};
use caravan_gateway::{GatewaySettings, Upstreams, build};
use caravan_shared::testing::redis_url;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Setup {
    base: String,
    reached: Arc<AtomicUsize>,
}

/// Starts an upstream answering `GET /v1/plans` and a gateway in front of it, early
/// enough in a one-minute window that a test's requests all fall in the same one.
async fn start(limits: Limits, redis_url: String) -> Setup {
    let into_window = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % WINDOW_SECS;
    if into_window > WINDOW_SECS - 5 {
        tokio::time::sleep(std::time::Duration::from_secs(
            WINDOW_SECS - into_window + 1,
        ))
        .await;
    }
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = reached.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let counter = counter.clone();
        App::new().route(
            "/v1/plans",
            web::get().to(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { HttpResponse::Ok().json(serde_json::json!([])) }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let gateway = build(GatewaySettings {
        bind: "127.0.0.1:0".to_owned(),
        upstreams: Upstreams {
            auth: upstream.clone(),
            tenant: upstream.clone(),
            catalog: upstream.clone(),
            order: upstream,
        },
        redis_url,
        redis_prefix: format!("gateway-test-{}", uuid::Uuid::now_v7()),
        trust_forwarded_for: false,
        limits,
    })
    .unwrap();
    let base = format!("http://127.0.0.1:{}", gateway.port);
    tokio::spawn(gateway.server);
    Setup { base, reached }
}

fn header(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

async fn plans(setup: &Setup, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}/v1/plans", setup.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_client_over_its_limit_gets_429_and_every_answer_says_where_it_stands() {
    let limits = Limits {
        anonymous: 3,
        authenticated: 2,
    };
    let setup = start(limits, redis_url()).await;
    for remaining in [2, 1, 0] {
        let response = plans(&setup, &[]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "ratelimit-limit"), Some(3));
        assert_eq!(header(&response, "ratelimit-remaining"), Some(remaining));
        let reset = header(&response, "ratelimit-reset").unwrap();
        assert!((1..=60).contains(&reset), "reset {reset}");
    }
    let refused = plans(&setup, &[]).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "ratelimit-remaining"), Some(0));
    let retry_after = header(&refused, "retry-after").unwrap();
    assert_eq!(Some(retry_after), header(&refused, "ratelimit-reset"));
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["status"], 429);
    assert_eq!(
        setup.reached.load(Ordering::SeqCst),
        3,
        "a refused request must not reach the service"
    );

    // Claiming another address does not buy a new allowance.
    let spoofed = plans(&setup, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(spoofed.status(), 429);

    // Each bearer token has an allowance of its own, apart from the address's.
    for token in ["Bearer token-of-app-a", "Bearer token-of-app-b"] {
        for remaining in [1, 0] {
            let response = plans(&setup, &[("authorization", token)]).await;
            assert_eq!(response.status(), 200, "{token}");
            assert_eq!(header(&response, "ratelimit-limit"), Some(2));
            assert_eq!(header(&response, "ratelimit-remaining"), Some(remaining));
        }
        let refused = plans(&setup, &[("authorization", token)]).await;
        assert_eq!(refused.status(), 429, "{token}");
    }
    assert_eq!(setup.reached.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn requests_pass_uncounted_while_redis_is_unreachable() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let redis_url = format!("redis://{}", closed.local_addr().unwrap());
    drop(closed);
    let setup = start(
        Limits {
            anonymous: 1,
            authenticated: 1,
        },
        redis_url,
    )
    .await;
    for _ in 0..3 {
        let response = plans(&setup, &[]).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("ratelimit-limit").is_none());
    }
    assert_eq!(setup.reached.load(Ordering::SeqCst), 3);
}
