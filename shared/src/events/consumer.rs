//! The consumer: handles another service's events exactly once in effect.
//!
//! For each producer it keeps `event_offsets.last_seq`, moved in the same
//! transaction as the handler's effects (the row is locked, so replicas of the
//! consuming service take turns). An event at `last_seq + 1` is handled; one at or
//! below `last_seq` is a duplicate and skipped; one above is a gap, closed by
//! catching up from the producer's feed. It also catches up on start, after every
//! reconnect, every 30 seconds, and — while Redis is down — by polling the feed, so
//! nothing waits on Redis. A handler error is retried with backoff; an event that
//! still fails is parked and consumption goes on.

use super::Envelope;
use super::feed::Feed;
use super::relay::Backoff;
use crate::identity::service_token::ServiceTokens;
use anyhow::Context;
use futures_util::{FutureExt, StreamExt};
use prometheus::{IntCounterVec, Opts, Registry};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};
use std::sync::Arc;
use std::time::Duration;

/// The most events handled in one transaction.
const MAX_BATCH: usize = 200;

/// What a service does with one kind of producer's events.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Handles one event. Write effects on `tx`: they commit with the offset, or not
    /// at all. An error rolls everything back and the event is retried.
    async fn handle(&self, tx: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()>;
}

/// Several handlers of one producer's events, run in order in the same transaction
/// (a service has one offset per producer, so one subscription per producer).
pub struct Handlers(pub Vec<Arc<dyn EventHandler>>);

#[async_trait::async_trait]
impl EventHandler for Handlers {
    async fn handle(&self, tx: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        for handler in &self.0 {
            handler.handle(tx, event).await?;
        }
        Ok(())
    }
}

/// One producer a service consumes from.
#[derive(Clone)]
pub struct Subscription {
    /// The producer's name (`tenant`, `catalog`, …).
    pub producer: String,
    /// Its pub/sub channel.
    pub channel: String,
    /// Its base URL, serving `/internal/v1/events`.
    pub feed_url: String,
    /// What to do with its events.
    pub handler: Arc<dyn EventHandler>,
}

/// How handler failures are retried before the event is parked.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before parking.
    pub attempts: u32,
    /// Wait after the first failure; doubles each time.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_delay: Duration::from_millis(100),
        }
    }
}

/// Consumer metrics, labelled by producer.
#[derive(Clone)]
pub struct ConsumerMetrics {
    consumed: IntCounterVec,
    duplicates: IntCounterVec,
    parked: IntCounterVec,
    catch_ups: IntCounterVec,
}

impl ConsumerMetrics {
    /// Registers the consumer's metrics.
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let counter = |name: &str, help: &str| -> anyhow::Result<IntCounterVec> {
            let counter = IntCounterVec::new(Opts::new(name, help), &["producer"])?;
            registry.register(Box::new(counter.clone()))?;
            Ok(counter)
        };
        Ok(Self {
            consumed: counter("events_consumed_total", "Events handled")?,
            duplicates: counter(
                "events_duplicates_total",
                "Events skipped as already handled",
            )?,
            parked: counter(
                "events_parked_total",
                "Events parked after repeated handler failures",
            )?,
            catch_ups: counter("events_catch_ups_total", "Catch-ups from a producer's feed")?,
        })
    }
}

/// What became of one delivered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Handled and its offset moved.
    Handled,
    /// Already handled; skipped.
    Duplicate,
    /// Events before it are missing; catch up first.
    Gap,
    /// The handler kept failing; kept in `parked_events`, offset moved.
    Parked,
}

/// Handles the events of the producers a service subscribes to.
pub struct Consumer {
    db: DatabaseConnection,
    redis: redis::Client,
    tokens: Arc<ServiceTokens>,
    http: reqwest::Client,
    metrics: ConsumerMetrics,
    retry: RetryPolicy,
}

impl Consumer {
    /// A consumer writing offsets and effects to `db`.
    pub fn new(
        db: DatabaseConnection,
        redis: redis::Client,
        tokens: Arc<ServiceTokens>,
        metrics: ConsumerMetrics,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            redis,
            tokens,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            metrics,
            retry: RetryPolicy::default(),
        })
    }

    /// Changes how handler failures are retried.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Consumes `subscription` in the background, one task per producer so a failing
    /// producer never holds up another.
    pub fn spawn(self: &Arc<Self>, subscription: Subscription) -> tokio::task::JoinHandle<()> {
        let consumer = Arc::clone(self);
        tokio::spawn(async move { consumer.run(subscription).await })
    }

    async fn run(&self, subscription: Subscription) {
        let mut backoff = Backoff::new();
        loop {
            match self.listen(&subscription, &mut backoff).await {
                Ok(()) => {
                    tracing::warn!(producer = %subscription.producer, "event subscription ended; resubscribing")
                }
                Err(error) => tracing::warn!(
                    producer = %subscription.producer,
                    error = %format!("{error:#}"),
                    "event subscription unavailable; reading the feed meanwhile"
                ),
            }
            // Without pub/sub, the feed still brings every event, only later.
            self.catch_up_logged(&subscription).await;
            backoff.wait().await;
        }
    }

    async fn listen(
        &self,
        subscription: &Subscription,
        backoff: &mut Backoff,
    ) -> anyhow::Result<()> {
        let mut pubsub = self.redis.get_async_pubsub().await?;
        pubsub.subscribe(&subscription.channel).await?;
        backoff.reset();
        // Whatever was published before the subscription took effect comes from the feed.
        self.catch_up_logged(subscription).await;
        let mut messages = pubsub.on_message();
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else { return Ok(()) };
                    // Take whatever else has already arrived too, and handle it all in
                    // one transaction.
                    let mut batch = Vec::new();
                    let mut next = Some(message);
                    while let Some(message) = next {
                        let payload: String = message.get_payload()?;
                        match serde_json::from_str::<Envelope>(&payload) {
                            Ok(event) => batch.push(event),
                            Err(error) => tracing::error!(%error, producer = %subscription.producer, "unreadable event ignored"),
                        }
                        next = if batch.len() < MAX_BATCH {
                            messages.next().now_or_never().flatten()
                        } else {
                            None
                        };
                    }
                    if self.process_batch(subscription, &batch).await == Outcome::Gap {
                        self.catch_up_logged(subscription).await;
                    }
                }
                () = tokio::time::sleep(Duration::from_secs(30)) => {
                    self.catch_up_logged(subscription).await;
                }
            }
        }
    }

    /// Handles events in order in one transaction (one commit for many events). On a
    /// handler failure the batch is rolled back and each event is processed alone,
    /// with retries and parking. Answers `Gap` if the batch stopped at a missing event.
    pub async fn process_batch(&self, subscription: &Subscription, events: &[Envelope]) -> Outcome {
        if events.len() == 1 {
            return self.process(subscription, &events[0]).await;
        }
        match self.attempt_batch(subscription, events).await {
            Ok(Some(outcome)) => outcome,
            Ok(None) | Err(_) => {
                for event in events {
                    if self.process(subscription, event).await == Outcome::Gap {
                        return Outcome::Gap;
                    }
                }
                Outcome::Handled
            }
        }
    }

    /// `Ok(None)`: a handler failed and nothing was committed.
    async fn attempt_batch(
        &self,
        subscription: &Subscription,
        events: &[Envelope],
    ) -> anyhow::Result<Option<Outcome>> {
        let producer = subscription.producer.as_str();
        let tx = self.db.begin().await?;
        let Some(mut last) = lock_offset(&tx, producer).await? else {
            return Ok(Some(Outcome::Duplicate));
        };
        let (mut handled, mut duplicates, mut outcome) = (0u64, 0u64, Outcome::Handled);
        for event in events {
            if event.seq <= last {
                duplicates += 1;
                continue;
            }
            if event.seq > last + 1 {
                outcome = Outcome::Gap;
                break;
            }
            if subscription.handler.handle(&tx, event).await.is_err() {
                tx.rollback().await?;
                return Ok(None);
            }
            last = event.seq;
            handled += 1;
        }
        if handled > 0 {
            move_offset(&tx, producer, last).await?;
        }
        tx.commit().await?;
        self.metrics
            .consumed
            .with_label_values(&[producer])
            .inc_by(handled);
        self.metrics
            .duplicates
            .with_label_values(&[producer])
            .inc_by(duplicates);
        Ok(Some(if handled == 0 && outcome != Outcome::Gap {
            Outcome::Duplicate
        } else {
            outcome
        }))
    }

    async fn catch_up_logged(&self, subscription: &Subscription) {
        if let Err(error) = self.catch_up(subscription).await {
            tracing::warn!(producer = %subscription.producer, error = %format!("{error:#}"), "catch-up failed");
        }
    }

    /// Reads the producer's feed from the last handled event until it is exhausted.
    pub async fn catch_up(&self, subscription: &Subscription) -> anyhow::Result<()> {
        self.metrics
            .catch_ups
            .with_label_values(&[subscription.producer.as_str()])
            .inc();
        let limit = 500;
        loop {
            let after = self.last_seq(&subscription.producer).await?;
            let page = self.fetch(subscription, after, limit).await?;
            let count = page.items.len();
            for chunk in page.items.chunks(MAX_BATCH) {
                if self.process_batch(subscription, chunk).await == Outcome::Gap {
                    anyhow::bail!("the feed skipped an event after {after}");
                }
            }
            if count < limit {
                return Ok(());
            }
        }
    }

    async fn fetch(
        &self,
        subscription: &Subscription,
        after: i64,
        limit: usize,
    ) -> anyhow::Result<Feed> {
        let url = format!(
            "{}/internal/v1/events?after={after}&limit={limit}",
            subscription.feed_url
        );
        for attempt in 0..2 {
            let token = self.tokens.bearer().await?;
            let response = self
                .http
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .with_context(|| format!("reading {url}"))?;
            if response.status() == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                self.tokens.forget().await;
                continue;
            }
            return Ok(response.error_for_status()?.json().await?);
        }
        anyhow::bail!("{url} refused the service token")
    }

    /// The last sequence number handled from `producer`.
    pub async fn last_seq(&self, producer: &str) -> anyhow::Result<i64> {
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT last_seq FROM event_offsets WHERE producer = $1",
                [producer.into()],
            ))
            .await?;
        Ok(match row {
            Some(row) => row.try_get("", "last_seq")?,
            None => 0,
        })
    }

    /// Handles one event unless it is a duplicate or out of order; retries the
    /// handler, then parks. Database trouble is retried without end (the event is
    /// not at fault).
    pub async fn process(&self, subscription: &Subscription, event: &Envelope) -> Outcome {
        let producer = subscription.producer.as_str();
        let mut failures = 0;
        let mut delay = self.retry.first_delay;
        let mut infrastructure = Backoff::new();
        loop {
            match self.attempt(subscription, event).await {
                Ok(Attempt::Done(outcome)) => {
                    let counter = match outcome {
                        Outcome::Handled => &self.metrics.consumed,
                        Outcome::Duplicate => &self.metrics.duplicates,
                        Outcome::Gap | Outcome::Parked => return outcome,
                    };
                    counter.with_label_values(&[producer]).inc();
                    return outcome;
                }
                Ok(Attempt::HandlerFailed(error)) => {
                    failures += 1;
                    tracing::warn!(
                        producer, seq = event.seq, event_type = %event.event_type, failures,
                        error = %format!("{error:#}"), "event handler failed"
                    );
                    if failures >= self.retry.attempts {
                        match self.park(producer, event, &error, failures).await {
                            Ok(true) => {
                                self.metrics.parked.with_label_values(&[producer]).inc();
                                return Outcome::Parked;
                            }
                            Ok(false) => return Outcome::Duplicate,
                            Err(park_error) => {
                                tracing::error!(producer, error = %format!("{park_error:#}"), "parking failed");
                                infrastructure.wait().await;
                                continue;
                            }
                        }
                    }
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(error) => {
                    tracing::warn!(producer, error = %format!("{error:#}"), "event store unavailable; retrying");
                    infrastructure.wait().await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        subscription: &Subscription,
        event: &Envelope,
    ) -> anyhow::Result<Attempt> {
        let tx = self.db.begin().await?;
        let Some(last) = lock_offset(&tx, &subscription.producer).await? else {
            return Ok(Attempt::Done(Outcome::Duplicate));
        };
        if event.seq <= last {
            tx.rollback().await?;
            return Ok(Attempt::Done(Outcome::Duplicate));
        }
        if event.seq > last + 1 {
            tx.rollback().await?;
            return Ok(Attempt::Done(Outcome::Gap));
        }
        if let Err(error) = subscription.handler.handle(&tx, event).await {
            tx.rollback().await?;
            return Ok(Attempt::HandlerFailed(error));
        }
        move_offset(&tx, &subscription.producer, event.seq).await?;
        tx.commit().await?;
        Ok(Attempt::Done(Outcome::Handled))
    }

    /// Keeps a failing event in `parked_events` and moves past it. Answers false when
    /// another replica already moved past it.
    async fn park(
        &self,
        producer: &str,
        event: &Envelope,
        error: &anyhow::Error,
        attempts: u32,
    ) -> anyhow::Result<bool> {
        let tx = self.db.begin().await?;
        let last = lock_offset(&tx, producer).await?.unwrap_or(i64::MAX);
        if event.seq != last + 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO parked_events (producer, seq, event_id, event_type, envelope, error, attempts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (producer, seq) DO NOTHING",
            [
                producer.into(),
                event.seq.into(),
                event.id.into(),
                event.event_type.clone().into(),
                serde_json::to_value(event)?.into(),
                format!("{error:#}").into(),
                i32::try_from(attempts).unwrap_or(i32::MAX).into(),
            ],
        ))
        .await?;
        move_offset(&tx, producer, event.seq).await?;
        tx.commit().await?;
        tracing::error!(
            producer, seq = event.seq, event_id = %event.id, event_type = %event.event_type,
            error = %format!("{error:#}"), "event parked after repeated failures"
        );
        Ok(true)
    }
}

enum Attempt {
    Done(Outcome),
    HandlerFailed(anyhow::Error),
}

/// Locks the producer's offset row for this transaction (writing it first if this
/// is the producer's first event) and answers `last_seq`, in one statement.
async fn lock_offset(tx: &DatabaseTransaction, producer: &str) -> anyhow::Result<Option<i64>> {
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO event_offsets AS offsets (producer) VALUES ($1) \
             ON CONFLICT (producer) DO UPDATE SET producer = offsets.producer \
             RETURNING offsets.last_seq",
            [producer.into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("", "last_seq")?),
        None => None,
    })
}

async fn move_offset(tx: &DatabaseTransaction, producer: &str, seq: i64) -> anyhow::Result<()> {
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE event_offsets SET last_seq = $2, updated_at = now() WHERE producer = $1",
        [producer.into(), seq.into()],
    ))
    .await?;
    Ok(())
}
