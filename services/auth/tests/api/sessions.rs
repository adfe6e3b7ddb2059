use crate::helpers::{PASSWORD, claims, problem, spawn_app, unique_email, unique_slug};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn refresh_rotates_reuse_revokes_the_family_and_logout_ends_it() {
    let auth = spawn_app().await;
    let email = unique_email("session");
    auth.verified_user(&email).await;
    let first = auth.tokens(&email, PASSWORD, None).await;
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 900);
    let token_claims = claims(first["access_token"].as_str().unwrap());
    assert_eq!(token_claims["role"], "customer");
    assert_eq!(token_claims["iss"], "caravan-auth");

    let second: serde_json::Value = auth
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);

    // Replaying the first token: refused, and the whole family (second too) is revoked.
    let replay = auth
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(replay.status(), 401);
    let after = auth
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": second["refresh_token"]}),
        )
        .await;
    assert_eq!(after.status(), 401);

    // A new login is a new family; logout ends it.
    let third = auth.tokens(&email, PASSWORD, None).await;
    let out = auth
        .post(
            "/v1/auth/logout",
            &json!({"refresh_token": third["refresh_token"]}),
        )
        .await;
    assert_eq!(out.status(), 204);
    let gone = auth
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": third["refresh_token"]}),
        )
        .await;
    assert_eq!(gone.status(), 401);
}

#[tokio::test]
async fn repeated_failures_are_throttled_and_unknown_emails_look_the_same() {
    let auth = spawn_app().await;
    let email = unique_email("throttle");
    auth.verified_user(&email).await;

    let unknown = auth.login(&unique_email("ghost"), PASSWORD, None).await;
    let unknown = problem(unknown, 401).await;
    let wrong = problem(auth.login(&email, "wrong-password-1", None).await, 401).await;
    assert_eq!(unknown["detail"], wrong["detail"]);
    assert_eq!(unknown["code"], wrong["code"]);

    for attempt in 2..=5 {
        let response = auth
            .login(&email, &format!("wrong-password-{attempt}"), None)
            .await;
        assert_eq!(response.status(), 401);
    }
    let throttled = auth.login(&email, PASSWORD, None).await;
    assert_eq!(throttled.status(), 429);
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after));
    assert_eq!(problem(throttled, 429).await["code"], "too_many_requests");

    // After the wait, the right password works again.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    auth.tokens(&email, PASSWORD, None).await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_take_about_as_long() {
    let auth = spawn_app().await;
    let email = unique_email("timing");
    auth.verified_user(&email).await;
    let mut known = Duration::ZERO;
    let mut unknown = Duration::ZERO;
    for round in 0..3 {
        let started = Instant::now();
        auth.login(&email, &format!("not-it-{round}"), None).await;
        known += started.elapsed();
        let started = Instant::now();
        auth.login(&unique_email("nobody"), "not-it", None).await;
        unknown += started.elapsed();
    }
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "known {known:?} vs unknown {unknown:?}"
    );
}

#[tokio::test]
async fn a_suspended_shop_gets_no_new_tokens_and_its_sessions_end() {
    let auth = spawn_app().await;
    let slug = unique_slug("turpan");
    let (tenant, owner, tokens) = auth.shop_with_owner(&slug).await;
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["tid"],
        tenant.to_string()
    );

    auth.shops
        .publish(
            "tenant.suspended",
            Some(tenant),
            json!({"slug": slug, "reason": "unpaid"}),
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let login = auth.login(&owner, PASSWORD, Some(&slug)).await;
        if login.status() == 403 {
            assert_eq!(problem(login, 403).await["code"], "tenant_suspended");
            break;
        }
        assert!(Instant::now() < deadline, "suspension never reached auth");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refresh = auth
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status(), 401);

    auth.shops
        .publish("tenant.reinstated", Some(tenant), json!({"slug": slug}))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while auth.login(&owner, PASSWORD, Some(&slug)).await.status() != 200 {
        assert!(
            Instant::now() < deadline,
            "reinstatement never reached auth"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_is_counted_as_it_arrives() {
    let auth = spawn_app().await;
    let email = unique_email("burst");
    auth.verified_user(&email).await;
    let mut guesses = Vec::new();
    for attempt in 0..30 {
        let client = auth.app.client.clone();
        let url = auth.app.url("/v1/auth/login");
        let body = json!({"email": email, "password": format!("guess-number-{attempt}")});
        guesses.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            401 => checked += 1,
            429 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(checked <= 6, "{checked} guesses were checked");
}
