//! The tenant service's HTTP routes (parse, call, map).

mod applications;
mod shops;
mod tenants;
mod views;
mod webhooks;

use crate::domain::plan_code_schema;
use caravan_shared::ErrorCode;
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

/// A shop about to open.
pub(crate) struct NewShop {
    pub slug: String,
    pub name: String,
    pub region: String,
    pub owner_email: String,
    pub owner_name: Option<String>,
    pub phone: Option<String>,
    /// Its name in other languages, as stored (`{}`: none).
    pub names: serde_json::Value,
}

/// Opens an active shop: stores it, records `action` by `actor` in the audit trail,
/// and publishes `tenant.activated` (so the auth service invites the owner).
pub(crate) async fn open_shop(
    tx: &sea_orm::DatabaseTransaction,
    shop: NewShop,
    plan: &crate::store::entities::plans::Model,
    actor: &str,
    action: &str,
    details: serde_json::Value,
) -> Result<crate::store::entities::tenants::Model, caravan_shared::ApiError> {
    use sea_orm::ActiveValue::Set;
    let opened = crate::store::insert_tenant(
        tx,
        crate::store::entities::tenants::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            slug: Set(shop.slug),
            name: Set(shop.name),
            status: Set(crate::domain::ShopStatus::Active.as_str().to_owned()),
            plan: Set(plan.code.clone()),
            region: Set(shop.region),
            owner_email: Set(shop.owner_email.clone()),
            contact_email: Set(Some(shop.owner_email)),
            contact_phone: Set(shop.phone),
            names: Set(shop.names),
            ..Default::default()
        },
    )
    .await
    .map_err(|error| {
        if crate::store::is_duplicate(&error) {
            caravan_shared::ApiError::conflict(ErrorCode::SlugTaken, "the slug is taken")
                .with_field("slug", "is taken")
        } else {
            error.into()
        }
    })?;
    crate::store::audit(tx, Some(opened.id), actor, action, None, details).await?;
    crate::events::publish(
        tx,
        "tenant.activated",
        &opened,
        plan,
        serde_json::json!({"owner_email": opened.owner_email, "owner_name": shop.owner_name}),
    )
    .await?;
    Ok(opened)
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
