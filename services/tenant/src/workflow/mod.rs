//! The tenant service's business flows that take several store calls in one
//! transaction: applying for a shop and deciding the application, and opening a shop.
//! Handlers check what a request says and answer; these do what it asks.

pub mod applying;
pub mod opening;
