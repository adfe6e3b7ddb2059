//! The Caravan auth service: identities, credentials, memberships, app clients,
//! access and refresh tokens, and the JWKS every service verifies tokens against.

pub mod domain;
pub mod events;
pub mod keys;
pub mod migrations;
pub mod retention;
pub mod routes;
pub mod startup;
pub mod store;
pub mod throttle;
