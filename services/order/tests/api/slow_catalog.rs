//! A catalog that is up but slow is busy, not down (README, "Slow is not down"):
//! carts and checkout answer 503 `busy` with `Retry-After` saying the catalog is
//! busy, in time, and nothing is written. A catalog that sheds load (503) is passed
//! on the same way, with its own `Retry-After`.

use crate::helpers::{Stack, problem, spawn_stack_with};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A stand-in for the catalog: answers every call after `delay` (past the order
/// service's 8 s), or at once with 503 `busy` and `Retry-After: 3`. It records the
/// `Request-Timeout` each call announced.
fn stand_in(delay: Option<Duration>) -> (String, Arc<Mutex<Vec<String>>>) {
    let told = Arc::new(Mutex::new(Vec::new()));
    let record = told.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let record = record.clone();
        App::new().default_service(web::to(move |request: HttpRequest| {
            record.lock().unwrap().push(
                request
                    .headers()
                    .get("request-timeout")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("none")
                    .to_owned(),
            );
            async move {
                match delay {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        HttpResponse::Ok().json(json!({"items": []}))
                    }
                    None => HttpResponse::ServiceUnavailable()
                        .insert_header(("Retry-After", "3"))
                        .content_type("application/problem+json")
                        .body(r#"{"type":"/problems/busy","title":"Service busy","status":503,"code":"busy","detail":"the service is busy; try again in a moment"}"#),
                }
            }
        }))
    })
    .workers(2)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (address, told)
}

/// A cart with one line, written while the catalog was still answering.
async fn cart_with_a_line(stack: &Stack, shop: &crate::helpers::Shop) -> (String, String) {
    let (id, token) = stack.empty_cart(shop).await;
    stack
        .order_sql(&format!(
            "INSERT INTO cart_lines (cart_id, tenant_id, variant_id, quantity) VALUES ('{id}', '{}', '{}', 1)",
            shop.id, shop.variant
        ))
        .await;
    (id, token)
}

async fn busy(response: reqwest::Response, retry_after: &str) -> Value {
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some(retry_after)
    );
    let body = problem(response, 503).await;
    assert_eq!(body["code"], "busy", "{body}");
    assert_eq!(
        body["detail"], "the catalog is busy; try again in a moment",
        "{body}"
    );
    assert!(!body.to_string().contains("127.0.0.1"), "{body}");
    body
}

async fn read_cart(stack: &Stack, slug: &str, cart: &(String, String)) -> reqwest::Response {
    stack
        .order
        .client
        .get(
            stack
                .order
                .url(&format!("/v1/shops/{slug}/carts/{}", cart.0)),
        )
        .header("X-Cart-Token", &cart.1)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_catalog_slower_than_the_deadline_is_busy_and_nothing_is_ordered() {
    let (catalog, told) = stand_in(Some(Duration::from_secs(12)));
    let stack = spawn_stack_with(false, &[("CATALOG_URL", &catalog)]).await;
    let shop = stack.shop(10).await;
    let cart = cart_with_a_line(&stack, &shop).await;

    let started = Instant::now();
    let read = read_cart(&stack, &shop.slug, &cart).await;
    let took = started.elapsed();
    busy(read, "1").await;
    // The order service gave up after its 8 s, not the catalog's 12 s, and said so.
    assert!(took >= Duration::from_millis(7500), "{took:?}");
    assert!(took < Duration::from_millis(11_000), "{took:?}");
    assert_eq!(told.lock().unwrap().last().unwrap(), "8000");

    let body = stack.checkout_body(&cart, &Uuid::now_v7().to_string(), "buyer@example.cn");
    let checkout = stack
        .checkout(&shop, &cart, &Uuid::now_v7().to_string(), &body)
        .await;
    busy(checkout, "1").await;
    let orders = stack.order_rows("SELECT id FROM orders").await;
    assert!(orders.is_empty(), "{orders:?}");
}

#[tokio::test]
async fn a_catalog_that_sheds_load_is_passed_on_with_its_retry_after() {
    let (catalog, _) = stand_in(None);
    let stack = spawn_stack_with(false, &[("CATALOG_URL", &catalog)]).await;
    let shop = stack.shop(10).await;
    let cart = cart_with_a_line(&stack, &shop).await;

    let started = Instant::now();
    busy(read_cart(&stack, &shop.slug, &cart).await, "3").await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let body = stack.checkout_body(&cart, &Uuid::now_v7().to_string(), "buyer@example.cn");
    let checkout = stack
        .checkout(&shop, &cart, &Uuid::now_v7().to_string(), &body)
        .await;
    busy(checkout, "3").await;
    let orders = stack.order_rows("SELECT id FROM orders").await;
    assert!(orders.is_empty(), "{orders:?}");
}
