//! Queries of the catalog database. Every function takes a tenant scope: row-level
//! security shows one shop's rows, and every query names the shop too.
//!
//! Ordinary reads and writes go through the entities (`entities.rs`) and sea-orm's
//! query builder; named SQL is kept where it is the point: conditional stock
//! counters and row locks (`stock.rs`, `reservations.rs`), and bulk import
//! (`import.rs`).

mod categories;
mod columns;
pub mod entities;
mod import;
mod media;
mod products;
pub mod reservations;
mod stock;
mod variants;

pub use categories::*;
pub use columns::{Price, Prices};
pub use import::*;
pub use media::*;
pub use products::*;
pub use stock::*;
pub use variants::*;
