//! The order service's replica of each shop's facts (from the tenant service).

use caravan_shared::TenantId;
use caravan_shared::db::statement;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// What the order service knows of a shop.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ShopRow {
    pub tenant_id: Uuid,
    pub slug: String,
    pub name: String,
    pub owner_email: Option<String>,
    pub contact_email: Option<String>,
    pub base_currency: String,
    pub currencies: Vec<String>,
    pub default_locale: String,
    pub locales: Vec<String>,
}

/// Facts about a shop from a tenant event; absent ones are kept as they were.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ShopFacts {
    pub slug: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub owner_email: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
    #[serde(default)]
    pub base_currency: Option<String>,
    #[serde(default)]
    pub currencies: Option<Vec<String>>,
    #[serde(default)]
    pub default_locale: Option<String>,
    #[serde(default)]
    pub locales: Option<Vec<String>>,
}

/// Records a shop's facts, on a transaction scoped to the shop (row-level security
/// admits no other).
pub async fn record_shop<C: ConnectionTrait>(
    conn: &C,
    tenant: Uuid,
    facts: &ShopFacts,
) -> Result<(), DbErr> {
    conn.execute_raw(statement(
        "INSERT INTO shops (tenant_id, slug, name, owner_email, contact_email, base_currency, currencies, default_locale, locales) \
         VALUES ($1, $2, coalesce($3, ''), $4, $5, coalesce($6, 'CNY'), coalesce($7, '{CNY}'), coalesce($8, 'zh-CN'), coalesce($9, '{zh-CN}')) \
         ON CONFLICT (tenant_id) DO UPDATE SET slug = excluded.slug, \
             name = coalesce($3, shops.name), owner_email = coalesce($4, shops.owner_email), \
             contact_email = CASE WHEN $10 THEN $5 ELSE shops.contact_email END, \
             base_currency = coalesce($6, shops.base_currency), currencies = coalesce($7, shops.currencies), \
             default_locale = coalesce($8, shops.default_locale), locales = coalesce($9, shops.locales), \
             updated_at = now()",
        vec![
            tenant.into(),
            facts.slug.clone().into(),
            facts.name.clone().into(),
            facts.owner_email.clone().into(),
            facts.contact_email.clone().into(),
            facts.base_currency.clone().into(),
            facts.currencies.clone().into(),
            facts.default_locale.clone().into(),
            facts.locales.clone().into(),
            // Only events that carry the settings may clear the contact address.
            facts.base_currency.is_some().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// A shop's facts, if known and visible to `conn`: a transaction scoped to `tenant`
/// (elsewhere row-level security hides them, and the shop reads as unknown).
pub async fn shop<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
) -> Result<Option<ShopRow>, DbErr> {
    ShopRow::find_by_statement(statement(
        "SELECT tenant_id, slug, name, owner_email, contact_email, base_currency, currencies, default_locale, locales \
         FROM shops WHERE tenant_id = $1",
        vec![tenant.into_uuid().into()],
    ))
    .one(conn)
    .await
}
