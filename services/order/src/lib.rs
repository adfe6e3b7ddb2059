//! The Caravan order service: carts, checkout, orders, payments, fulfilment and shipping zones.

pub mod migrations;
pub mod routes;
pub mod startup;
