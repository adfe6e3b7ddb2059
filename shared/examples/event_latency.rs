//! End-to-end event latency and throughput: commit in the producer → handler done in
//! the consumer, through the outbox, the relay, Redis pub/sub and the consumer's
//! offset transaction, on the local PostgreSQL and Redis.
//!
//! ```sh
//! cargo run --release -p caravan-shared --features testing --example event_latency -- \
//!     --rate 1000 --seconds 10
//! ```
//! `--rate 0` produces as fast as the producers can (throughput ceiling).

use caravan_shared::config::ServiceName;
use caravan_shared::db::{self, BASE_MIGRATION, ServiceMigrations, SqlMigration};
use caravan_shared::events::consumer::{Consumer, ConsumerMetrics, EventHandler, Subscription};
use caravan_shared::events::{self, EVENTS_MIGRATION, Envelope, outbox};
use caravan_shared::identity::service_token::ServiceTokens;
use caravan_shared::service::{ApiInfo, Application, ServiceContext};
use caravan_shared::testing::bench::{argument, percentile_ms};
use caravan_shared::testing::{TestApp, TestDatabase, test_service_secret};
use sea_orm::{DatabaseTransaction, TransactionTrait};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

struct BenchMigrations;

impl ServiceMigrations for BenchMigrations {
    const LIST: &'static [SqlMigration] = &[BASE_MIGRATION, EVENTS_MIGRATION];
}

type Commits = Arc<Mutex<HashMap<Uuid, Instant>>>;

struct Timer {
    commits: Commits,
    latencies: Arc<Mutex<Vec<Duration>>>,
}

#[async_trait::async_trait]
impl EventHandler for Timer {
    async fn handle(&self, _tx: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let committed = loop {
            // The producer records the commit right after it returns; wait for it.
            if let Some(at) = self
                .commits
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .get(&event.id)
            {
                break *at;
            }
            tokio::task::yield_now().await;
        };
        self.latencies
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .push(committed.elapsed());
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rate = argument("--rate", 1000);
    let seconds = argument("--seconds", 10);
    let producers = argument("--producers", 4).max(1);

    let producer = TestApp::spawn::<BenchMigrations, _, _>(
        ServiceName::Catalog,
        |settings| async move {
            let context = ServiceContext::start::<BenchMigrations>(settings).await?;
            Application::serve(
                &context,
                ApiInfo {
                    title: "bench",
                    description: "event latency benchmark producer",
                },
                |_| {},
            )
        },
        &[("LOG_FORMAT", "pretty"), ("RUST_LOG", "warn")],
    )
    .await?;
    let producer_pool = db::connect(&producer.database.runtime_url, producers as u32 + 2).await?;

    let consumer_db = TestDatabase::create::<BenchMigrations>("bench").await?;
    let consumer_pool = db::connect(&consumer_db.runtime_url, 4).await?;
    let commits: Commits = Arc::default();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let consumer = Arc::new(Consumer::new(
        consumer_pool,
        redis::Client::open(producer.settings.redis_url.as_str())?,
        Arc::new(ServiceTokens::new(
            &producer.keys.auth_url,
            "service:bench",
            test_service_secret(),
        )?),
        ConsumerMetrics::register(&prometheus::Registry::new())?,
    )?);
    consumer.spawn(Subscription {
        producer: "catalog".to_owned(),
        channel: events::channel(&producer.settings.redis_prefix, "catalog"),
        feed_url: producer.address.clone(),
        handler: Arc::new(Timer {
            commits: commits.clone(),
            latencies: latencies.clone(),
        }),
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let total = if rate == 0 { 20_000 } else { rate * seconds };
    let per_producer = total / producers;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..producers {
        let pool = producer_pool.clone();
        let commits = commits.clone();
        tasks.push(tokio::spawn(async move {
            let mut ticker = (rate > 0).then(|| {
                let period = Duration::from_secs_f64(producers as f64 / rate as f64);
                tokio::time::interval(period)
            });
            for index in 0..per_producer {
                if let Some(ticker) = ticker.as_mut() {
                    ticker.tick().await;
                }
                let tx = pool.begin().await?;
                let id = outbox::append(
                    &tx,
                    "bench.happened",
                    None,
                    &serde_json::json!({"index": index}),
                )
                .await?;
                tx.commit().await?;
                commits
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .insert(id, Instant::now());
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let produced = per_producer * producers;
    let produce_time = started.elapsed();

    let deadline = Instant::now() + Duration::from_secs(120);
    while (latencies
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .len() as u64)
        < produced
    {
        anyhow::ensure!(Instant::now() < deadline, "not every event arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let total_time = started.elapsed();
    let mut sorted = latencies
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    sorted.sort();

    println!("event latency, commit -> handler done ({produced} events, {producers} producers)");
    println!(
        "  offered rate    {}",
        if rate == 0 {
            "unlimited".to_owned()
        } else {
            format!("{rate} events/s")
        }
    );
    println!(
        "  produced        {:.0} events/s",
        produced as f64 / produce_time.as_secs_f64()
    );
    println!(
        "  handled         {:.0} events/s (first commit to last handler)",
        produced as f64 / total_time.as_secs_f64()
    );
    println!("  p50             {:.2} ms", percentile_ms(&sorted, 0.50));
    println!("  p90             {:.2} ms", percentile_ms(&sorted, 0.90));
    println!("  p99             {:.2} ms", percentile_ms(&sorted, 0.99));
    println!("  max             {:.2} ms", percentile_ms(&sorted, 1.0));
    Ok(())
}
