//! Redis: one multiplexed connection that reconnects by itself, and the key prefix of
//! this deployment (tests get one each).

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// How long any Redis call may take before it counts as down.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// Awaits a best-effort Redis call for at most [`REDIS_TIMEOUT`]: its value, or
/// `None` with a warning naming `what` failed when Redis errs or is late.
pub async fn within<T, E: std::fmt::Display>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Option<T> {
    within_limit(REDIS_TIMEOUT, what, call).await
}

/// [`within`], for a call that may take at most `limit` (one on a request's path
/// that must not wait the whole [`REDIS_TIMEOUT`]).
pub async fn within_limit<T, E: std::fmt::Display>(
    limit: Duration,
    what: &str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Option<T> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            tracing::warn!(%error, "Redis failed to {what}");
            None
        }
        Err(_) => {
            tracing::warn!("Redis did not answer in time to {what}");
            None
        }
    }
}

/// A Redis connection and the prefix of every key and channel.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    manager: ConnectionManager,
    prefix: String,
}

impl Redis {
    /// Prepares a connection; it is made on first use, so a service starts (and
    /// reports not ready) while Redis is down.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        // Commands go out at once (redis-rs leaves Nagle's algorithm on by default).
        let info = redis::IntoConnectionInfo::into_connection_info(url)?
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Self {
            client,
            manager,
            prefix: prefix.to_owned(),
        })
    }

    /// A connection handle for commands; cheap to clone.
    pub fn conn(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// The client, for pub/sub connections.
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// A key or channel name under this deployment's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// Counts one more event under `name`, a count that lives `ttl_secs` from its
    /// first event; answers the count and the seconds it has left to live, or `None`
    /// when Redis failed or did not answer in time.
    pub async fn count(&self, name: &str, ttl_secs: u64) -> Option<(u64, u64)> {
        let key = self.key(name);
        let mut conn = self.conn();
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(ttl_secs)
            .arg("NX")
            .ignore()
            .cmd("TTL")
            .arg(&key);
        let (count, ttl) = within(
            &format!("count {key}"),
            pipeline.query_async::<(u64, i64)>(&mut conn),
        )
        .await?;
        Some((count, u64::try_from(ttl).unwrap_or(ttl_secs)))
    }

    /// Takes back one event counted under `name` by [`Redis::count`] (an attempt that
    /// turned out not to count). Best effort: a failure is logged.
    pub async fn uncount(&self, name: &str) {
        let key = self.key(name);
        let mut conn = self.conn();
        let command = redis::cmd("DECR").arg(&key).clone();
        within(
            &format!("take a count of {key} back"),
            command.query_async::<i64>(&mut conn),
        )
        .await;
    }

    /// Whether Redis answers a PING in time.
    pub async fn ping(&self) -> bool {
        let mut conn = self.conn();
        let command = redis::cmd("PING");
        let ping = command.query_async::<String>(&mut conn);
        matches!(tokio::time::timeout(REDIS_TIMEOUT, ping).await, Ok(Ok(_)))
    }
}
