//! `caravan`: run the whole platform, seed its demo data, and the platform
//! operator's tasks, all through the services' APIs.

pub mod api;
pub mod backup;
pub mod commands;
pub mod demo;
pub mod mailbox;
pub mod openapi;
pub mod platform;
pub mod secrets;
