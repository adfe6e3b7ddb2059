use crate::helpers::{PASSWORD, claims, spawn_app, unique_email};
use serde_json::json;

#[tokio::test]
async fn an_account_squatting_on_an_address_does_not_become_an_operator_with_its_password() {
    let auth = spawn_app().await;
    // Someone registers the address a new operator will have, and never verifies it.
    let email = unique_email("new-operator");
    assert_eq!(auth.register(&email, PASSWORD).await.status(), 201);

    let operator = auth.operator_token().await;
    let operator_password = "operators-own-strong-password";
    let made = auth
        .post_with(
            &operator,
            "/v1/auth/operators",
            &json!({"email": email, "password": operator_password}),
        )
        .await;
    assert_eq!(made.status(), 204);

    // The squatter's password opens nothing; the operator's own does.
    assert_eq!(auth.login(&email, PASSWORD, None).await.status(), 401);
    let tokens = auth.tokens(&email, operator_password, None).await;
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["role"],
        "platform_admin"
    );

    // A verified account keeps its password when made an operator.
    let colleague = unique_email("colleague");
    auth.verified_user(&colleague).await;
    let promoted = auth
        .post_with(
            &operator,
            "/v1/auth/operators",
            &json!({"email": colleague, "password": "some-other-long-password"}),
        )
        .await;
    assert_eq!(promoted.status(), 204);
    let tokens = auth.tokens(&colleague, PASSWORD, None).await;
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["role"],
        "platform_admin"
    );
}
