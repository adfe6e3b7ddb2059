//! Rate limits per client, counted in Redis so every gateway replica shares them.
//!
//! A client is its bearer token when it sends one that verifies against the auth
//! service's keys (an app, a shop's staff, a customer) and its address otherwise: a
//! made-up token earns nothing but the address's allowance. Each gets a number of requests per minute
//! (a fixed window); every answer says where the client stands in `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the window turns), and
//! a client over its limit gets 429 with `Retry-After`. When Redis cannot be
//! reached the gateway lets requests through rather than take the API down with it.

use actix_web::HttpRequest;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use caravan_shared::identity::JwksVerifier;
use caravan_shared::redis_conn::Redis;
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// Length of a window, in seconds.
pub const WINDOW_SECS: u64 = 60;

/// Requests per minute for each kind of client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `RATE_LIMIT_ANONYMOUS`: per address, without a token (default 300).
    pub anonymous: u64,
    /// `RATE_LIMIT_AUTHENTICATED`: per bearer token (default 1200).
    pub authenticated: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            anonymous: 300,
            authenticated: 1200,
        }
    }
}

/// Where one client stands in the current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the window turns.
    pub reset: u64,
    /// Whether this request went over the limit.
    pub exceeded: bool,
}

impl Standing {
    /// Writes the `RateLimit-*` headers.
    pub fn write(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("ratelimit-limit", self.limit),
            ("ratelimit-remaining", self.remaining),
            ("ratelimit-reset", self.reset),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

/// Counts requests per client.
pub struct Limiter {
    redis: Redis,
    limits: Limits,
    verifier: JwksVerifier,
}

impl Limiter {
    pub fn new(redis: Redis, limits: Limits, verifier: JwksVerifier) -> Self {
        Self {
            redis,
            limits,
            verifier,
        }
    }

    /// Counts this request from `address` (the client's, as the gateway
    /// established it); `None` when Redis could not be asked.
    pub async fn count(
        &self,
        request: &HttpRequest,
        address: Option<std::net::IpAddr>,
    ) -> Option<Standing> {
        let verified = match bearer(request) {
            Some(token) => self.verifier.verify(token).await.is_ok().then_some(token),
            None => None,
        };
        let (client, limit) = match verified {
            Some(token) => (
                format!("token:{:x}", Sha256::digest(token.as_bytes())),
                self.limits.authenticated,
            ),
            None => (
                format!(
                    "address:{}",
                    address
                        .map_or_else(|| "unknown".to_owned(), caravan_shared::http::throttle_key)
                ),
                self.limits.anonymous,
            ),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or_default();
        let window = now / WINDOW_SECS;
        let (count, _) = self
            .redis
            .count(&format!("ratelimit:{client}:{window}"), WINDOW_SECS * 2)
            .await?;
        Some(Standing {
            limit,
            remaining: limit.saturating_sub(count),
            reset: WINDOW_SECS - now % WINDOW_SECS,
            exceeded: count > limit,
        })
    }
}

/// The bearer token of the request, if it sends one.
fn bearer(request: &HttpRequest) -> Option<&str> {
    let value = request.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
