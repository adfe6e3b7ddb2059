use crate::helpers::{PASSWORD, problem, spawn_app, unique_email};
use caravan_shared::testing::{mail_to, wait_for_mail};
use serde_json::json;

#[tokio::test]
async fn registration_sends_a_working_verification_link() {
    let auth = spawn_app().await;
    let email = unique_email("ayse");
    let registered = auth.register(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(registered.status(), 201);
    let body: serde_json::Value = registered.json().await.unwrap();
    assert_eq!(body["email"], email, "the email is normalised");
    assert_eq!(body["email_verified"], false);

    // Unverified accounts cannot log in yet.
    let early = auth.login(&email, PASSWORD, None).await;
    assert_eq!(problem(early, 403).await["code"], "email_not_verified");

    let mail = wait_for_mail(&email, 1).await.unwrap();
    assert!(
        mail[0]
            .text
            .contains("https://caravan.example/verify-email?token=")
    );
    let token = mail[0].token().unwrap();
    let verified = auth
        .post("/v1/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(verified.status(), 204);
    // The link works once.
    let again = auth
        .post("/v1/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(problem(again, 422).await["errors"][0]["field"], "token");

    let tokens = auth.tokens(&email, PASSWORD, None).await;
    let me: serde_json::Value = auth
        .get_with(tokens["access_token"].as_str().unwrap(), "/v1/auth/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], email);
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["memberships"], json!([]));

    let duplicate = auth.register(&email, PASSWORD).await;
    let body = problem(duplicate, 409).await;
    assert_eq!(body["errors"][0]["field"], "email");
}

#[tokio::test]
async fn a_password_reset_works_once_and_ends_old_sessions() {
    let auth = spawn_app().await;
    let email = unique_email("reset");
    auth.verified_user(&email).await;
    let old_session = auth.tokens(&email, PASSWORD, None).await;

    // The answer is the same for an unknown address, and nothing is sent.
    let stranger = unique_email("nobody");
    let unknown = auth
        .post("/v1/auth/password/forgot", &json!({"email": stranger}))
        .await;
    assert_eq!(unknown.status(), 202);
    let known = auth
        .post("/v1/auth/password/forgot", &json!({"email": email}))
        .await;
    assert_eq!(known.status(), 202);

    let mail = wait_for_mail(&email, 2).await.unwrap();
    let reset = mail.iter().find(|m| m.subject.contains("Reset")).unwrap();
    let token = reset.token().unwrap();

    let weak = auth
        .post(
            "/v1/auth/password/reset",
            &json!({"token": token, "password": "short"}),
        )
        .await;
    assert_eq!(problem(weak, 422).await["errors"][0]["field"], "password");

    let new_password = "melons-of-hami-ripen-in-july";
    let done = auth
        .post(
            "/v1/auth/password/reset",
            &json!({"token": token, "password": new_password}),
        )
        .await;
    assert_eq!(done.status(), 204);
    let reused = auth
        .post(
            "/v1/auth/password/reset",
            &json!({"token": token, "password": "another-long-password"}),
        )
        .await;
    assert_eq!(problem(reused, 422).await["errors"][0]["field"], "token");

    assert_eq!(auth.login(&email, PASSWORD, None).await.status(), 401);
    auth.tokens(&email, new_password, None).await;
    let refreshed = auth
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": old_session["refresh_token"]}),
        )
        .await;
    assert_eq!(
        refreshed.status(),
        401,
        "sessions from before the reset are over"
    );
    assert!(mail_to(&stranger).await.unwrap().is_empty());
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one() {
    let auth = spawn_app().await;
    let email = unique_email("change");
    auth.verified_user(&email).await;
    let tokens = auth.tokens(&email, PASSWORD, None).await;
    let access = tokens["access_token"].as_str().unwrap();
    let wrong = auth
        .post_with(
            access,
            "/v1/auth/password/change",
            &json!({"current_password": "not-the-password", "new_password": "turpan-raisins-dry-in-autumn"}),
        )
        .await;
    assert_eq!(
        problem(wrong, 422).await["errors"][0]["field"],
        "current_password"
    );
    let changed = auth
        .post_with(
            access,
            "/v1/auth/password/change",
            &json!({"current_password": PASSWORD, "new_password": "turpan-raisins-dry-in-autumn"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    auth.tokens(&email, "turpan-raisins-dry-in-autumn", None)
        .await;
}
