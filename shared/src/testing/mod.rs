//! The test harness every service uses (feature `testing`): a fresh database per test
//! cloned from a migrated template, a Redis prefix of its own, signing keys served as a
//! real JWKS over HTTP, and settings pointing at all of them.

use crate::config::{ServiceName, Settings};
use anyhow::Context;
use std::collections::HashMap;

mod app;
pub mod bench;
mod database;
mod keys;
mod mail;
mod ports;

pub use app::*;
pub use database::*;
pub use keys::*;
pub use mail::*;
pub use ports::*;

/// The PostgreSQL server tests use, as an owner (`TEST_DATABASE_URL`, default the local
/// server as `postgres`).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The Redis server tests use (`TEST_REDIS_URL`).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Settings for a service under test: random port, its own database and Redis
/// prefix, the test JWKS, and `overrides` on top.
pub fn settings(
    service: ServiceName,
    database: &TestDatabase,
    keys: &TestKeys,
    overrides: &[(&str, &str)],
) -> anyhow::Result<Settings> {
    let mut source: HashMap<String, String> = HashMap::new();
    let prefix = format!("caravan-test-{}", uuid::Uuid::now_v7().simple());
    for (name, value) in [
        ("BIND", "127.0.0.1:0"),
        ("DATABASE_URL", database.runtime_url.as_str()),
        ("MIGRATION_DATABASE_URL", database.owner_url.as_str()),
        ("DATABASE_MAX_CONNECTIONS", "5"),
        // The test command checks the budget of the whole run (deploy/scripts/test.sh).
        ("DATABASE_CAPACITY_CHECK", "false"),
        ("REDIS_URL", redis_url().as_str()),
        ("REDIS_PREFIX", prefix.as_str()),
        ("AUTH_URL", keys.auth_url.as_str()),
        ("JWT_ISSUER", TEST_ISSUER),
        ("JWT_AUDIENCE", TEST_AUDIENCE),
        ("SHUTDOWN_TIMEOUT_SECS", "1"),
        ("SERVICE_CLIENT_SECRET", test_service_secret()),
    ] {
        source.insert(name.to_owned(), value.to_owned());
    }
    if service == ServiceName::Auth {
        source.insert(
            "SIGNING_KEY_ENCRYPTION_KEY".to_owned(),
            test_signing_key_encryption_key().to_owned(),
        );
    }
    for (name, value) in overrides {
        source.insert((*name).to_owned(), (*value).to_owned());
    }
    Ok(Settings::from_source(service, std::sync::Arc::new(source))?)
}

/// A Redis server of a test's own on `port`, stopped when dropped, for tests that
/// take Redis away and bring it back.
pub struct RedisServer(std::process::Child);

impl RedisServer {
    /// Starts `redis-server` (it must be installed) on `port`, keeping nothing on disk.
    pub fn start(port: u16) -> anyhow::Result<Self> {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting redis-server")?;
        Ok(Self(child))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
