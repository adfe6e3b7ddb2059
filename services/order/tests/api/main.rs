#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
mod catalog_outage;
mod checkout;
mod concurrency;
mod groups;
mod helpers;
mod idempotency;
mod journey;
mod operations;
mod payments;
mod preorders;
mod replica;
mod reports;
mod retention;
mod rls;
mod slow_catalog;
mod staff;
mod stored_values;
