//! Login throttling in Redis, per account and per client address.
//!
//! Only failures count, for 15 minutes after the last one. So that a burst of parallel
//! guesses is still counted as it arrives, an attempt is counted before its password
//! is checked and taken back when it succeeds or is refused (429): many people behind
//! one address (a cooperative's office, a mobile network) never lock each other out
//! by logging in. From the 5th failure on an account (20th from an address) the next
//! attempt must wait, 1 s doubling with each further failure up to 15 minutes, and is
//! answered 429 with `Retry-After` until then; once past the free attempts, only one
//! attempt per wait is let through to be checked.

use caravan_shared::redis_conn::{REDIS_TIMEOUT, Redis};
use sha2::{Digest, Sha256};

const WINDOW_SECS: u64 = 15 * 60;
const ACCOUNT_FREE_ATTEMPTS: u64 = 5;
const ADDRESS_FREE_ATTEMPTS: u64 = 20;

/// An attempt let through to have its password checked, and the waits it claimed on
/// the way (past the free attempts, one attempt per wait is checked).
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    claimed: Vec<String>,
}

/// Counts login attempts.
#[derive(Clone)]
pub struct LoginThrottle {
    redis: Redis,
}

fn hashed(value: &str) -> String {
    caravan_shared::secrets::hex(&Sha256::digest(value.as_bytes())[..12])
}

/// The wait earned after `attempts` counted attempts with `free` free ones.
fn wait_after(attempts: u64, free: u64) -> u64 {
    let exponent = attempts.saturating_sub(free).min(10) as u32;
    2u64.pow(exponent).min(WINDOW_SECS)
}

struct Keys {
    attempts: String,
    wait: String,
    free: u64,
}

impl LoginThrottle {
    /// A throttle keeping its counters in `redis`.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn keys(&self, email: &str, address: &str) -> [Keys; 2] {
        [
            Keys {
                attempts: self
                    .redis
                    .key(&format!("login:attempts:account:{}", hashed(email))),
                wait: self
                    .redis
                    .key(&format!("login:wait:account:{}", hashed(email))),
                free: ACCOUNT_FREE_ATTEMPTS,
            },
            Keys {
                attempts: self.redis.key(&format!("login:attempts:address:{address}")),
                wait: self.redis.key(&format!("login:wait:address:{address}")),
                free: ADDRESS_FREE_ATTEMPTS,
            },
        ]
    }

    async fn run<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Option<T> {
        let mut conn = self.redis.conn();
        match tokio::time::timeout(REDIS_TIMEOUT, command.query_async::<T>(&mut conn)).await {
            Ok(Ok(value)) => Some(value),
            _ => None,
        }
    }

    /// Counts an attempt before its password is checked: `Err(seconds)` when it must
    /// wait. When Redis is unavailable logins go on unthrottled rather than locking
    /// everyone out.
    pub async fn attempt(&self, email: &str, address: &str) -> Result<Attempt, u64> {
        let mut counted: Vec<String> = Vec::new();
        let mut claimed: Vec<String> = Vec::new();
        for keys in self.keys(email, address) {
            let ttl: Option<i64> = self.run(redis::cmd("PTTL").arg(&keys.wait)).await;
            if let Some(millis) = ttl.filter(|millis| *millis > 0) {
                self.take_back(&counted).await;
                return Err((millis as u64).div_ceil(1000));
            }
            // The window starts at the first count; each failure extends it (`failed`),
            // a success does not.
            let mut pipeline = redis::pipe();
            pipeline
                .atomic()
                .cmd("INCR")
                .arg(&keys.attempts)
                .cmd("EXPIRE")
                .arg(&keys.attempts)
                .arg(WINDOW_SECS)
                .arg("NX")
                .ignore();
            let mut conn = self.redis.conn();
            let incremented =
                tokio::time::timeout(REDIS_TIMEOUT, pipeline.query_async::<(u64,)>(&mut conn))
                    .await;
            let Ok(Ok((attempts,))) = incremented else {
                tracing::warn!("login throttle unavailable");
                return Ok(Attempt { claimed });
            };
            counted.push(keys.attempts.clone());
            if attempts > keys.free {
                // Past the free attempts: whoever sets the wait first goes ahead; the
                // rest of a burst waits.
                let wait = wait_after(attempts - 1, keys.free);
                let claim: Option<Option<String>> = self
                    .run(
                        redis::cmd("SET")
                            .arg(&keys.wait)
                            .arg(1)
                            .arg("EX")
                            .arg(wait)
                            .arg("NX"),
                    )
                    .await;
                match claim {
                    Some(None) => {
                        self.take_back(&counted).await;
                        return Err(wait);
                    }
                    Some(Some(_)) => claimed.push(keys.wait.clone()),
                    None => {}
                }
            }
        }
        Ok(Attempt { claimed })
    }

    /// Takes back attempts counted while in flight that turned out not to be failures.
    /// A count never goes below zero (its key may have expired meanwhile).
    async fn take_back(&self, counters: &[String]) {
        for counter in counters {
            let _: Option<i64> = self
                .run(
                    redis::cmd("EVAL")
                        .arg(
                            "local left = redis.call('DECR', KEYS[1]) \
                             if left <= 0 then redis.call('DEL', KEYS[1]) end \
                             return left",
                        )
                        .arg(1)
                        .arg(counter),
                )
                .await;
        }
    }

    /// After a wrong password: the attempt stays counted, the window restarts, and the
    /// next attempt waits once the free ones are used.
    pub async fn failed(&self, email: &str, address: &str) {
        for keys in self.keys(email, address) {
            let mut pipeline = redis::pipe();
            pipeline
                .cmd("GET")
                .arg(&keys.attempts)
                .cmd("EXPIRE")
                .arg(&keys.attempts)
                .arg(WINDOW_SECS)
                .ignore();
            let mut conn = self.redis.conn();
            let read = tokio::time::timeout(
                REDIS_TIMEOUT,
                pipeline.query_async::<(Option<u64>,)>(&mut conn),
            )
            .await;
            let Ok(Ok((Some(attempts),))) = read else {
                continue;
            };
            if attempts >= keys.free {
                let wait = wait_after(attempts, keys.free);
                let _: Option<()> = self
                    .run(redis::cmd("SET").arg(&keys.wait).arg(1).arg("EX").arg(wait))
                    .await;
            }
        }
    }

    /// After the right password: the account's failures are forgotten, the attempt
    /// no longer counts against the address (other failures from there still do),
    /// and a wait it claimed is lifted, so the next person behind the same address
    /// does not wait because somebody else logged in.
    pub async fn succeeded(&self, email: &str, address: &str, attempt: Attempt) {
        let [account, address] = self.keys(email, address);
        let _: Option<()> = self
            .run(redis::cmd("DEL").arg(account.attempts).arg(account.wait))
            .await;
        self.take_back(&[address.attempts]).await;
        if !attempt.claimed.is_empty() {
            let _: Option<()> = self.run(redis::cmd("DEL").arg(attempt.claimed)).await;
        }
    }
}
