//! An account in several shops: choosing one at login, and switching between them
//! without signing in again.

use crate::helpers::{
    AuthApp, PASSWORD, claims, me_within_a_second, problem, spawn_app, unique_slug,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Someone who owns shop A and works in shop B: (A's slug, B's slug, their email).
async fn owner_of_one_staff_of_another(auth: &AuthApp) -> (String, String, String) {
    let (a, b) = (unique_slug("aksu"), unique_slug("kashgar"));
    let (_, email, _) = auth.shop_with_owner(&a).await;
    let (_, _, b_owner) = auth.shop_with_owner(&b).await;
    auth.join(b_owner["access_token"].as_str().unwrap(), &email, "staff")
        .await;
    (a, b, email)
}

fn access(tokens: &Value) -> &str {
    tokens["access_token"].as_str().unwrap()
}

#[tokio::test]
async fn login_without_a_shop_lists_the_shops_to_choose_from() {
    let auth = spawn_app().await;
    let (a, b, email) = owner_of_one_staff_of_another(&auth).await;

    let body = problem(auth.login(&email, PASSWORD, None).await, 422).await;
    assert_eq!(body["errors"][0]["field"], "tenant");
    assert_eq!(body["choices"], json!([a, b]), "{body}");
    // The sentence stays, for people reading it.
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("choose one of"), "{message}");
    assert!(message.contains(&a) && message.contains(&b), "{message}");

    // Each choice logs in; other problems carry no choices.
    for slug in [&a, &b] {
        auth.tokens(&email, PASSWORD, Some(slug)).await;
    }
    let wrong = problem(auth.login(&email, "not-the-password", None).await, 401).await;
    assert!(wrong.get("choices").is_none(), "{wrong}");
}

#[tokio::test]
async fn switching_shop_keeps_one_session_that_logout_ends_everywhere() {
    let auth = spawn_app().await;
    let (a, b, email) = owner_of_one_staff_of_another(&auth).await;
    let in_a = auth.tokens(&email, PASSWORD, Some(&a)).await;
    let a_claims = claims(access(&in_a));
    assert_eq!(a_claims["role"], "owner");

    let switched = auth.switch(&in_a["refresh_token"], &b).await;
    assert_eq!(switched.status(), 200);
    let in_b: Value = switched.json().await.unwrap();
    let b_claims = claims(access(&in_b));
    assert_eq!(b_claims["role"], "staff");
    assert_ne!(b_claims["tid"], a_claims["tid"]);
    assert_eq!(b_claims["sub"], a_claims["sub"]);
    assert_eq!(b_claims["sid"], a_claims["sid"], "the same session");
    assert!(
        !b_claims["scope"]
            .as_str()
            .unwrap()
            .contains("webhooks:write")
    );
    assert_eq!(
        auth.get_with(access(&in_b), "/v1/auth/me").await.status(),
        200
    );

    // And back again: still the same session; the token switched with is spent.
    let back = auth.switch(&in_b["refresh_token"], &a).await;
    assert_eq!(back.status(), 200);
    let back: Value = back.json().await.unwrap();
    let back_claims = claims(access(&back));
    assert_eq!(back_claims["tid"], a_claims["tid"]);
    assert_eq!(back_claims["role"], "owner");
    assert_eq!(back_claims["sid"], a_claims["sid"]);

    // One logout ends the session in both shops: every access token and the refresh
    // token are refused.
    let out = auth
        .post(
            "/v1/auth/logout",
            &json!({"refresh_token": back["refresh_token"]}),
        )
        .await;
    assert_eq!(out.status(), 204);
    for tokens in [&in_a, &in_b, &back] {
        me_within_a_second(&auth, access(tokens), 401).await;
    }
    assert_eq!(auth.refresh(&back["refresh_token"]).await.status(), 401);
    assert_eq!(auth.switch(&back["refresh_token"], &b).await.status(), 401);
}

#[tokio::test]
async fn a_refresh_token_reused_to_switch_revokes_the_session() {
    let auth = spawn_app().await;
    let (a, b, email) = owner_of_one_staff_of_another(&auth).await;
    let first = auth.tokens(&email, PASSWORD, Some(&a)).await;
    let second: Value = auth
        .switch(&first["refresh_token"], &b)
        .await
        .json()
        .await
        .unwrap();

    // Replayed, to either shop: refused, and the whole session ends.
    let replay = problem(auth.switch(&first["refresh_token"], &a).await, 401).await;
    assert!(
        replay["detail"].as_str().unwrap().contains("already used"),
        "{replay}"
    );
    let after = problem(auth.refresh(&second["refresh_token"]).await, 401).await;
    assert!(
        after["detail"]
            .as_str()
            .unwrap()
            .contains("session has ended"),
        "{after}"
    );
    me_within_a_second(&auth, access(&second), 401).await;

    // A token that never was: 401, nothing else.
    let unknown = auth.switch(&json!("not-a-refresh-token"), &a).await;
    assert_eq!(unknown.status(), 401);
}

#[tokio::test]
async fn a_refused_switch_leaves_the_session_as_it_was() {
    let auth = spawn_app().await;
    let (a, b, email) = owner_of_one_staff_of_another(&auth).await;
    // A shop that exists, where this account is not a member.
    let c = unique_slug("korla");
    auth.shop_with_owner(&c).await;
    let session = auth.tokens(&email, PASSWORD, Some(&a)).await;

    for slug in [c.as_str(), "no-such-shop"] {
        let refused = problem(auth.switch(&session["refresh_token"], slug).await, 403).await;
        assert_eq!(refused["code"], "not_a_member", "{refused}");
    }
    let empty = problem(auth.switch(&session["refresh_token"], " ").await, 422).await;
    assert_eq!(empty["errors"][0]["field"], "tenant");

    // The refused token is not spent: it still switches (to a shop the account is in)
    // and its access token still works.
    assert_eq!(
        auth.get_with(access(&session), "/v1/auth/me")
            .await
            .status(),
        200
    );
    let switched = auth.switch(&session["refresh_token"], &b).await;
    assert_eq!(switched.status(), 200);
    let in_b: Value = switched.json().await.unwrap();

    // A suspended shop is refused the same way, and leaves the session too.
    let a_tenant: uuid::Uuid = claims(access(&session))["tid"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    auth.shops
        .publish(
            "tenant.suspended",
            Some(a_tenant),
            json!({"slug": a, "reason": "unpaid"}),
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while auth.login(&email, PASSWORD, Some(&a)).await.status() != 403 {
        assert!(Instant::now() < deadline, "suspension never reached auth");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = problem(auth.switch(&in_b["refresh_token"], &a).await, 403).await;
    assert_eq!(refused["code"], "tenant_suspended", "{refused}");
    assert_eq!(auth.refresh(&in_b["refresh_token"]).await.status(), 200);
}
