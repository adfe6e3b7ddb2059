#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
mod applications;
mod helpers;
mod operations;
mod retention;
mod rls;
mod status_changes;
mod tenants;
mod theme;
mod webhooks;
