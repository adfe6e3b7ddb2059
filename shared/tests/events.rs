#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! The event backbone end to end: a producer service (outbox, relay, feed over HTTP)
//! and a consumer with a database of its own, on real PostgreSQL and Redis.

mod common;

use caravan_shared::TenantId;
use caravan_shared::db::{self, BASE_MIGRATION, ServiceMigrations, SqlMigration};
use caravan_shared::events::consumer::{
    Consumer, ConsumerMetrics, EventHandler, Outcome, RetryPolicy, Subscription,
};
use caravan_shared::events::relay::{Relay, RelayMetrics};
use caravan_shared::events::{self, EVENTS_MIGRATION, Envelope, outbox};
use caravan_shared::identity::service_token::ServiceTokens;
use caravan_shared::redis_conn::Redis;
use caravan_shared::testing::{RedisServer, TestApp, TestDatabase, free_port, test_service_secret};
use common::spawn_notes;
use futures_util::StreamExt;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct TallyMigrations;

impl ServiceMigrations for TallyMigrations {
    const LIST: &'static [SqlMigration] = &[
        BASE_MIGRATION,
        EVENTS_MIGRATION,
        SqlMigration {
            name: "m0001_received",
            sql: "CREATE TABLE received (
                      n bigserial PRIMARY KEY,
                      seq bigint NOT NULL,
                      event_id uuid NOT NULL,
                      event_type text NOT NULL
                  );",
        },
    ];
}

/// Records every event it handles; refuses `note.poisoned` ones.
struct Recorder;

#[async_trait::async_trait]
impl EventHandler for Recorder {
    async fn handle(&self, tx: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        if event.event_type == "note.poisoned" {
            anyhow::bail!("this note cannot be handled");
        }
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO received (seq, event_id, event_type) VALUES ($1, $2, $3)",
            [
                event.seq.into(),
                event.id.into(),
                event.event_type.clone().into(),
            ],
        ))
        .await?;
        Ok(())
    }
}

/// A consuming service: its own database and a consumer of the producer's events.
struct Tally {
    _database: TestDatabase,
    pool: DatabaseConnection,
    consumer: Arc<Consumer>,
    subscription: Subscription,
    registry: prometheus::Registry,
}

impl Tally {
    async fn new(producer: &TestApp) -> Self {
        let database = TestDatabase::create::<TallyMigrations>("shared")
            .await
            .unwrap();
        let pool = db::connect(&database.runtime_url, 4).await.unwrap();
        let registry = prometheus::Registry::new();
        let tokens = ServiceTokens::new(
            &producer.keys.auth_url,
            "service:tally",
            test_service_secret(),
        )
        .unwrap();
        let consumer = Consumer::new(
            pool.clone(),
            redis::Client::open(producer.settings.redis_url.as_str()).unwrap(),
            Arc::new(tokens),
            ConsumerMetrics::register(&registry).unwrap(),
        )
        .unwrap()
        .with_retry(RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(20),
        });
        Self {
            _database: database,
            pool,
            consumer: Arc::new(consumer),
            subscription: Subscription {
                producer: "notes".to_owned(),
                channel: channel_of(producer),
                feed_url: producer.address.clone(),
                handler: Arc::new(Recorder),
            },
            registry,
        }
    }

    fn start(&self) {
        self.consumer.spawn(self.subscription.clone());
    }

    async fn received(&self) -> Vec<(i64, uuid::Uuid)> {
        self.pool
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT seq, event_id FROM received ORDER BY n",
            ))
            .await
            .unwrap()
            .into_iter()
            .map(|row| {
                (
                    row.try_get("", "seq").unwrap(),
                    row.try_get("", "event_id").unwrap(),
                )
            })
            .collect()
    }

    async fn wait_for(&self, count: usize) -> Vec<(i64, uuid::Uuid)> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let received = self.received().await;
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {count} events arrived",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn metric(&self, name: &str) -> f64 {
        self.registry
            .gather()
            .iter()
            .filter(|family| family.name() == name)
            .flat_map(|family| {
                family
                    .get_metric()
                    .iter()
                    .map(|m| m.get_counter().get_value())
                    .collect::<Vec<_>>()
            })
            .sum()
    }
}

fn channel_of(producer: &TestApp) -> String {
    events::channel(&producer.settings.redis_prefix, "catalog")
}

async fn producer_pool(producer: &TestApp) -> DatabaseConnection {
    db::connect(&producer.database.runtime_url, 4)
        .await
        .unwrap()
}

/// Appends `count` events, `per_transaction` to a transaction; answers their ids.
async fn produce(
    pool: &DatabaseConnection,
    count: usize,
    per_transaction: usize,
) -> Vec<uuid::Uuid> {
    let tenant = TenantId::from(uuid::Uuid::now_v7());
    let mut ids = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(per_transaction) {
        // A shop's events are written in the shop's transaction (row-level security).
        let tx = caravan_shared::tenancy::TenantTx::begin(pool, tenant)
            .await
            .unwrap();
        for index in chunk {
            let data = serde_json::json!({ "index": index });
            ids.push(
                outbox::append(tx.conn(), "note.created", Some(tenant), &data)
                    .await
                    .unwrap(),
            );
        }
        tx.commit().await.unwrap();
    }
    ids
}

/// Events in the producer's outbox matching `condition`, counted in platform scope
/// (every shop's events, as the relay sees them).
async fn outbox_count(pool: &DatabaseConnection, condition: &str) -> i64 {
    let tx = caravan_shared::tenancy::PlatformTx::begin(pool, "a test counts every event")
        .await
        .unwrap();
    let row = tx
        .conn()
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT count(*) AS n FROM outbox WHERE {condition}"),
        ))
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    row.try_get("", "n").unwrap()
}

fn assert_once_in_order(received: &[(i64, uuid::Uuid)], expected: usize) {
    assert_eq!(received.len(), expected, "each event handled exactly once");
    let seqs: Vec<i64> = received.iter().map(|(seq, _)| *seq).collect();
    let wanted: Vec<i64> = (1..=expected as i64).collect();
    assert_eq!(seqs, wanted, "handled in sequence order, none missing");
}

#[tokio::test]
async fn a_rolled_back_change_publishes_nothing_and_a_committed_one_is_delivered() {
    let producer = spawn_notes(&[]).await;
    let pool = producer_pool(&producer).await;
    let tally = Tally::new(&producer).await;
    tally.start();

    let rolled_back = pool.begin().await.unwrap();
    outbox::append(
        &rolled_back,
        "note.created",
        None,
        &serde_json::json!({"n": 1}),
    )
    .await
    .unwrap();
    rolled_back.rollback().await.unwrap();

    let committed = pool.begin().await.unwrap();
    let id = outbox::append(
        &committed,
        "note.created",
        None,
        &serde_json::json!({"n": 2}),
    )
    .await
    .unwrap();
    committed.commit().await.unwrap();

    let received = tally.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(tally.received().await, vec![(1, id)]);
    assert_eq!(received[0].1, id);
}

#[tokio::test]
async fn a_consumer_that_was_down_handles_all_1000_events_once_in_order() {
    let producer = spawn_notes(&[]).await;
    let pool = producer_pool(&producer).await;
    let ids = produce(&pool, 1000, 10).await;

    // Everything is published before the consumer exists.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if outbox_count(&pool, "published_at IS NOT NULL").await == 1000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the relay did not publish the backlog"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let tally = Tally::new(&producer).await;
    tally.start();
    let received = tally.wait_for(1000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received_again = tally.received().await;
    assert_eq!(received, received_again);
    assert_once_in_order(&received, 1000);
    let handled_ids: Vec<uuid::Uuid> = received.iter().map(|(_, id)| *id).collect();
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    let mut sorted_handled = handled_ids.clone();
    sorted_handled.sort();
    assert_eq!(sorted_handled, sorted_ids);
    assert!(tally.metric("events_catch_ups_total") >= 1.0);
}

#[tokio::test]
async fn nothing_is_lost_while_redis_is_down() {
    let port = free_port();
    let redis_url = format!("redis://127.0.0.1:{port}");
    let redis = RedisServer::start(port).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let producer = spawn_notes(&[("REDIS_URL", &redis_url)]).await;
    let pool = producer_pool(&producer).await;
    let tally = Tally::new(&producer).await;
    tally.start();
    produce(&pool, 5, 1).await;
    tally.wait_for(5).await;

    drop(redis);
    produce(&pool, 50, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _redis = RedisServer::start(port).unwrap();

    let received = tally.wait_for(55).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_once_in_order(&tally.received().await, 55);
    assert_eq!(received.len(), 55);

    // The relay published its backlog once Redis was back.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if outbox_count(&pool, "published_at IS NULL").await == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the backlog was never published");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_event_delivered_twice_is_handled_once() {
    let producer = spawn_notes(&[]).await;
    let pool = producer_pool(&producer).await;
    let tally = Tally::new(&producer).await;
    tally.start();
    produce(&pool, 1, 1).await;
    tally.wait_for(1).await;

    // The same event again: over pub/sub, from a catch-up, and handed in directly.
    let feed = caravan_shared::events::feed::events_after(&pool, 0, 10)
        .await
        .unwrap();
    let event = feed[0].clone();
    let redis = Redis::new(&producer.settings.redis_url, "unused").unwrap();
    let mut conn = redis.conn();
    let _: i64 = redis::cmd("PUBLISH")
        .arg(channel_of(&producer))
        .arg(serde_json::to_string(&event).unwrap())
        .query_async(&mut conn)
        .await
        .unwrap();
    tally.consumer.catch_up(&tally.subscription).await.unwrap();
    assert_eq!(
        tally.consumer.process(&tally.subscription, &event).await,
        Outcome::Duplicate
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(tally.received().await.len(), 1);
    assert!(tally.metric("events_duplicates_total") >= 2.0);
}

#[tokio::test]
async fn a_gap_is_closed_from_the_feed() {
    let producer = spawn_notes(&[]).await;
    let pool = producer_pool(&producer).await;
    let tally = Tally::new(&producer).await;
    tally.start();
    produce(&pool, 3, 1).await;
    tally.wait_for(3).await;
    let catch_ups_before = tally.metric("events_catch_ups_total");

    // Events 4 to 6 exist in the producer, but pub/sub only ever carries the 6th.
    for seq in 4..=6i64 {
        pool.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO outbox (seq, id, event_type, data, published_at) \
             VALUES ($1, $2, 'note.created', '{}', now())",
            [seq.into(), uuid::Uuid::now_v7().into()],
        ))
        .await
        .unwrap();
    }
    let sixth = caravan_shared::events::feed::events_after(&pool, 5, 1)
        .await
        .unwrap();
    let redis = Redis::new(&producer.settings.redis_url, "unused").unwrap();
    let mut conn = redis.conn();
    let _: i64 = redis::cmd("PUBLISH")
        .arg(channel_of(&producer))
        .arg(serde_json::to_string(&sixth[0]).unwrap())
        .query_async(&mut conn)
        .await
        .unwrap();

    let received = tally.wait_for(6).await;
    assert_once_in_order(&received, 6);
    assert!(tally.metric("events_catch_ups_total") > catch_ups_before);
}

#[tokio::test]
async fn with_two_relays_every_event_arrives_once_and_in_order() {
    let producer = spawn_notes(&[]).await;
    let pool = producer_pool(&producer).await;
    // A second replica's relay on the same outbox.
    Relay::new(
        &producer.settings.database_url,
        Redis::new(&producer.settings.redis_url, "unused").unwrap(),
        channel_of(&producer),
        RelayMetrics::register(&prometheus::Registry::new()).unwrap(),
    )
    .spawn();

    // Watch the channel itself: first publications must come in sequence order.
    let client = redis::Client::open(producer.settings.redis_url.as_str()).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.subscribe(channel_of(&producer)).await.unwrap();
    let watcher = tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut messages = pubsub.on_message();
        while let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_secs(5), messages.next()).await
        {
            let event: Envelope =
                serde_json::from_str(&message.get_payload::<String>().unwrap()).unwrap();
            seen.push(event.seq);
        }
        seen
    });

    let tally = Tally::new(&producer).await;
    tally.start();
    let mut writers = Vec::new();
    for _ in 0..4 {
        let pool = pool.clone();
        writers.push(tokio::spawn(async move { produce(&pool, 150, 3).await }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let received = tally.wait_for(600).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_once_in_order(&tally.received().await, 600);
    assert_eq!(received.len(), 600);

    let seen = watcher.await.unwrap();
    let mut first_seen = Vec::new();
    for seq in seen {
        if !first_seen.contains(&seq) {
            first_seen.push(seq);
        }
    }
    let wanted: Vec<i64> = (1..=600).collect();
    assert_eq!(first_seen, wanted, "published in order, none skipped");
}

#[tokio::test]
async fn an_event_that_keeps_failing_is_parked_and_the_rest_go_on() {
    let producer = spawn_notes(&[]).await;
    let pool = producer_pool(&producer).await;
    let tally = Tally::new(&producer).await;
    tally.start();
    produce(&pool, 1, 1).await;
    let tx = pool.begin().await.unwrap();
    outbox::append(&tx, "note.poisoned", None, &serde_json::json!({}))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    produce(&pool, 1, 1).await;

    let received = tally.wait_for(2).await;
    assert_eq!(
        received.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        vec![1, 3]
    );
    let parked = tally
        .pool
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT seq, event_type, attempts, error FROM parked_events",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parked.try_get::<i64>("", "seq").unwrap(), 2);
    assert_eq!(
        parked.try_get::<String>("", "event_type").unwrap(),
        "note.poisoned"
    );
    assert_eq!(parked.try_get::<i32>("", "attempts").unwrap(), 3);
    assert!(
        parked
            .try_get::<String>("", "error")
            .unwrap()
            .contains("cannot be handled")
    );
    assert_eq!(tally.metric("events_parked_total"), 1.0);
}

#[tokio::test]
async fn the_feed_is_for_services_only() {
    let producer = spawn_notes(&[]).await;
    let pool = producer_pool(&producer).await;
    produce(&pool, 3, 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = producer.url("/internal/v1/events?after=1&limit=10");

    let anonymous = producer.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let staff = producer.keys.member(
        uuid::Uuid::now_v7(),
        caravan_shared::identity::Role::Owner,
        &[],
    );
    let refused = producer
        .client
        .get(&url)
        .bearer_auth(staff)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    let service = producer.keys.service("order");
    let feed: serde_json::Value = producer
        .client
        .get(&url)
        .bearer_auth(&service)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seqs: Vec<i64> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![2, 3]);
    assert_eq!(feed["items"][0]["type"], "note.created");

    let bad = producer
        .client
        .get(producer.url("/internal/v1/events?after=-1"))
        .bearer_auth(&service)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}
