//! The auth service's HTTP routes (parse, call, map).

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the service's routes; each is collected into its OpenAPI document.
pub fn configure(_config: &mut ServiceConfig) {}
