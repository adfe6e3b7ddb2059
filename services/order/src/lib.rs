//! The Caravan order service: carts, checkout, orders, payments, fulfilment and
//! shipping zones.

pub mod catalog;
pub mod csv_format;
pub mod domain;
pub mod emails;
pub mod events;
pub mod expiry;
pub mod migrations;
pub mod payments;
pub mod retention;
pub mod routes;
mod schemas;
pub mod sold_out;
pub mod startup;
pub mod store;
pub mod sweep;
pub mod views;
pub mod workflow;
