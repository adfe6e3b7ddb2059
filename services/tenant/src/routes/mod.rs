//! The tenant service's HTTP routes (parse, call, map).

mod applications;
mod shops;
mod tenants;
mod views;
mod webhooks;

use caravan_shared::service::ServiceContext;
use utoipa_actix_web::service_config::ServiceConfig;

/// What the tenant routes share.
pub struct TenantState {
    /// Database, Redis, settings.
    pub context: ServiceContext,
    /// Whether `X-Forwarded-For` names the client (behind the gateway).
    pub trust_forwarded_for: bool,
    /// Whether webhooks may target internal addresses and plain HTTP (development).
    pub webhooks_allow_internal: bool,
}

/// Registers the service's routes; each is collected into its OpenAPI document.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(applications::apply)
        .service(applications::list)
        .service(applications::show)
        .service(applications::approve)
        .service(applications::reject)
        .service(tenants::create)
        .service(tenants::list)
        .service(tenants::show)
        .service(tenants::update)
        .service(tenants::suspend)
        .service(tenants::reinstate)
        .service(tenants::close)
        .service(tenants::change_plan)
        .service(tenants::audit)
        .service(shops::plans)
        .service(shops::profile)
        .service(webhooks::create)
        .service(webhooks::list)
        .service(webhooks::show)
        .service(webhooks::update)
        .service(webhooks::remove)
        .service(webhooks::rotate_secret)
        .service(webhooks::deliveries)
        .service(webhooks::retry);
}
