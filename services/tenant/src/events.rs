//! What the tenant service publishes: the shops' lifecycle, for every other service.
//! Each change is written with its event and the shop's row in the status replica in
//! one transaction.

use crate::store::entities::{plans, tenants};
use caravan_shared::TenantId;
use caravan_shared::events::outbox;
use caravan_shared::tenant_status::{self, ProfileFacts, Quotas};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::{Value, json};

/// The plan's limits.
pub fn quotas(plan: &plans::Model) -> Quotas {
    Quotas {
        max_products: plan.max_products,
        max_staff: plan.max_staff,
        max_orders_per_month: plan.max_orders_per_month,
    }
}

/// Publishes `event_type` for `shop` with `extra` facts, and updates the replica.
pub async fn publish<C: ConnectionTrait>(
    conn: &C,
    event_type: &str,
    shop: &tenants::Model,
    plan: &plans::Model,
    extra: Value,
) -> Result<(), DbErr> {
    let mut data = json!({
        "slug": shop.slug,
        "name": shop.name,
        "names": shop.names,
        "status": shop.status,
        "plan": plan.code,
        "quotas": quotas(plan),
        "owner_email": shop.owner_email,
        "contact_email": shop.contact_email,
        "base_currency": shop.base_currency,
        "currencies": shop.currencies,
        "default_locale": shop.default_locale,
        "locales": shop.locales,
        "timezone": shop.timezone,
    });
    if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    outbox::append(conn, event_type, Some(TenantId::from(shop.id)), &data).await?;
    tenant_status::record(
        conn,
        shop.id,
        &shop.slug,
        Some(&shop.status),
        Some(&plan.code),
        Some(quotas(plan)),
    )
    .await?;
    tenant_status::record_profile(
        conn,
        shop.id,
        &ProfileFacts {
            name: Some(shop.name.clone()),
            owner_email: Some(shop.owner_email.clone()),
            contact_email: shop.contact_email.clone(),
            base_currency: Some(shop.base_currency.clone()),
            currencies: Some(shop.currencies.clone()),
            default_locale: Some(shop.default_locale.clone()),
            locales: Some(shop.locales.clone()),
        },
    )
    .await
}
