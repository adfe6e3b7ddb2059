use crate::helpers::{problem, spawn_app};
use serde_json::{Value, json};

/// Every endpoint answers bad input with problem+json naming the field, never a 500.
#[tokio::test]
async fn bad_input_is_refused_with_the_field_at_fault() {
    let auth = spawn_app().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/v1/auth/register",
            json!({"email": "not-an-email", "password": "long-enough-password", "display_name": "A"}),
            "email",
        ),
        (
            "/v1/auth/register",
            json!({"email": "a@b.cn", "password": "short", "display_name": "A"}),
            "password",
        ),
        (
            "/v1/auth/register",
            json!({"email": "a@b.cn", "password": "long-enough-password", "display_name": " "}),
            "display_name",
        ),
        (
            "/v1/auth/register",
            json!({"email": "a@b.cn", "password": "long-enough-password"}),
            "display_name",
        ),
        (
            "/v1/auth/register",
            json!({"email": 7, "password": "long-enough-password", "display_name": "A"}),
            "email",
        ),
        (
            "/v1/auth/login",
            json!({"email": "nope", "password": "x"}),
            "email",
        ),
        ("/v1/auth/login", json!({"email": "a@b.cn"}), "password"),
        (
            "/v1/auth/verify-email",
            json!({"token": "made-up"}),
            "token",
        ),
        ("/v1/auth/verify-email", json!({}), "token"),
        ("/v1/auth/refresh", json!({}), "refresh_token"),
        (
            "/v1/auth/switch",
            json!({"tenant": "aksu"}),
            "refresh_token",
        ),
        ("/v1/auth/switch", json!({"refresh_token": "x"}), "tenant"),
        (
            "/v1/auth/switch",
            json!({"refresh_token": "x", "tenant": 7}),
            "tenant",
        ),
        (
            "/v1/auth/logout",
            json!({"refresh_token": 12}),
            "refresh_token",
        ),
        (
            "/v1/auth/password/forgot",
            json!({"email": "nope"}),
            "email",
        ),
        (
            "/v1/auth/password/reset",
            json!({"token": "made-up", "password": "long-enough-password"}),
            "token",
        ),
        (
            "/v1/auth/password/reset",
            json!({"token": "made-up", "password": "x"}),
            "password",
        ),
        (
            "/v1/auth/invitations/accept",
            json!({"token": "made-up", "password": "long-enough-password"}),
            "token",
        ),
        (
            "/v1/auth/invitations/accept",
            json!({"password": "long-enough-password"}),
            "token",
        ),
    ];
    for (path, body, field) in cases {
        let response = auth.post(path, &body).await;
        let body = problem(response, 422).await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|error| error["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{path}: {body}");
    }

    let malformed = auth
        .app
        .client
        .post(auth.app.url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\":")
        .send()
        .await
        .unwrap();
    problem(malformed, 400).await;

    let operator = auth.operator_token().await;
    // An operator has no shop: shop-only routes refuse.
    problem(
        auth.post_with(
            &operator,
            "/v1/auth/clients",
            &json!({"name": "x", "scopes": ["catalog:read"]}),
        )
        .await,
        403,
    )
    .await;
}

#[tokio::test]
async fn owner_routes_refuse_bad_values_with_the_field() {
    let auth = spawn_app().await;
    let (_tenant, _owner, tokens) = auth
        .shop_with_owner(&crate::helpers::unique_slug("aksu"))
        .await;
    let owner = tokens["access_token"].as_str().unwrap();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/v1/auth/clients",
            json!({"name": "", "scopes": ["catalog:read"]}),
            "name",
        ),
        (
            "/v1/auth/clients",
            json!({"name": "x", "scopes": []}),
            "scopes",
        ),
        (
            "/v1/auth/clients",
            json!({"name": "x", "scopes": ["root"]}),
            "scopes[0]",
        ),
        ("/v1/auth/invitations", json!({"email": "nope"}), "email"),
        (
            "/v1/auth/invitations",
            json!({"email": "a@b.cn", "role": "emperor"}),
            "role",
        ),
        (
            "/v1/auth/password/change",
            json!({"current_password": "x", "new_password": "short"}),
            "new_password",
        ),
    ];
    for (path, body, field) in cases {
        let body = problem(auth.post_with(owner, path, &body).await, 422).await;
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
    }
    problem(
        auth.delete_with(owner, "/v1/auth/clients/not-a-uuid").await,
        404,
    )
    .await;
}
