#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! Rate limits at the gateway, counted in the real Redis, over real HTTP: a small
//! upstream stands in for the services and records what reaches it.

mod common;

use caravan_gateway::limits::Limits;
use caravan_shared::identity::Role;
use caravan_shared::testing::redis_url;
use common::{Setup, start};

fn header(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

async fn plans(setup: &Setup, headers: &[(&str, &str)]) -> reqwest::Response {
    get(setup, "/v1/plans", headers).await
}

#[tokio::test]
async fn a_client_over_its_limit_gets_429_and_every_answer_says_where_it_stands() {
    let limits = Limits {
        anonymous: 3,
        authenticated: 2,
    };
    let setup = start(limits, redis_url(), "").await;
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
        setup.reached(),
        3,
        "a refused request must not reach the service"
    );

    // Claiming another address does not buy a new allowance.
    let spoofed = plans(&setup, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(spoofed.status(), 429);

    // Each genuine bearer token has an allowance of its own, apart from the address's.
    let tenant = uuid::Uuid::now_v7();
    let tokens = [
        format!(
            "Bearer {}",
            setup.keys.member(tenant, Role::App, &["catalog:read"])
        ),
        format!("Bearer {}", setup.keys.member(tenant, Role::Owner, &[])),
    ];
    for token in tokens.iter().map(String::as_str) {
        for remaining in [1, 0] {
            let response = plans(&setup, &[("authorization", token)]).await;
            assert_eq!(response.status(), 200, "{token}");
            assert_eq!(header(&response, "ratelimit-limit"), Some(2));
            assert_eq!(header(&response, "ratelimit-remaining"), Some(remaining));
        }
        let refused = plans(&setup, &[("authorization", token)]).await;
        assert_eq!(refused.status(), 429, "{token}");
    }
    assert_eq!(setup.reached(), 7);
}

#[tokio::test]
async fn a_made_up_token_earns_no_allowance_of_its_own() {
    let limits = Limits {
        anonymous: 2,
        authenticated: 100,
    };
    let setup = start(limits, redis_url(), "").await;
    let genuine = setup.keys.operator();
    // A token signed by another key, one that is not a JWT, one with a made-up key id:
    // each request counts against the address like any anonymous one.
    let forged = caravan_shared::testing::TestKeys::start()
        .await
        .unwrap()
        .operator();
    let junk = [
        "Bearer junk-1".to_owned(),
        format!("Bearer {forged}"),
        "Bearer eyJhbGciOiJFZERTQSIsImtpZCI6Im1hZGUtdXAifQ.e30.c2ln".to_owned(),
    ];
    let mut statuses = Vec::new();
    for token in &junk {
        statuses.push(
            plans(&setup, &[("authorization", token)])
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        statuses,
        [200, 200, 429],
        "junk tokens share the address's allowance"
    );
    let response = plans(&setup, &[("authorization", &format!("Bearer {genuine}"))]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "ratelimit-limit"), Some(100));
}

#[tokio::test]
async fn requests_pass_uncounted_while_redis_is_unreachable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let redis_url = format!("redis://{}", closed.local_addr().unwrap());
    drop(closed);
    let setup = start(
        Limits {
            anonymous: 1,
            authenticated: 1,
        },
        redis_url,
        "",
    )
    .await;
    for _ in 0..3 {
        let response = plans(&setup, &[]).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("ratelimit-limit").is_none());
    }
    assert_eq!(setup.reached(), 3);
}

async fn get(setup: &Setup, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}{path}", setup.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn buyers_behind_the_web_tier_have_budgets_of_their_own_and_a_page_counts_once() {
    let limits = Limits {
        anonymous: 2,
        authenticated: 100,
    };
    // The test client stands for the web tier: its address is the trusted proxy.
    let setup = start(limits, redis_url(), "127.0.0.1").await;
    let buyer_a = [("x-forwarded-for", "203.0.113.1")];

    // A page view of buyer A is counted and passed on with a grant for A.
    let page = get(&setup, "/s/goji/zh-CN/", &buyer_a).await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "ratelimit-remaining"), Some(1));
    let grant = setup
        .last()
        .header("caravan-page-grant")
        .expect("the web tier gets a grant")
        .to_owned();

    // The API calls behind that page hand the grant back: none is counted again,
    // and the grant goes no further than the gateway.
    for _ in 0..5 {
        let call = plans(
            &setup,
            &[
                ("x-forwarded-for", "203.0.113.1"),
                ("caravan-page-grant", grant.as_str()),
            ],
        )
        .await;
        assert_eq!(call.status(), 200);
        assert!(call.headers().get("ratelimit-remaining").is_none());
        assert!(setup.last().header("caravan-page-grant").is_none());
    }

    // Without a grant A's calls are counted against A: one left, then 429.
    assert_eq!(
        header(&plans(&setup, &buyer_a).await, "ratelimit-remaining"),
        Some(0)
    );
    assert_eq!(plans(&setup, &buyer_a).await.status(), 429);

    // Buyer B behind the same web tier has a budget of its own, and A's grant
    // buys B nothing.
    let buyer_b = [
        ("x-forwarded-for", "203.0.113.2"),
        ("caravan-page-grant", grant.as_str()),
    ];
    assert_eq!(
        header(&plans(&setup, &buyer_b).await, "ratelimit-remaining"),
        Some(1)
    );
    assert_eq!(
        header(&plans(&setup, &buyer_b).await, "ratelimit-remaining"),
        Some(0)
    );
    assert_eq!(plans(&setup, &buyer_b).await.status(), 429);
}

#[tokio::test]
async fn a_grant_from_a_client_that_is_not_a_trusted_proxy_counts_for_nothing() {
    let limits = Limits {
        anonymous: 2,
        authenticated: 100,
    };
    // Nobody is trusted: the client is the peer, whatever it claims.
    let setup = start(limits, redis_url(), "").await;
    let page = get(&setup, "/", &[]).await;
    assert_eq!(page.status(), 200);
    let grant = setup
        .last()
        .header("caravan-page-grant")
        .unwrap()
        .to_owned();
    let with_grant = [("caravan-page-grant", grant.as_str())];
    assert_eq!(
        header(&plans(&setup, &with_grant).await, "ratelimit-remaining"),
        Some(0)
    );
    assert_eq!(plans(&setup, &with_grant).await.status(), 429);
}
