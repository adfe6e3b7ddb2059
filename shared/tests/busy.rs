#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! A service out of database connections sheds the request with 503 `busy` and
//! `Retry-After` within its acquire timeout, never 500 and never after every
//! caller has given up, and serves normally once a connection is free again; a
//! caller's `Request-Timeout` bounds the wait further (README, "Slow is not down").

mod common;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, get, web};
use caravan_shared::config::{ServiceName, Settings};
use caravan_shared::db::{self, Pool};
use caravan_shared::service::{Application, ServiceContext};
use caravan_shared::testing::{TestApp, TestDatabase};
use caravan_shared::{ApiError, deadline};
use common::{INFO, NotesMigrations};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Holds a connection of the pool for `ms` milliseconds.
async fn hold(db: &DatabaseConnection, ms: u64) -> Result<HttpResponse, ApiError> {
    db.execute_unprepared(&format!("SELECT pg_sleep({})", ms as f64 / 1000.0))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reads with a connection of the pool.
async fn count(db: &DatabaseConnection) -> Result<HttpResponse, ApiError> {
    db.execute_unprepared("SELECT count(*) FROM pg_class")
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"ok": true})))
}

#[derive(serde::Deserialize)]
struct Hold {
    ms: u64,
}

#[utoipa::path(responses((status = 204)))]
#[get("/v1/hold")]
async fn hold_route(
    context: web::Data<ServiceContext>,
    query: web::Query<Hold>,
) -> Result<HttpResponse, ApiError> {
    hold(&context.db, query.ms).await
}

#[utoipa::path(responses((status = 200)))]
#[get("/v1/count")]
async fn count_route(context: web::Data<ServiceContext>) -> Result<HttpResponse, ApiError> {
    count(&context.db).await
}

async fn build(settings: Settings) -> anyhow::Result<Application> {
    // No event consumer: the pool's one connection is the test's to take.
    let context = ServiceContext::start::<NotesMigrations>(settings).await?;
    Application::serve(&context, INFO, |config| {
        config.service(hold_route).service(count_route);
    })
}

async fn busy_problem(response: reqwest::Response) -> serde_json::Value {
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "busy", "{body}");
    assert_eq!(
        body["detail"], "the service is busy; try again in a moment",
        "{body}"
    );
    body
}

#[tokio::test]
async fn a_service_out_of_connections_is_busy_then_serves_again() {
    let app = TestApp::spawn::<NotesMigrations, _, _>(
        ServiceName::Catalog,
        build,
        &[("DATABASE_MAX_CONNECTIONS", "1")],
    )
    .await
    .unwrap();
    assert_eq!(app.get("/v1/count").await.status(), 200);

    // One request takes the only connection for 8 s.
    let holder = tokio::spawn({
        let url = app.url("/v1/hold?ms=8000");
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().status() }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The next is shed after the pool's acquire timeout (5 s), not queued for 30 s.
    let started = Instant::now();
    let shed = app.get("/v1/count").await;
    let took = started.elapsed();
    busy_problem(shed).await;
    assert!(took >= Duration::from_millis(4500), "{took:?}");
    assert!(took < Duration::from_millis(7000), "{took:?}");

    // Once the connection is back, the service answers as usual.
    assert_eq!(holder.await.unwrap(), 204);
    assert_eq!(app.get("/v1/count").await.status(), 200);
}

#[get("/hold/{ms}")]
async fn bare_hold(
    db: web::Data<DatabaseConnection>,
    ms: web::Path<u64>,
) -> Result<HttpResponse, ApiError> {
    hold(&db, ms.into_inner()).await
}

#[get("/count")]
async fn bare_count(db: web::Data<DatabaseConnection>) -> Result<HttpResponse, ApiError> {
    count(&db).await
}

#[tokio::test]
async fn a_callers_deadline_bounds_the_wait_for_a_connection() {
    let database = TestDatabase::create::<NotesMigrations>("deadline")
        .await
        .unwrap();
    // A patient pool: without the caller's deadline a request would wait 4 s.
    let pool = db::connect_pool(
        &database.runtime_url,
        Pool {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(4),
        },
    )
    .await
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let data = web::Data::new(pool);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .service(bare_hold)
            .service(bare_count)
            // As a service's app has them around the routes.
            .wrap(from_fn(deadline::honour))
            .wrap(from_fn(caravan_shared::http::internal_stays_internal))
            .wrap(caravan_shared::http::problem_responses())
            .wrap(from_fn(caravan_shared::http::security_headers))
    })
    .workers(2)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let client = reqwest::Client::new();

    // A deadline with time to spare changes nothing.
    let answer = client
        .get(format!("{base}/count"))
        .header("Request-Timeout", "3000")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let holder = tokio::spawn({
        let url = format!("{base}/hold/3000");
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().status() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The caller waits 1 s: the service gives up within it (a tenth earlier).
    let started = Instant::now();
    let answer = client
        .get(format!("{base}/count"))
        .header("Request-Timeout", "1000")
        .timeout(Duration::from_millis(1000))
        .send()
        .await
        .expect("answered before the caller gave up");
    let took = started.elapsed();
    assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    busy_problem(answer).await;
    assert!(took >= Duration::from_millis(850), "{took:?}");

    assert_eq!(holder.await.unwrap(), 204);
    let answer = client
        .get(format!("{base}/count"))
        .header("Request-Timeout", "1000")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}
