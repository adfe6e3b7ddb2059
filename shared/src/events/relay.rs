//! The relay: numbers committed outbox events and publishes them, in order, on Redis.
//!
//! Any number of replicas may run a relay; a PostgreSQL advisory lock lets one at a
//! time number and publish, so the channel carries events in sequence order (an event
//! may be published twice after a failure; consumers skip duplicates). It wakes on
//! the outbox's NOTIFY, polls once a second as a safety net, and while Redis is down
//! keeps the backlog and retries with backoff.

use super::Envelope;
use crate::redis_conn::{REDIS_TIMEOUT, Redis};
use crate::tenancy::enter_platform_session;
use chrono::{DateTime, Utc};
use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge, Registry};
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{self, Connection};
use std::time::Duration;
use uuid::Uuid;

/// The advisory lock key that makes one relay at a time number and publish.
const RELAY_LOCK: &str = "SELECT pg_try_advisory_lock(hashtext('caravan_outbox_relay'))";
const RELAY_UNLOCK: &str = "SELECT pg_advisory_unlock(hashtext('caravan_outbox_relay'))";

/// Relay metrics.
#[derive(Clone)]
pub struct RelayMetrics {
    published: IntCounter,
    lag: Histogram,
    backlog: IntGauge,
}

impl RelayMetrics {
    /// Registers the relay's metrics.
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let published = IntCounter::new("events_published_total", "Events published on Redis")?;
        let lag = Histogram::with_opts(
            HistogramOpts::new(
                "events_relay_lag_seconds",
                "Time from an event's state change to its publication",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
            ]),
        )?;
        let backlog = IntGauge::new(
            "events_relay_backlog",
            "Unpublished events found by the last relay cycle (at most one batch, 500)",
        )?;
        registry.register(Box::new(published.clone()))?;
        registry.register(Box::new(lag.clone()))?;
        registry.register(Box::new(backlog.clone()))?;
        Ok(Self {
            published,
            lag,
            backlog,
        })
    }
}

/// Publishes one producer's outbox.
#[derive(Clone)]
pub struct Relay {
    database_url: String,
    redis: Redis,
    channel: String,
    metrics: RelayMetrics,
    batch: i64,
    /// When the backlog was last counted.
    counted: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

/// How long the relay waits after being woken, so that events committed together
/// are numbered and published in one cycle (each cycle reads the outbox's partial
/// indexes, which carry every event changed since the last vacuum).
const GATHER: Duration = Duration::from_millis(5);

/// How often the backlog gauge is counted: a count, even through the partial
/// indexes, visits every event changed since the last vacuum, so a relay under load
/// counts once a second rather than once per batch.
const COUNT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

type OutboxRow = (
    i64,
    Uuid,
    String,
    Option<Uuid>,
    DateTime<Utc>,
    serde_json::Value,
);

impl Relay {
    /// A relay for the outbox in `database_url`, publishing on `channel`.
    pub fn new(database_url: &str, redis: Redis, channel: String, metrics: RelayMetrics) -> Self {
        Self {
            database_url: database_url.to_owned(),
            redis,
            channel,
            metrics,
            batch: 500,
            counted: Default::default(),
        }
    }

    /// Runs the relay in the background for as long as the runtime lives.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move { self.run().await })
    }

    async fn run(self) {
        let mut backoff = Backoff::new();
        loop {
            if let Err(error) = self.session(&mut backoff).await {
                tracing::warn!(error = %format!("{error:#}"), "event relay interrupted; reconnecting");
            }
            backoff.wait().await;
        }
    }

    /// One database session: a connection for the work (its advisory lock ends with
    /// it, so a relay that dies never blocks the others), in platform scope for as
    /// long as it lives, and one for NOTIFY.
    async fn session(&self, backoff: &mut Backoff) -> anyhow::Result<()> {
        let mut conn =
            PgConnection::connect(&crate::db::plain_on_loopback(&self.database_url)).await?;
        enter_platform_session(
            &mut conn,
            "the relay numbers and publishes every shop's events",
        )
        .await?;
        let mut listener = crate::db::listener(&self.database_url).await?;
        listener.listen("caravan_outbox").await?;
        backoff.reset();
        loop {
            self.drain(&mut conn).await?;
            tokio::select! {
                notification = listener.recv() => {
                    notification?;
                    // The events of the commits of the next moment go in the same
                    // batch: under load, one cycle per few checkouts, not per commit.
                    tokio::time::sleep(GATHER).await;
                    // Their announcements have arrived meanwhile; one cycle serves them all.
                    while let Ok(notification) =
                        tokio::time::timeout(Duration::ZERO, listener.recv()).await
                    {
                        notification?;
                    }
                }
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// Numbers and publishes until what is left was announced, unless another relay
    /// holds the lock.
    async fn drain(&self, conn: &mut PgConnection) -> anyhow::Result<()> {
        loop {
            let locked: bool = sqlx::query_scalar(RELAY_LOCK).fetch_one(&mut *conn).await?;
            if !locked {
                return Ok(());
            }
            let published = self.cycle(conn).await;
            sqlx::query(RELAY_UNLOCK).execute(&mut *conn).await?;
            // Less than a batch: nothing was left behind, and whatever commits from
            // here on is announced.
            if published? < usize::try_from(self.batch).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }

    /// Whether the backlog is to be counted now (at most every [`COUNT_EVERY`]).
    fn count_due(&self) -> bool {
        let Ok(mut counted) = self.counted.lock() else {
            return true;
        };
        match *counted {
            Some(at) if at.elapsed() < COUNT_EVERY => false,
            _ => {
                *counted = Some(std::time::Instant::now());
                true
            }
        }
    }

    /// Numbers newly committed events, publishes the oldest unpublished batch in
    /// order, and marks it published. Answers how many were published.
    async fn cycle(&self, conn: &mut PgConnection) -> anyhow::Result<usize> {
        // Only committed rows are visible here, and only the lock holder numbers
        // them, so the sequence has no gaps and never reorders what was published.
        sqlx::query(
            "WITH top AS (SELECT coalesce(max(seq), 0) AS seq FROM outbox),
                  pending AS (
                      SELECT position, row_number() OVER (ORDER BY position) AS rank
                      FROM outbox WHERE seq IS NULL ORDER BY position LIMIT $1)
             UPDATE outbox SET seq = top.seq + pending.rank
             FROM top, pending WHERE outbox.position = pending.position",
        )
        .bind(self.batch)
        .execute(&mut *conn)
        .await?;
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT seq, id, event_type, tenant_id, occurred_at, data FROM outbox
             WHERE seq IS NOT NULL AND published_at IS NULL ORDER BY seq LIMIT $1",
        )
        .bind(self.batch)
        .fetch_all(&mut *conn)
        .await?;
        let mut backlog = None;
        if self.count_due() {
            // Through the two partial indexes (events not yet numbered, events
            // numbered and not yet published), never by reading the whole outbox: it
            // keeps every published event, so a scan would grow with the history.
            let counted: i64 = sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM outbox WHERE seq IS NULL)
                      + (SELECT count(*) FROM outbox WHERE seq IS NOT NULL AND published_at IS NULL)",
            )
            .fetch_one(&mut *conn)
            .await?;
            self.metrics.backlog.set(counted);
            backlog = Some(counted);
        }
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(0);
        };
        let (first_seq, last_seq) = (first.0, last.0);
        let events: Vec<Envelope> = rows
            .into_iter()
            .map(
                |(seq, id, event_type, tenant_id, occurred_at, data)| Envelope {
                    id,
                    seq,
                    event_type,
                    tenant_id,
                    occurred_at,
                    data,
                },
            )
            .collect();
        self.publish(&events).await;
        sqlx::query(
            "UPDATE outbox SET published_at = now()
             WHERE seq BETWEEN $1 AND $2 AND published_at IS NULL",
        )
        .bind(first_seq)
        .bind(last_seq)
        .execute(&mut *conn)
        .await?;
        let now = Utc::now();
        for event in &events {
            let lag = (now - event.occurred_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
            self.metrics.lag.observe(lag.max(0.0));
        }
        // What is left once this batch is out, so the gauge never reads the batch
        // as waiting after the counter has counted it as published (between counts,
        // the last count less what was published since).
        let sent = i64::try_from(events.len()).unwrap_or(i64::MAX);
        let before = backlog.unwrap_or_else(|| self.metrics.backlog.get());
        self.metrics.backlog.set((before - sent).max(0));
        self.metrics.published.inc_by(events.len() as u64);
        Ok(events.len())
    }

    /// Publishes a batch in order, retrying with backoff until Redis takes it.
    async fn publish(&self, events: &[Envelope]) {
        let mut pipeline = redis::pipe();
        for event in events {
            let payload = serde_json::to_string(event).unwrap_or_default();
            pipeline
                .cmd("PUBLISH")
                .arg(&self.channel)
                .arg(payload)
                .ignore();
        }
        let mut backoff = Backoff::new();
        loop {
            let mut conn = self.redis.conn();
            let sent = tokio::time::timeout(REDIS_TIMEOUT, pipeline.query_async::<()>(&mut conn));
            match sent.await {
                Ok(Ok(())) => return,
                Ok(Err(error)) => {
                    tracing::warn!(%error, events = events.len(), "publishing events failed; retrying")
                }
                Err(_) => tracing::warn!(
                    events = events.len(),
                    "publishing events timed out; retrying"
                ),
            }
            backoff.wait().await;
        }
    }
}

/// Exponential backoff from 100 ms to 5 s.
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Self {
            next: Duration::from_millis(100),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.next = Duration::from_millis(100);
    }

    pub(crate) async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(Duration::from_secs(5));
    }
}
