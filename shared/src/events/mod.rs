//! The event backbone: "Redis is the doorbell, PostgreSQL the mailbox".
//!
//! A producer appends events to its `outbox` in the transaction of the state change
//! ([`outbox::append`]); its [`relay::Relay`] numbers committed events in one gap-free
//! sequence and publishes them, in order, on the Redis channel
//! `<prefix>.events.<producer>`; its [`feed`] serves them over REST to services. A
//! [`consumer::Consumer`] handles each event in a transaction that also moves its
//! offset for that producer, catches up from the feed on start, on reconnect and on a
//! gap, skips duplicates, and parks an event whose handler keeps failing.

pub mod consumer;
pub mod feed;
pub mod outbox;
pub mod parked;
pub mod relay;

use crate::db::SqlMigration;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The outbox, offsets and parked-events tables; every service lists it.
pub const EVENTS_MIGRATION: SqlMigration = SqlMigration {
    name: "m0000_caravan_events",
    sql: include_str!("../../migrations/0001_events.sql"),
};

/// An event as published and served: `{id, seq, type, tenant_id, occurred_at, data}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Envelope {
    /// Unique id (UUIDv7).
    pub id: Uuid,
    /// Position in the producer's sequence: 1, 2, 3, … with no gaps.
    pub seq: i64,
    /// What happened, in the past tense: `tenant.suspended`, `order.paid`.
    #[serde(rename = "type")]
    #[schema(example = "tenant.activated")]
    pub event_type: String,
    /// The tenant it concerns, if any.
    pub tenant_id: Option<Uuid>,
    /// When the state change was made.
    pub occurred_at: DateTime<Utc>,
    /// The event's facts.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// The pub/sub channel a producer publishes on.
pub fn channel(redis_prefix: &str, producer: &str) -> String {
    format!("{redis_prefix}.events.{producer}")
}
