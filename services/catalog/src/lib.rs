//! The Caravan catalog service: what a cooperative sells — products, variants,
//! categories, prices, stock and reservations — and the public storefront reads.

pub mod csv_format;
pub mod domain;
pub mod events;
pub mod media_store;
pub mod migrations;
pub mod routes;
mod schemas;
pub mod startup;
pub mod store;
pub mod storefront_cache;
pub mod views;
pub mod workflow;
