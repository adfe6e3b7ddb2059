//! Checkouts per second with their latency, and a flash sale: many buyers at once
//! for a few units of one variant. Runs the real order and catalog services on this
//! machine (PostgreSQL, Redis and the SMTP sink must be up, as for the tests).
//!
//! ```sh
//! RUST_LOG=error cargo run --release -p caravan-order --example checkout_bench -- \
//!     --checkouts 1000 --concurrency 16 --buyers 2000 --units 100
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)] // a measuring tool: stop loudly

#[path = "../tests/api/helpers.rs"]
#[allow(dead_code, unused_imports)] // the tests use more of it than this tool
mod helpers;

use caravan_shared::testing::bench::{argument, percentile_ms};
use futures_util::StreamExt;
use helpers::{Shop, Stack, spawn_stack_with, unique_email};
use serde_json::Value;
use std::time::{Duration, Instant};
use uuid::Uuid;

struct Prepared {
    cart: (String, String),
    body: Value,
    key: String,
}

async fn prepare(stack: &Stack, shop: &Shop, buyers: u64) -> Vec<Prepared> {
    let first = stack.cart(shop, 1).await;
    let rate = stack.rate_for(shop, &first).await;
    let carts: Vec<(String, String)> = futures_util::stream::iter(0..buyers)
        .map(|_| stack.cart(shop, 1))
        .buffer_unordered(16)
        .collect()
        .await;
    carts
        .into_iter()
        .map(|cart| Prepared {
            body: stack.checkout_body(&cart, &rate, &unique_email("bench")),
            cart,
            key: Uuid::now_v7().to_string(),
        })
        .collect()
}

/// Checks every prepared cart out with `concurrency` in flight; answers the
/// latencies and statuses.
async fn run(
    stack: &Stack,
    shop: &Shop,
    prepared: &[Prepared],
    concurrency: usize,
) -> (Vec<Duration>, Vec<u16>, f64) {
    let started = Instant::now();
    let results: Vec<(Duration, u16)> = futures_util::stream::iter(prepared)
        .map(|p| async move {
            let at = Instant::now();
            let status = stack
                .checkout(shop, &p.cart, &p.key, &p.body)
                .await
                .status()
                .as_u16();
            (at.elapsed(), status)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = results.iter().map(|r| r.0).collect();
    latencies.sort();
    (latencies, results.iter().map(|r| r.1).collect(), elapsed)
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let checkouts = argument("--checkouts", 1000);
    let concurrency = argument("--concurrency", 16) as usize;
    let buyers = argument("--buyers", 2000);
    let units = argument("--units", 100);
    let stack = spawn_stack_with(false, &[("DATABASE_MAX_CONNECTIONS", "16")]).await;

    // Throughput: every checkout can succeed.
    let shop = stack
        .shop(i32::try_from(checkouts * 2).unwrap_or(i32::MAX))
        .await;
    let prepared = prepare(&stack, &shop, checkouts).await;
    let (latencies, statuses, elapsed) = run(&stack, &shop, &prepared, concurrency).await;
    println!(
        "checkout (cart of 1 line → order)        {:>7.0} /s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} orders in {elapsed:.1} s, concurrency {concurrency}, {} not 201)",
        statuses.len() as f64 / elapsed,
        percentile_ms(&latencies, 0.5),
        percentile_ms(&latencies, 0.99),
        count(&statuses, 201),
        statuses.len() - count(&statuses, 201),
    );

    // Flash sale: every buyer at once, few units.
    let sale = stack.shop(i32::try_from(units).unwrap_or(i32::MAX)).await;
    let prepared = prepare(&stack, &sale, buyers).await;
    let (latencies, statuses, elapsed) = run(&stack, &sale, &prepared, prepared.len()).await;
    let stock = stack.stock(&sale, sale.variant).await;
    println!(
        "flash sale: {buyers} buyers at once for {units} units: {} orders, {} sold out (409), {} other; {elapsed:.1} s; p50 {:.2} ms, p99 {:.2} ms; stock on hand {}, reserved {}",
        count(&statuses, 201),
        count(&statuses, 409),
        statuses.len() - count(&statuses, 201) - count(&statuses, 409),
        percentile_ms(&latencies, 0.5),
        percentile_ms(&latencies, 0.99),
        stock.0,
        stock.1,
    );
    assert_eq!(
        count(&statuses, 201) as u64,
        units,
        "every unit sold exactly once"
    );
    assert_eq!(stock, (units as i64, units as i64), "never oversold");
    Ok(())
}
