//! The Caravan catalog service: what a cooperative sells: products, variants, categories, prices, stock and reservations, and the public storefront reads.

pub mod migrations;
pub mod routes;
pub mod startup;
