#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! The gateway as the edge, over real HTTP: paths with two readings never reach a
//! service, and what a client claims about itself is not passed on.

mod common;

use caravan_gateway::limits::Limits;
use caravan_shared::testing::redis_url;
use common::{raw_status, start};

const TRAVERSALS: &str = include_str!("traversals.txt");

fn roomy() -> Limits {
    Limits {
        anonymous: 10_000,
        authenticated: 10_000,
    }
}

#[tokio::test]
async fn no_traversal_spelling_reaches_a_service() {
    let setup = start(roomy(), redis_url(), "").await;
    for path in TRAVERSALS.lines().filter(|line| !line.is_empty()) {
        for method in ["GET", "POST"] {
            let status = raw_status(setup.port, method, path, &[("content-length", "0")]).await;
            assert!(
                status == 404 || status == 400,
                "{method} {path} answered {status}"
            );
        }
    }
    assert_eq!(
        setup.reached(),
        0,
        "reached the upstream: {:?}",
        setup.seen.lock().unwrap()
    );
    // The same gateway still routes an ordinary path, exactly as written.
    let status = raw_status(
        setup.port,
        "GET",
        "/v1/shops/goji/products/%E6%9E%B8%E6%9D%9E?q=%2e%2e",
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        setup.last().path,
        "/v1/shops/goji/products/%E6%9E%B8%E6%9D%9E"
    );
}

#[tokio::test]
async fn claims_about_the_client_are_replaced_by_what_the_gateway_knows() {
    let setup = start(roomy(), redis_url(), "").await;
    let status = raw_status(
        setup.port,
        "GET",
        "/v1/plans",
        &[
            ("x-forwarded-for", "203.0.113.7"),
            ("forwarded", "for=203.0.113.8;proto=https;host=evil.example"),
            ("x-real-ip", "203.0.113.9"),
            ("true-client-ip", "203.0.113.10"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
            ("x-original-url", "/internal/v1/events"),
            ("caravan-gateway", "0"),
            ("x-request-id", "req-7f3a9c"),
            ("connection", "close, x-secret-hop"),
            ("x-secret-hop", "dropped"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let seen = setup.last();
    assert_eq!(seen.header("x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(seen.header("forwarded"), None);
    assert_eq!(seen.header("x-real-ip"), None);
    assert_eq!(seen.header("true-client-ip"), None);
    assert_eq!(seen.header("x-original-url"), None);
    assert_eq!(seen.header("x-forwarded-host"), Some("localhost"));
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
    assert_eq!(seen.header("caravan-gateway"), Some("1"));
    assert_eq!(seen.header("x-secret-hop"), None);
    let copies = seen
        .headers
        .iter()
        .filter(|(name, _)| {
            name == "x-forwarded-for" || name == "caravan-gateway" || name == "x-request-id"
        })
        .count();
    assert_eq!(copies, 3, "one of each: {:?}", seen.headers);
    assert_eq!(seen.header("x-request-id"), Some("req-7f3a9c"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_is_the_first_address_it_did_not_write() {
    let setup = start(roomy(), redis_url(), "127.0.0.1/32, 10.0.0.0/8").await;
    let status = raw_status(
        setup.port,
        "GET",
        "/v1/plans",
        &[("x-forwarded-for", "198.51.100.1, 203.0.113.5, 10.1.2.3")],
    )
    .await;
    assert_eq!(status, 200);
    // 10.1.2.3 is another trusted hop; 203.0.113.5 is who reached our proxies;
    // 198.51.100.1 is only what that client claimed.
    assert_eq!(setup.last().header("x-forwarded-for"), Some("203.0.113.5"));
}

#[tokio::test]
async fn spoofed_forwarding_headers_buy_no_new_allowance() {
    let setup = start(
        Limits {
            anonymous: 2,
            authenticated: 10,
        },
        redis_url(),
        "",
    )
    .await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        let spoof = format!("203.0.113.{n}");
        let forwarded = format!("for={spoof}");
        statuses.push(
            raw_status(
                setup.port,
                "GET",
                "/v1/plans",
                &[
                    ("x-forwarded-for", spoof.as_str()),
                    ("forwarded", forwarded.as_str()),
                    ("x-real-ip", spoof.as_str()),
                ],
            )
            .await,
        );
    }
    assert_eq!(statuses, [200, 200, 429, 429]);
}

#[tokio::test]
async fn the_docs_page_may_not_be_framed_or_load_from_elsewhere() {
    let setup = start(roomy(), redis_url(), "").await;
    let response = reqwest::get(format!("{}/docs/", setup.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let page = response.text().await.unwrap();
    // Everything the page runs comes from files the policy admits.
    assert!(!page.contains("<script>"), "inline script in the docs page");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
}
