//! The Caravan tenant service: cooperatives' shops as businesses on the platform: applications, onboarding, lifecycle, plans and quotas, settings, webhooks, and public shop profiles.

pub mod migrations;
pub mod routes;
pub mod startup;
