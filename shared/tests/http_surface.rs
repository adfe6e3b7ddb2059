#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! The common HTTP surface: problem+json for every kind of bad request, request ids,
//! hidden internals, and the caller extractors.

mod common;

use caravan_shared::identity::Role;
use caravan_shared::testing::problem;
use common::spawn_notes;
use serde_json::{Value, json};

const PROBLEM: &str = "application/problem+json";

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn bad_requests_answer_problems_never_500() {
    let app = spawn_notes(&[("BODY_LIMIT_BYTES", "1024")]).await;
    let url = app.url("/v1/notes/echo");

    let ok = app
        .client
        .post(&url)
        .json(&json!({"body": "Turpan raisins", "weight_grams": 500}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    let malformed = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"body": "#)
        .send()
        .await
        .unwrap();
    problem(malformed, 400).await;

    let wrong_type = app
        .client
        .post(&url)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    problem(wrong_type, 415).await;

    let too_large = app
        .client
        .post(&url)
        .json(&json!({"body": "x".repeat(2000), "weight_grams": 1}))
        .send()
        .await
        .unwrap();
    problem(too_large, 413).await;

    let invalid = app
        .client
        .post(&url)
        .json(&json!({"body": "goji", "weight_grams": -1}))
        .send()
        .await
        .unwrap();
    let body = problem(invalid, 422).await;
    assert_eq!(body["errors"][0]["field"], "weight_grams");

    let unknown_field = app
        .client
        .post(&url)
        .json(&json!({"body": "goji", "weight_grams": 1, "colour": "red"}))
        .send()
        .await
        .unwrap();
    problem(unknown_field, 422).await;

    let wrong_method = app.client.delete(&url).send().await.unwrap();
    // RFC 9110: a 405 says which methods the resource does take.
    let allow = wrong_method
        .headers()
        .get("allow")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    problem(wrong_method, 405).await;
    assert_eq!(allow.as_deref(), Some("POST"));

    let unknown_route = app.get("/v1/nothing-here").await;
    problem(unknown_route, 404).await;
}

#[tokio::test]
async fn internal_errors_hide_their_cause() {
    let app = spawn_notes(&[]).await;
    let response = app.get("/v1/notes/broken").await;
    let body = problem(response, 500).await;
    assert!(
        !body.to_string().contains("secret_internal_table"),
        "{body}"
    );
}

#[tokio::test]
async fn request_ids_are_taken_or_made_and_echoed() {
    let app = spawn_notes(&[]).await;
    let given = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "checkout-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "checkout-42");

    let made = app.get("/healthz").await;
    let id = made.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let failed = app.get("/nowhere").await;
    assert!(failed.headers().contains_key("x-request-id"));
}

async fn call(app: &caravan_shared::testing::TestApp, path: &str, token: Option<&str>) -> u16 {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status >= 400 {
        assert_eq!(content_type(&response), PROBLEM);
    }
    status
}

#[tokio::test]
async fn extractors_admit_only_their_kind_of_caller() {
    let app = spawn_notes(&[]).await;
    let shop = uuid::Uuid::now_v7();
    let owner = app
        .keys
        .member(shop, Role::Owner, &["catalog:read", "catalog:write"]);
    let customer = app.keys.member(shop, Role::Customer, &[]);
    let reader_app = app.keys.member(shop, Role::App, &["catalog:read"]);
    let operator = app.keys.operator();

    assert_eq!(call(&app, "/v1/notes/whoami", None).await, 401);
    assert_eq!(call(&app, "/v1/notes/whoami", Some("not-a-jwt")).await, 401);
    assert_eq!(call(&app, "/v1/notes/whoami", Some(&customer)).await, 200);

    assert_eq!(call(&app, "/v1/notes/staff", Some(&owner)).await, 200);
    assert_eq!(call(&app, "/v1/notes/staff", Some(&customer)).await, 403);
    assert_eq!(call(&app, "/v1/notes/staff", Some(&operator)).await, 403);

    assert_eq!(
        call(&app, "/v1/notes/operators", Some(&operator)).await,
        204
    );
    assert_eq!(call(&app, "/v1/notes/operators", Some(&owner)).await, 403);

    assert_eq!(
        call(&app, "/v1/notes/catalog-write", Some(&owner)).await,
        200
    );
    assert_eq!(
        call(&app, "/v1/notes/catalog-write", Some(&reader_app)).await,
        403
    );

    let whoami: Value = app
        .client
        .get(app.url("/v1/notes/staff"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(whoami["tenant"], shop.to_string());
}
