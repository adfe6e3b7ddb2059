#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
mod bounds;
mod categories;
mod helpers;
mod inventory;
mod media;
mod operations;
mod order_events;
mod products;
mod reservations;
mod rls;
mod stored_prices;
mod stored_statuses;
mod storefront;
mod storefront_cache;
mod transfer;
