#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! A service whose pool PostgreSQL cannot serve stops at start, in one line, rather
//! than failing requests later for want of a connection.

use caravan_shared::config::ServiceName;
use caravan_shared::testing::TestApp;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_pool_postgresql_cannot_serve_stops_the_service_at_once() {
    let started = Instant::now();
    let refused = TestApp::spawn_producer(
        ServiceName::Catalog,
        &[
            ("DATABASE_MAX_CONNECTIONS", "5000"),
            ("DATABASE_CAPACITY_CHECK", "true"),
        ],
    )
    .await
    .err()
    .expect("a pool of 5000 does not fit");
    let message = format!("{refused:#}");
    assert!(
        message.contains("PostgreSQL has") && message.contains("may open 5004"),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
