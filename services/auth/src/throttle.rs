//! Login throttling in Redis, per account and per client address.
//!
//! Each failure counts for 15 minutes. From the 5th failure on an account (20th from
//! an address) the next attempt must wait, 1 s doubling with each further failure up
//! to 15 minutes, and is answered 429 with `Retry-After` until then.

use caravan_shared::redis_conn::{REDIS_TIMEOUT, Redis};
use sha2::{Digest, Sha256};

const WINDOW_SECS: u64 = 15 * 60;
const ACCOUNT_FREE_FAILURES: u64 = 4;
const ADDRESS_FREE_FAILURES: u64 = 19;

/// Counts failed logins.
#[derive(Clone)]
pub struct LoginThrottle {
    redis: Redis,
}

fn hashed(value: &str) -> String {
    Sha256::digest(value.as_bytes())[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl LoginThrottle {
    /// A throttle keeping its counters in `redis`.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn keys(&self, email: &str, address: &str) -> [(String, String); 2] {
        [
            (
                self.redis
                    .key(&format!("login:fails:account:{}", hashed(email))),
                self.redis
                    .key(&format!("login:wait:account:{}", hashed(email))),
            ),
            (
                self.redis.key(&format!("login:fails:address:{address}")),
                self.redis.key(&format!("login:wait:address:{address}")),
            ),
        ]
    }

    /// Seconds to wait before another attempt, if any. When Redis is unavailable
    /// logins go on unthrottled rather than locking everyone out.
    pub async fn wait(&self, email: &str, address: &str) -> Option<u64> {
        let mut conn = self.redis.conn();
        let mut longest = None;
        for (_, wait_key) in self.keys(email, address) {
            let command = redis::cmd("PTTL").arg(&wait_key).clone();
            let ttl =
                tokio::time::timeout(REDIS_TIMEOUT, command.query_async::<i64>(&mut conn)).await;
            if let Ok(Ok(millis)) = ttl
                && millis > 0
            {
                let seconds = (millis as u64).div_ceil(1000);
                longest = Some(longest.map_or(seconds, |l: u64| l.max(seconds)));
            }
        }
        longest
    }

    /// Records a failure and starts the wait it earns.
    pub async fn failed(&self, email: &str, address: &str) {
        let mut conn = self.redis.conn();
        for ((fails_key, wait_key), free) in self
            .keys(email, address)
            .into_iter()
            .zip([ACCOUNT_FREE_FAILURES, ADDRESS_FREE_FAILURES])
        {
            let mut pipeline = redis::pipe();
            pipeline
                .atomic()
                .cmd("INCR")
                .arg(&fails_key)
                .cmd("EXPIRE")
                .arg(&fails_key)
                .arg(WINDOW_SECS)
                .ignore();
            let counted =
                tokio::time::timeout(REDIS_TIMEOUT, pipeline.query_async::<(u64,)>(&mut conn))
                    .await;
            let Ok(Ok((failures,))) = counted else {
                tracing::warn!("login throttle unavailable");
                return;
            };
            if failures > free {
                let exponent = (failures - free - 1).min(10) as u32;
                let wait = 2u64.pow(exponent).min(WINDOW_SECS);
                let command = redis::cmd("SET")
                    .arg(&wait_key)
                    .arg(1)
                    .arg("EX")
                    .arg(wait)
                    .clone();
                let _ =
                    tokio::time::timeout(REDIS_TIMEOUT, command.query_async::<()>(&mut conn)).await;
            }
        }
    }

    /// Clears an account's failures after a successful login.
    pub async fn succeeded(&self, email: &str, address: &str) {
        let mut conn = self.redis.conn();
        let [(fails, wait), _] = self.keys(email, address);
        let command = redis::cmd("DEL").arg(fails).arg(wait).clone();
        let _ = tokio::time::timeout(REDIS_TIMEOUT, command.query_async::<()>(&mut conn)).await;
    }
}
