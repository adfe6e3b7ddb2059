//! Ended sessions: the short list, in Redis, that makes logout, a password change or a
//! revoked app client end its access tokens within a second rather than when they
//! expire.
//!
//! Access tokens carry their session in `sid` (a person's refresh-token family, or an
//! app client). Ending a session writes `sessions:ended:<sid>` under the deployment's
//! Redis prefix, living as long as any token of the session can (the access-token
//! lifetime plus the verifier's leeway, plus a margin); every service looks the
//! session up when it authenticates a caller: one `EXISTS`, one round trip.

use super::{LEEWAY_SECS, TokenSigner};
use crate::redis_conn::{REDIS_TIMEOUT, Redis, within_limit};
use std::time::Duration;
use uuid::Uuid;

/// How long an ended session is remembered: longer than any of its tokens lives (a
/// token issued a moment after the session ended, by a refresh racing the logout,
/// included).
pub const ENDED_SESSION_TTL_SECS: u64 =
    TokenSigner::ACCESS_TOKEN_TTL_SECS.unsigned_abs() + LEEWAY_SECS + 60;

/// How long a caller's request waits for the check before going on without it.
pub const CHECK_TIMEOUT: Duration = Duration::from_millis(300);

fn key(redis: &Redis, session: Uuid) -> String {
    redis.key(&format!("sessions:ended:{session}"))
}

/// Records `sessions` as ended: their access tokens are refused from now on, by every
/// service. Fails when Redis does not take it (the caller decides whether to go on).
pub async fn end(redis: &Redis, sessions: &[Uuid]) -> anyhow::Result<()> {
    if sessions.is_empty() {
        return Ok(());
    }
    let mut pipeline = redis::pipe();
    for session in sessions {
        pipeline
            .cmd("SET")
            .arg(key(redis, *session))
            .arg(1)
            .arg("EX")
            .arg(ENDED_SESSION_TTL_SECS)
            .ignore();
    }
    let mut conn = redis.conn();
    tokio::time::timeout(REDIS_TIMEOUT, pipeline.query_async::<()>(&mut conn))
        .await
        .map_err(|_| anyhow::anyhow!("Redis did not answer in time to end sessions"))?
        .map_err(|error| anyhow::anyhow!("Redis failed to end sessions: {error}"))?;
    Ok(())
}

/// Whether `session` has ended: `None` when Redis cannot say (down, or slower than
/// [`CHECK_TIMEOUT`]).
pub async fn has_ended(redis: &Redis, session: Uuid) -> Option<bool> {
    let mut conn = redis.conn();
    let command = redis::cmd("EXISTS").arg(key(redis, session)).clone();
    let found = within_limit(
        CHECK_TIMEOUT,
        "check a session",
        command.query_async::<u64>(&mut conn),
    )
    .await?;
    Some(found > 0)
}
