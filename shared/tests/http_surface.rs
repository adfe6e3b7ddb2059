#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! The common HTTP surface: problem+json for every kind of bad request, request ids,
//! hidden internals, and the caller extractors.

mod common;

use actix_web::get;
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

    // A person may come signed in or not; a bad token is not taken for none, and an
    // app is not a person.
    let anyone = async |token: Option<&str>| {
        let mut request = app.client.get(app.url("/v1/notes/anyone"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        (status, body["role"].clone())
    };
    assert_eq!(anyone(None).await, (200, Value::Null));
    assert_eq!(anyone(Some(&customer)).await, (200, "customer".into()));
    assert_eq!(anyone(Some("not-a-jwt")).await.0, 401);
    assert_eq!(anyone(Some(&reader_app)).await.0, 403);

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

/// A public, cacheable answer, like the storefront's catalogue reads.
#[utoipa::path(responses((status = 200)))]
#[get("/v1/notes/public")]
async fn public_note() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=30"))
        .json(json!({"body": "Kashgar apricots"}))
}

/// The notes service with the public route besides its own.
async fn spawn_notes_with_public_route() -> caravan_shared::testing::TestApp {
    caravan_shared::testing::TestApp::spawn::<common::NotesMigrations, _, _>(
        caravan_shared::config::ServiceName::Catalog,
        |settings| async move {
            let context =
                caravan_shared::service::ServiceContext::start::<common::NotesMigrations>(settings)
                    .await?;
            caravan_shared::service::Application::serve(&context, common::INFO, |config| {
                common::routes(config);
                config.service(public_note);
            })
        },
        &[],
    )
    .await
    .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

/// Headers every answer carries; `cache` is the Cache-Control it must have.
fn assert_secure(response: &reqwest::Response, cache: &str) {
    let what = format!("{} {}", response.status(), response.url().path());
    assert_eq!(
        header(response, "x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        header(response, "cache-control").as_deref(),
        Some(cache),
        "{what}"
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_notes_with_public_route().await;
    let shop = uuid::Uuid::now_v7();
    let customer = app.keys.member(shop, Role::Customer, &[]);

    // JSON answers, one of them personal, are never stored by a cache.
    let echoed = app
        .client
        .post(app.url("/v1/notes/echo"))
        .json(&json!({"body": "Turpan raisins", "weight_grams": 500}))
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.status(), 200);
    assert_secure(&echoed, "no-store");
    assert!(header(&echoed, "content-security-policy").is_none());
    let personal = app
        .client
        .get(app.url("/v1/notes/whoami"))
        .bearer_auth(&customer)
        .send()
        .await
        .unwrap();
    assert_eq!(personal.status(), 200);
    assert_secure(&personal, "no-store");

    // Error answers of every origin: a handler, an extractor, the router, the method
    // check, the body limit.
    let broken = app.get("/v1/notes/broken").await;
    assert_secure(&broken, "no-store");
    problem(broken, 500).await;
    let invalid = app
        .client
        .post(app.url("/v1/notes/echo"))
        .json(&json!({"body": "goji", "weight_grams": -1}))
        .send()
        .await
        .unwrap();
    assert_secure(&invalid, "no-store");
    problem(invalid, 422).await;
    let unauthorised = app.get("/v1/notes/whoami").await;
    assert_secure(&unauthorised, "no-store");
    problem(unauthorised, 401).await;
    let nowhere = app.get("/v1/nothing-here").await;
    assert_secure(&nowhere, "no-store");
    problem(nowhere, 404).await;
    let wrong_method = app
        .client
        .delete(app.url("/v1/notes/echo"))
        .send()
        .await
        .unwrap();
    assert_secure(&wrong_method, "no-store");
    problem(wrong_method, 405).await;

    // A handler's own caching is kept.
    let public = app.get("/v1/notes/public").await;
    assert_eq!(public.status(), 200);
    assert_secure(&public, "public, max-age=30");
    let health = app.get("/healthz").await;
    assert_secure(&health, "no-store");
}

#[tokio::test]
async fn the_api_docs_run_only_their_own_code_and_cannot_be_framed() {
    let app = spawn_notes(&[]).await;
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status(), 308);
    assert_eq!(
        header(&redirect, "x-frame-options").as_deref(),
        Some("DENY")
    );

    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    assert_secure(&page, "no-store");
    assert_eq!(header(&page, "x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        header(&page, "referrer-policy").as_deref(),
        Some("no-referrer")
    );
    let policy = header(&page, "content-security-policy").unwrap();
    let directives: Vec<&str> = policy.split(';').map(str::trim).collect();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(directives.contains(&directive), "{directive} in {policy}");
    }
    assert!(
        !policy.contains("http") && !policy.contains('*'),
        "no other origin: {policy}"
    );

    // The policy is enough for the page: no inline script, and every script and
    // style comes from this origin, under a type the browser runs despite nosniff.
    let html = page.text().await.unwrap();
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty());
    let mut assets = Vec::new();
    for script in scripts {
        let tag = &script[..script.find('>').unwrap()];
        let source = tag
            .split("src=\"")
            .nth(1)
            .expect("every script is a file, none inline")
            .split('"')
            .next()
            .unwrap();
        assets.push((source.to_owned(), "javascript"));
    }
    for link in html.split("<link").skip(1) {
        let tag = &link[..link.find('>').unwrap()];
        if tag.contains("stylesheet") {
            let source = tag
                .split("href=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            assets.push((source.to_owned(), "text/css"));
        }
    }
    for (source, kind) in assets {
        assert!(!source.contains("//"), "{source} is on this origin");
        let path = format!("/docs/{}", source.trim_start_matches("./"));
        let asset = app.get(&path).await;
        assert_eq!(asset.status(), 200, "{path}");
        assert_eq!(
            header(&asset, "x-content-type-options").as_deref(),
            Some("nosniff")
        );
        let content_type = header(&asset, "content-type").unwrap_or_default();
        assert!(content_type.contains(kind), "{path}: {content_type}");
    }
}

#[tokio::test]
async fn what_is_internal_answers_404_to_requests_from_outside() {
    let app = spawn_notes(&[]).await;
    let service = app.keys.service("order");
    let through_gateway = |path: &str, token: Option<&str>| {
        let mut request = app.client.get(app.url(path)).header("caravan-gateway", "1");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    for path in [
        "/metrics",
        "/healthz",
        "/readyz",
        "/internal/v1/events?after=0",
    ] {
        let response = through_gateway(path, Some(&service)).await.unwrap();
        assert_eq!(response.status(), 404, "{path} through the gateway");
        assert_eq!(content_type(&response), PROBLEM);
    }
    // A service token carried in from outside is no token at all.
    let response = through_gateway("/v1/notes/whoami", Some(&service))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // From inside the platform, the same requests work.
    assert_eq!(call(&app, "/metrics", None).await, 200);
    assert_eq!(call(&app, "/healthz", None).await, 200);
    assert_eq!(
        call(&app, "/internal/v1/events?after=0", Some(&service)).await,
        200
    );
    assert_eq!(call(&app, "/v1/notes/whoami", Some(&service)).await, 200);
}
