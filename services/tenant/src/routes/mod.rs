//! The tenant service's HTTP routes (parse, call, map).

mod applications;
mod shops;
mod tenants;
mod views;
mod webhooks;

use crate::domain::plan_code_schema;
use caravan_shared::service::ServiceContext;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa_actix_web::service_config::ServiceConfig;

/// What the tenant routes share.
pub struct TenantState {
    /// Database, Redis, settings.
    pub context: ServiceContext,
    /// Whether webhooks may target internal addresses and plain HTTP (development).
    pub webhooks_allow_internal: bool,
}

/// A required plan code as documented.
pub(crate) fn plan_schema() -> Schema {
    plan_code_schema()
        .description(Some("Plan code: `free`, `standard` or `pro`."))
        .into()
}

/// An optional plan code as documented: a plan code, or null (or absent) for `free`.
pub(crate) fn optional_plan_schema() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(plan_code_schema())
        .description(Some(
            "Plan code: `free` (the default), `standard` or `pro`.",
        ))
        .into()
}

/// A string that is one of `values`, as documented.
pub(crate) fn one_of(values: &'static [&'static str]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
}

/// Registers the service's routes; each is collected into its OpenAPI document.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(applications::apply)
        // Before `/v1/tenants/{id}`, which would take its path.
        .service(applications::slug_availability)
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
        .service(shops::directory)
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
