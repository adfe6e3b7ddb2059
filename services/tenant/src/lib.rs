//! The Caravan tenant service: cooperatives' shops as businesses on the platform —
//! applications, onboarding, lifecycle, plans and quotas, settings, and public shop
//! profiles.

pub mod domain;
pub mod emails;
pub mod events;
pub mod migrations;
pub mod retention;
pub mod routes;
pub mod startup;
pub mod store;
pub mod webhooks;
pub mod workflow;
