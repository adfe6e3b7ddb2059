use crate::helpers::{
    PASSWORD, claims, me_within_a_second, problem, spawn_app, unique_email, unique_slug,
};
use serde_json::{Value, json};
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
    // The fastest of several tries of each: what the work costs, without the pauses
    // a busy machine adds to one try or another.
    let mut known = Duration::MAX;
    let mut unknown = Duration::MAX;
    for round in 0..5 {
        let started = Instant::now();
        auth.login(&email, &format!("not-it-{round}"), None).await;
        known = known.min(started.elapsed());
        let started = Instant::now();
        auth.login(&unique_email("nobody"), "not-it", None).await;
        unknown = unknown.min(started.elapsed());
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

#[tokio::test]
async fn logout_ends_its_sessions_access_tokens_at_once_and_no_other_session() {
    let auth = spawn_app().await;
    let email = unique_email("logout");
    auth.verified_user(&email).await;
    let phone = auth.tokens(&email, PASSWORD, None).await;
    let laptop = auth.tokens(&email, PASSWORD, None).await;
    let phone_access = phone["access_token"].as_str().unwrap();
    let laptop_access = laptop["access_token"].as_str().unwrap();
    assert_ne!(
        claims(phone_access)["sid"],
        claims(laptop_access)["sid"],
        "each login is a session of its own"
    );
    // Nothing revoked: a token from before works.
    assert_eq!(
        auth.get_with(phone_access, "/v1/auth/me").await.status(),
        200
    );

    let out = auth
        .post(
            "/v1/auth/logout",
            &json!({"refresh_token": phone["refresh_token"]}),
        )
        .await;
    assert_eq!(out.status(), 204);
    let refused = me_within_a_second(&auth, phone_access, 401).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("session has ended"),
        "{refused}"
    );

    // The other session goes on, access and refresh.
    assert_eq!(
        auth.get_with(laptop_access, "/v1/auth/me").await.status(),
        200
    );
    let renewed = auth
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": laptop["refresh_token"]}),
        )
        .await;
    assert_eq!(renewed.status(), 200);

    // Renewing the ended session says it ended, not that the token was reused.
    let after = problem(
        auth.post(
            "/v1/auth/refresh",
            &json!({"refresh_token": phone["refresh_token"]}),
        )
        .await,
        401,
    )
    .await;
    let detail = after["detail"].as_str().unwrap();
    assert!(detail.contains("session has ended"), "{detail}");
    assert!(detail.contains("logged out"), "{detail}");
    assert!(!detail.contains("already used"), "{detail}");
}

#[tokio::test]
async fn refresh_token_reuse_ends_the_familys_access_tokens_too() {
    let auth = spawn_app().await;
    let email = unique_email("reuse");
    auth.verified_user(&email).await;
    let first = auth.tokens(&email, PASSWORD, None).await;
    let second: serde_json::Value = auth
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let second_access = second["access_token"].as_str().unwrap();
    assert_eq!(
        auth.get_with(second_access, "/v1/auth/me").await.status(),
        200
    );

    // Someone replays the first refresh token: the whole family ends, access included.
    let replay = problem(
        auth.post(
            "/v1/auth/refresh",
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await,
        401,
    )
    .await;
    assert!(
        replay["detail"].as_str().unwrap().contains("already used"),
        "{replay}"
    );
    me_within_a_second(&auth, second_access, 401).await;
    me_within_a_second(&auth, first["access_token"].as_str().unwrap(), 401).await;
}

#[tokio::test]
async fn a_password_change_ends_every_session_of_the_account_at_once() {
    let auth = spawn_app().await;
    let email = unique_email("change-ends");
    auth.verified_user(&email).await;
    let phone = auth.tokens(&email, PASSWORD, None).await;
    let laptop = auth.tokens(&email, PASSWORD, None).await;
    let phone_access = phone["access_token"].as_str().unwrap();
    let laptop_access = laptop["access_token"].as_str().unwrap();
    let other = unique_email("bystander");
    auth.verified_user(&other).await;
    let bystander = auth.tokens(&other, PASSWORD, None).await;

    let new_password = "hotan-jujubes-in-the-sun";
    let changed = auth
        .post_with(
            phone_access,
            "/v1/auth/password/change",
            &json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    me_within_a_second(&auth, phone_access, 401).await;
    me_within_a_second(&auth, laptop_access, 401).await;
    let renewed = problem(
        auth.post(
            "/v1/auth/refresh",
            &json!({"refresh_token": laptop["refresh_token"]}),
        )
        .await,
        401,
    )
    .await;
    assert!(
        renewed["detail"]
            .as_str()
            .unwrap()
            .contains("session has ended"),
        "{renewed}"
    );

    // Another account is untouched; a new login with the new password works.
    let bystander_access = bystander["access_token"].as_str().unwrap();
    assert_eq!(
        auth.get_with(bystander_access, "/v1/auth/me")
            .await
            .status(),
        200
    );
    let fresh = auth.tokens(&email, new_password, None).await;
    let fresh_access = fresh["access_token"].as_str().unwrap();
    assert_eq!(
        auth.get_with(fresh_access, "/v1/auth/me").await.status(),
        200
    );
}

#[tokio::test]
async fn a_password_reset_ends_every_session_of_the_account_at_once() {
    let auth = spawn_app().await;
    let email = unique_email("reset-ends");
    auth.verified_user(&email).await;
    let session = auth.tokens(&email, PASSWORD, None).await;
    let access = session["access_token"].as_str().unwrap();
    assert_eq!(auth.get_with(access, "/v1/auth/me").await.status(), 200);

    let forgot = auth
        .post("/v1/auth/password/forgot", &json!({"email": email}))
        .await;
    assert_eq!(forgot.status(), 202);
    let mail = caravan_shared::testing::wait_for_mail(&email, 2)
        .await
        .unwrap();
    let token = mail
        .iter()
        .find(|m| m.subject.contains("Reset"))
        .unwrap()
        .token()
        .unwrap();
    let new_password = "walnuts-of-aksu-crack-open";
    let reset = auth
        .post(
            "/v1/auth/password/reset",
            &json!({"token": token, "password": new_password}),
        )
        .await;
    assert_eq!(reset.status(), 204);
    me_within_a_second(&auth, access, 401).await;

    let fresh = auth.tokens(&email, new_password, None).await;
    let fresh_access = fresh["access_token"].as_str().unwrap();
    assert_eq!(
        auth.get_with(fresh_access, "/v1/auth/me").await.status(),
        200
    );
}

#[tokio::test]
async fn many_people_behind_one_address_log_in_while_failures_still_wait() {
    let auth = spawn_app().await;
    let mut people = Vec::new();
    for tag in ["office-a", "office-b", "office-c"] {
        let email = unique_email(tag);
        auth.verified_user(&email).await;
        people.push(email);
    }
    // More than the address's 20 free attempts, all from 127.0.0.1, all right.
    for round in 0..25 {
        let email = &people[round % people.len()];
        let response = auth.login(email, PASSWORD, None).await;
        assert_eq!(response.status(), 200, "login {round} was refused");
    }

    // A burst of wrong guesses from the same address (each at a different account, so
    // only the address counts) is counted as it arrives: about 20 are checked.
    let mut guesses = Vec::new();
    for attempt in 0..40 {
        let client = auth.app.client.clone();
        let url = auth.app.url("/v1/auth/login");
        let body = json!({"email": unique_email(&format!("guess{attempt}")), "password": "not-the-password"});
        guesses.push(tokio::spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok());
            (response.status().as_u16(), retry_after)
        }));
    }
    let mut checked = 0;
    let mut waited = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            (401, _) => checked += 1,
            (429, Some(retry_after)) => {
                assert!((1..=900).contains(&retry_after));
                waited += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(checked <= 21, "{checked} guesses were checked");
    assert!(waited >= 19, "only {waited} guesses had to wait");

    // After 20 failures the address waits, even for the right password.
    let after = auth.login(&people[0], PASSWORD, None).await;
    assert_eq!(after.status(), 429);
    assert!(after.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_refresh_racing_a_logout_leaves_the_session_nothing_to_renew() {
    let auth = spawn_app().await;
    let email = unique_email("race");
    auth.verified_user(&email).await;
    for round in 0..25 {
        let pair = auth.tokens(&email, PASSWORD, None).await;
        let body = json!({"refresh_token": pair["refresh_token"]});
        let (renewed, out) = tokio::join!(
            auth.post("/v1/auth/refresh", &body),
            auth.post("/v1/auth/logout", &body)
        );
        assert_eq!(out.status(), 204);
        if renewed.status() == 200 {
            // The refresh won the race: the token it handed out belongs to an ended
            // session and must not renew it.
            let renewed: Value = renewed.json().await.unwrap();
            let again = auth
                .post(
                    "/v1/auth/refresh",
                    &json!({"refresh_token": renewed["refresh_token"]}),
                )
                .await;
            assert_eq!(
                again.status(),
                401,
                "round {round}: the session outlived its logout"
            );
        }
    }
}

#[tokio::test]
async fn a_login_let_through_a_wait_does_not_make_the_next_person_wait() {
    let auth = spawn_app().await;
    let (first, second) = (unique_email("nat-first"), unique_email("nat-second"));
    auth.verified_user(&first).await;
    auth.verified_user(&second).await;
    // Twenty failures from this address (each at another account): the address waits.
    for attempt in 0..20 {
        let wrong = auth
            .login(
                &unique_email(&format!("miss{attempt}")),
                "not-the-password",
                None,
            )
            .await;
        assert_eq!(wrong.status(), 401, "failure {attempt}");
    }
    assert_eq!(auth.login(&first, PASSWORD, None).await.status(), 429);
    // Once the wait is over, one attempt is let through — and it is a success.
    let mut let_through = auth.login(&first, PASSWORD, None).await;
    for _ in 0..30 {
        if let_through.status() != 429 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let_through = auth.login(&first, PASSWORD, None).await;
    }
    assert_eq!(let_through.status(), 200);
    // A success claims no wait: the next person behind the address goes ahead too.
    assert_eq!(auth.login(&second, PASSWORD, None).await.status(), 200);
}
