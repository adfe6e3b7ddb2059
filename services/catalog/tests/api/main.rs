#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
mod helpers;
mod operations;
mod products;
mod reservations;
mod storefront;
mod transfer;
