//! Retention: what a service keeps only as long as it is needed. Each rule removes
//! (or clears) what is older than its setting, in batches that lock their rows with
//! `FOR UPDATE SKIP LOCKED`, so replicas share the work and no request waits on it.
//! Every service runs the [`COMMON`] rules and its own a minute after start and
//! every `RETENTION_INTERVAL_SECS` (an hour by default).

use crate::config::{ConfigError, Settings, Source, setting};
use crate::tenancy::PlatformTx;
use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::time::Duration;

/// One thing kept for a while.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Its name, in metrics and logs.
    pub name: &'static str,
    /// The setting of how long it is kept, in hours.
    pub setting: &'static str,
    /// How long it is kept when the setting is absent, in hours.
    pub default_hours: u32,
    /// The table.
    pub table: &'static str,
    /// The columns naming one of its rows.
    pub key: &'static [&'static str],
    /// Which rows are past keeping, with `$1` the cutoff (a `timestamptz`).
    pub due: &'static str,
    /// What is done to them.
    pub action: Action,
}

/// What a rule does to the rows past keeping.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Removes them.
    Remove,
    /// Sets columns (`body = ''`), keeping the rest of the row.
    Clear(&'static str),
}

impl Rule {
    /// One batch: at most `$2` rows past `$1`, locked `FOR UPDATE SKIP LOCKED` so
    /// that replicas take different ones.
    fn batch(&self) -> String {
        let Rule {
            table, key, due, ..
        } = self;
        let keys = key.join(", ");
        let matched = key
            .iter()
            .map(|column| format!("t.{column} = old.{column}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let old =
            format!("(SELECT {keys} FROM {table} WHERE {due} LIMIT $2 FOR UPDATE SKIP LOCKED) old");
        match self.action {
            Action::Remove => format!("DELETE FROM {table} t USING {old} WHERE {matched}"),
            Action::Clear(set) => format!("UPDATE {table} t SET {set} FROM {old} WHERE {matched}"),
        }
    }
}

/// Hours in a day, for defaults written in days.
const DAY: u32 = 24;

/// Idempotency records: a retry comes within minutes, a day is plenty.
pub const IDEMPOTENCY_KEYS: Rule = Rule {
    name: "idempotency_keys",
    setting: "RETENTION_IDEMPOTENCY_HOURS",
    default_hours: DAY,
    table: "idempotency_keys",
    key: &["scope", "key"],
    due: "created_at < $1",
    action: Action::Remove,
};

/// The bodies of mail that was sent (cleared on sending already) or given up on;
/// the envelope (recipient, subject, when, errors) stays.
pub const MAIL_BODIES: Rule = Rule {
    name: "mail_bodies",
    setting: "RETENTION_MAIL_BODY_HOURS",
    default_hours: 30 * DAY,
    table: "mail_outbox",
    key: &["id"],
    due: "coalesce(sent_at, failed_at) < $1 AND body <> ''",
    action: Action::Clear("body = ''"),
};

/// Events published long ago: consumers catch up from the outbox for this long.
pub const PUBLISHED_EVENTS: Rule = Rule {
    name: "published_events",
    setting: "RETENTION_PUBLISHED_EVENTS_HOURS",
    default_hours: 7 * DAY,
    table: "outbox",
    key: &["position"],
    due: "published_at < $1",
    action: Action::Remove,
};

/// Events a consumer parked and someone resolved; unresolved ones stay until they
/// are.
pub const RESOLVED_PARKED_EVENTS: Rule = Rule {
    name: "resolved_parked_events",
    setting: "RETENTION_RESOLVED_PARKED_HOURS",
    default_hours: 30 * DAY,
    table: "parked_events",
    key: &["producer", "seq"],
    due: "resolved_at < $1",
    action: Action::Remove,
};

/// What every service keeps in the tables of this crate.
pub const COMMON: [Rule; 4] = [
    IDEMPOTENCY_KEYS,
    MAIL_BODIES,
    PUBLISHED_EVENTS,
    RESOLVED_PARKED_EVENTS,
];

/// How long after start the rules first run.
const SETTLE: Duration = Duration::from_secs(60);

/// Rows a batch takes at most.
const BATCH: i64 = 500;

/// A service's retention rules with how long each keeps, and their metrics.
#[derive(Clone)]
pub struct Retention {
    db: DatabaseConnection,
    rules: Vec<(Rule, Duration)>,
    interval: Duration,
    metrics: RetentionMetrics,
}

#[derive(Clone)]
struct RetentionMetrics {
    removed: IntCounterVec,
    last_run: IntGaugeVec,
    failures: IntCounterVec,
}

impl RetentionMetrics {
    fn register(registry: &Registry) -> anyhow::Result<Self> {
        let removed = IntCounterVec::new(
            Opts::new(
                "retention_rows_total",
                "Rows removed or cleared by each retention rule",
            ),
            &["rule"],
        )?;
        let last_run = IntGaugeVec::new(
            Opts::new(
                "retention_last_run_timestamp_seconds",
                "When each retention rule last ran to the end (Unix time)",
            ),
            &["rule"],
        )?;
        let failures = IntCounterVec::new(
            Opts::new(
                "retention_failures_total",
                "Retention runs of each rule that stopped on an error",
            ),
            &["rule"],
        )?;
        registry.register(Box::new(removed.clone()))?;
        registry.register(Box::new(last_run.clone()))?;
        registry.register(Box::new(failures.clone()))?;
        Ok(Self {
            removed,
            last_run,
            failures,
        })
    }
}

impl Retention {
    /// The [`COMMON`] rules and `own`, each kept as long as its setting says, run
    /// every `RETENTION_INTERVAL_SECS`.
    pub fn new(
        settings: &Settings,
        db: DatabaseConnection,
        own: &[Rule],
        registry: &Registry,
    ) -> anyhow::Result<Self> {
        Self::from_source(&*settings.source.0, db, own, registry)
    }

    /// As [`Retention::new`], with the settings read from `source`.
    pub fn from_source(
        source: &dyn Source,
        db: DatabaseConnection,
        own: &[Rule],
        registry: &Registry,
    ) -> anyhow::Result<Self> {
        let rules = COMMON
            .iter()
            .chain(own)
            .map(|rule| {
                let hours: u32 = setting(source, rule.setting, rule.default_hours)?;
                if hours == 0 {
                    return Err(ConfigError {
                        variable: rule.setting.to_owned(),
                        reason: "must be at least 1 hour".to_owned(),
                    });
                }
                Ok((*rule, Duration::from_secs(u64::from(hours) * 3600)))
            })
            .collect::<Result<_, _>>()?;
        let interval: u64 = setting(source, "RETENTION_INTERVAL_SECS", 3600)?;
        if interval == 0 {
            return Err(ConfigError {
                variable: "RETENTION_INTERVAL_SECS".to_owned(),
                reason: "must be at least 1 second".to_owned(),
            }
            .into());
        }
        Ok(Self {
            db,
            rules,
            interval: Duration::from_secs(interval),
            metrics: RetentionMetrics::register(registry)?,
        })
    }

    /// Runs every rule to the end, batch by batch; answers the rows each removed or
    /// cleared. A rule that fails is logged and counted, and the others still run.
    pub async fn run(&self) -> Vec<(&'static str, u64)> {
        let mut done = Vec::with_capacity(self.rules.len());
        for (rule, keep) in &self.rules {
            match self.apply(rule, *keep).await {
                Ok(rows) => {
                    self.metrics.last_run.with_label_values(&[rule.name]).set(
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |now| i64::try_from(now.as_secs()).unwrap_or(0)),
                    );
                    if rows > 0 {
                        tracing::info!(rule = rule.name, rows, "retention");
                    }
                    done.push((rule.name, rows));
                }
                Err(error) => {
                    self.metrics.failures.with_label_values(&[rule.name]).inc();
                    tracing::warn!(rule = rule.name, error = %format!("{error:#}"), "retention stopped");
                }
            }
        }
        done
    }

    /// One rule, a batch per transaction until a batch comes up short.
    async fn apply(&self, rule: &Rule, keep: Duration) -> anyhow::Result<u64> {
        let keep = keep.as_secs_f64();
        let batch = rule.batch();
        let mut total = 0;
        loop {
            let tx = PlatformTx::begin(&self.db, "retention").await?;
            // The database's clock: the one every row's time was written by.
            let cutoff: chrono::DateTime<chrono::Utc> = tx
                .conn()
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT now() - make_interval(secs => $1) AS cutoff",
                    [keep.into()],
                ))
                .await?
                .ok_or_else(|| anyhow::anyhow!("no time from the database"))?
                .try_get("", "cutoff")?;
            let rows = tx
                .conn()
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    &batch,
                    [cutoff.into(), BATCH.into()],
                ))
                .await?
                .rows_affected();
            tx.commit().await?;
            self.metrics
                .removed
                .with_label_values(&[rule.name])
                .inc_by(rows);
            total += rows;
            if rows < BATCH.unsigned_abs() {
                return Ok(total);
            }
        }
    }

    /// Runs the rules in the background: a minute after start (or sooner, when the
    /// interval is shorter), once the service has settled, and every interval after.
    pub fn spawn(self) {
        tokio::spawn(async move {
            let first = tokio::time::Instant::now() + self.interval.min(SETTLE);
            let mut every = tokio::time::interval_at(first, self.interval);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                self.run().await;
            }
        });
    }
}
