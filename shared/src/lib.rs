//! `caravan-shared`: what every Caravan service stands on.
//!
//! Errors rendered as RFC 9457 problems, telemetry, configuration, identity (JWKS
//! verification and the caller extractors), tenancy (row-level security), the domain
//! building blocks (money, localized text, pagination), idempotency, database
//! provisioning and migrations, the common HTTP surface of a service (operators' status
//! and usage reads among it), and the test harness (feature `testing`).

pub mod cache;
pub mod config;
pub mod db;
pub mod deadline;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod mail;
pub mod metrics;
pub mod operations;
pub mod redis_conn;
pub mod retention;
pub mod secrets;
pub mod service;
pub mod shops;
pub mod spreadsheet;
pub mod telemetry;
pub mod tenancy;
pub mod tenant_status;
#[cfg(feature = "testing")]
pub mod testing;
pub mod worker;

pub use error::{ApiError, ErrorCode, FieldError};
pub use tenancy::TenantId;
