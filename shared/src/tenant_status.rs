//! Every service's replica of the shops' status and plan quotas, fed by the tenant
//! service's events, and the guard that makes a service refuse a suspended or closed
//! shop's requests.
//!
//! Events (data): `tenant.activated`, `tenant.updated`, `tenant.suspended`,
//! `tenant.reinstated`, `tenant.closed`, `tenant.plan_changed`, each
//! `{slug, status?, plan?, quotas?: {max_products, max_staff, max_orders_per_month},
//! name?, owner_email?, contact_email?, base_currency?, currencies?, default_locale?,
//! locales?}`. This is each service's one replica of the shops: a service keeps no
//! table of shops of its own.

use crate::db::SqlMigration;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::events::Envelope;
use crate::events::consumer::EventHandler;
use crate::tenancy::{TenantId, TenantScope, TenantScoped, TenantTx};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The replica table; every service lists it.
pub const TENANT_STATUS_MIGRATION: SqlMigration = SqlMigration {
    name: "m0000_caravan_tenant_status",
    sql: include_str!("../migrations/0003_tenant_status.sql"),
};

/// The shops' names, contacts, currencies and languages in the replica; every service
/// lists it after [`TENANT_STATUS_MIGRATION`] and the row-level security migration.
pub const SHOP_PROFILE_MIGRATION: SqlMigration = SqlMigration {
    name: "m0000_caravan_shop_profile",
    sql: include_str!("../migrations/0005_shop_profile.sql"),
};

/// Announces every change of the replica at commit on [`SHOP_CHANGES`], for the
/// directory of shops ([`crate::shops`]); every service lists it after
/// [`SHOP_PROFILE_MIGRATION`].
pub const SHOP_CHANGES_MIGRATION: SqlMigration = SqlMigration {
    name: "m0000_caravan_shop_changes",
    sql: include_str!("../migrations/0006_shop_changes.sql"),
};

/// The `NOTIFY` channel of the replica's changes: each payload a [`ShopChange`], or
/// [`crate::cache::EVERYTHING`].
pub const SHOP_CHANGES: &str = "caravan_shops";

/// A shop whose replica row changed, as [`SHOP_CHANGES`] announces it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShopChange {
    /// Its id.
    pub tenant: Uuid,
    /// Its slug (before the change, in one announcement, and after it, in another).
    pub slug: String,
}

impl ShopChange {
    /// The change a payload announces; `None` for [`crate::cache::EVERYTHING`] or a
    /// payload this version does not read (both mean: every shop may have changed).
    pub fn parse(payload: &str) -> Option<Self> {
        serde_json::from_str(payload).ok()
    }
}

/// A plan's limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quotas {
    /// Products in the catalog.
    pub max_products: Option<i32>,
    /// Staff accounts.
    pub max_staff: Option<i32>,
    /// Orders per calendar month.
    pub max_orders_per_month: Option<i32>,
}

/// A shop as other services know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopState {
    /// Its id.
    pub tenant: TenantId,
    /// Its slug.
    pub slug: String,
    /// `active`, `suspended` or `closed`.
    pub status: String,
    /// Its plan.
    pub plan: String,
    /// The plan's limits.
    pub quotas: Quotas,
    /// Its name, contacts, currencies and languages.
    pub profile: ShopProfile,
}

/// What a shop says of itself, as its events carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopProfile {
    /// Its name in its own language (empty until the first event that names it).
    pub name: String,
    /// The owner's email address.
    pub owner_email: Option<String>,
    /// The address the shop is written to at.
    pub contact_email: Option<String>,
    /// The currency prices are set in.
    pub base_currency: String,
    /// The currencies buyers may pay in.
    pub currencies: Vec<String>,
    /// The shop's own language.
    pub default_locale: String,
    /// The languages the storefront speaks.
    pub locales: Vec<String>,
}

impl ShopProfile {
    /// The name buyers know the shop by: its name, or its slug before it has one.
    pub fn display_name<'a>(&'a self, slug: &'a str) -> &'a str {
        if self.name.is_empty() {
            slug
        } else {
            &self.name
        }
    }
}

impl ShopState {
    /// Whether the shop may be served.
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

#[derive(Debug, Default, Deserialize)]
struct Facts {
    slug: String,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    quotas: Option<Quotas>,
    #[serde(flatten)]
    profile: ProfileFacts,
}

/// A shop's profile as an event carries it; what is absent stays as it was.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileFacts {
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// The owner's email address.
    #[serde(default)]
    pub owner_email: Option<String>,
    /// The address the shop is written to at.
    #[serde(default)]
    pub contact_email: Option<String>,
    /// The currency prices are set in.
    #[serde(default)]
    pub base_currency: Option<String>,
    /// The currencies buyers may pay in.
    #[serde(default)]
    pub currencies: Option<Vec<String>>,
    /// The shop's own language.
    #[serde(default)]
    pub default_locale: Option<String>,
    /// The languages the storefront speaks.
    #[serde(default)]
    pub locales: Option<Vec<String>>,
}

/// Writes a shop's state into the replica (the tenant service writes its own this way
/// too, in the transaction of the change). Row-level security admits the write on a
/// transaction scoped to `tenant` (or in platform scope) only.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    tenant: Uuid,
    slug: &str,
    status: Option<&str>,
    plan: Option<&str>,
    quotas: Option<Quotas>,
) -> Result<(), sea_orm::DbErr> {
    let quotas_given = quotas.is_some();
    let quotas = quotas.unwrap_or_default();
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO tenant_status (tenant_id, slug, status, plan, max_products, max_staff, max_orders_per_month) \
         VALUES ($1, $2, coalesce($3, 'active'), coalesce($4, 'free'), $5, $6, $7) \
         ON CONFLICT (tenant_id) DO UPDATE SET \
             slug = excluded.slug, \
             status = coalesce($3, tenant_status.status), \
             plan = coalesce($4, tenant_status.plan), \
             max_products = CASE WHEN $8 THEN excluded.max_products ELSE tenant_status.max_products END, \
             max_staff = CASE WHEN $8 THEN excluded.max_staff ELSE tenant_status.max_staff END, \
             max_orders_per_month = CASE WHEN $8 THEN excluded.max_orders_per_month ELSE tenant_status.max_orders_per_month END, \
             updated_at = now()",
        [
            tenant.into(),
            slug.into(),
            status.map(str::to_owned).into(),
            plan.map(str::to_owned).into(),
            quotas.max_products.into(),
            quotas.max_staff.into(),
            quotas.max_orders_per_month.into(),
            quotas_given.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Writes a shop's profile into its replica row (written by [`record`] first);
/// facts an event does not carry stay as they were. The contact address may be
/// cleared, but only by an event that carries the shop's settings (its currency).
pub async fn record_profile<C: ConnectionTrait>(
    conn: &C,
    tenant: Uuid,
    facts: &ProfileFacts,
) -> Result<(), sea_orm::DbErr> {
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE tenant_status SET \
             name = coalesce($2, name), \
             owner_email = coalesce($3, owner_email), \
             contact_email = CASE WHEN $5::text IS NULL THEN contact_email ELSE $4 END, \
             base_currency = coalesce($5, base_currency), \
             currencies = coalesce($6, currencies), \
             default_locale = coalesce($7, default_locale), \
             locales = coalesce($8, locales), \
             updated_at = now() \
         WHERE tenant_id = $1",
        [
            tenant.into(),
            facts.name.clone().into(),
            facts.owner_email.clone().into(),
            facts.contact_email.clone().into(),
            facts.base_currency.clone().into(),
            facts.currencies.clone().into(),
            facts.default_locale.clone().into(),
            facts.locales.clone().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Keeps the replica from the tenant service's events.
pub struct TenantStatusHandler;

#[async_trait::async_trait]
impl EventHandler for TenantStatusHandler {
    async fn handle(&self, tx: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let Some(tenant) = event.tenant_id else {
            return Ok(());
        };
        let status = match event.event_type.as_str() {
            "tenant.activated" | "tenant.reinstated" => Some("active"),
            "tenant.suspended" => Some("suspended"),
            "tenant.closed" => Some("closed"),
            "tenant.updated" | "tenant.plan_changed" => None,
            _ => return Ok(()),
        };
        let facts: Facts = serde_json::from_value(event.data.clone())?;
        // The shop's row, written in the shop's own scope.
        let scope = TenantScope::enter(tx, TenantId::from(tenant)).await?;
        record(
            scope.conn(),
            tenant,
            &facts.slug,
            status,
            facts.plan.as_deref(),
            facts.quotas,
        )
        .await?;
        record_profile(scope.conn(), tenant, &facts.profile).await?;
        Ok(())
    }
}

fn state_of(row: &sea_orm::QueryResult) -> Result<ShopState, sea_orm::DbErr> {
    Ok(ShopState {
        tenant: TenantId::from(row.try_get::<Uuid>("", "tenant_id")?),
        slug: row.try_get("", "slug")?,
        status: row.try_get("", "status")?,
        plan: row.try_get("", "plan")?,
        quotas: Quotas {
            max_products: row.try_get("", "max_products")?,
            max_staff: row.try_get("", "max_staff")?,
            max_orders_per_month: row.try_get("", "max_orders_per_month")?,
        },
        profile: ShopProfile {
            name: row.try_get("", "name")?,
            owner_email: row.try_get("", "owner_email")?,
            contact_email: row.try_get("", "contact_email")?,
            base_currency: row.try_get("", "base_currency")?,
            currencies: row.try_get("", "currencies")?,
            default_locale: row.try_get("", "default_locale")?,
            locales: row.try_get("", "locales")?,
        },
    })
}

const COLUMNS: &str = "tenant_id, slug, status, plan, max_products, max_staff, max_orders_per_month, \
    name, owner_email, contact_email, base_currency, currencies, default_locale, locales";

/// A shop by id, if known here and visible to `conn`: a transaction scoped to
/// `tenant` (elsewhere row-level security hides the row, and the shop reads as
/// unknown).
pub async fn shop<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
) -> Result<Option<ShopState>, sea_orm::DbErr> {
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT {COLUMNS} FROM tenant_status WHERE tenant_id = $1"),
            [tenant.into_uuid().into()],
        ))
        .await?;
    row.as_ref().map(state_of).transpose()
}

/// A shop by slug, if known here and visible to `conn` (see [`storefront`], which
/// names the slug to row-level security).
pub async fn shop_by_slug<C: ConnectionTrait>(
    conn: &C,
    slug: &str,
) -> Result<Option<ShopState>, sea_orm::DbErr> {
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT {COLUMNS} FROM tenant_status WHERE slug = $1"),
            [slug.into()],
        ))
        .await?;
    row.as_ref().map(state_of).transpose()
}

/// Where shops are looked up: the database itself ([`DatabaseConnection`]), or the
/// service's directory of shops ([`crate::shops::Shops`]), which holds them in
/// memory and reads the database the same way on a miss.
pub trait ShopLookup {
    /// A shop by id, read in its own scope: `None` when this service has not heard
    /// of it.
    fn by_tenant(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Option<ShopState>, sea_orm::DbErr>> + Send;
    /// A shop by slug, whatever its status, read through [`named`].
    fn by_slug(
        &self,
        slug: &str,
    ) -> impl Future<Output = Result<Option<ShopState>, sea_orm::DbErr>> + Send;
}

impl ShopLookup for DatabaseConnection {
    async fn by_tenant(&self, tenant: TenantId) -> Result<Option<ShopState>, sea_orm::DbErr> {
        let tx = TenantTx::begin(self, tenant).await?;
        let state = shop(tx.conn(), tenant).await?;
        tx.commit().await?;
        Ok(state)
    }

    async fn by_slug(&self, slug: &str) -> Result<Option<ShopState>, sea_orm::DbErr> {
        let tx = self.begin().await?;
        let state = named(&tx, slug).await?;
        tx.commit().await?;
        Ok(state)
    }
}

/// A shop by id (for callers that hold no transaction): `None` when this service
/// has not heard of it.
pub async fn current(
    shops: &impl ShopLookup,
    tenant: TenantId,
) -> Result<Option<ShopState>, sea_orm::DbErr> {
    shops.by_tenant(tenant).await
}

/// A shop by slug, whatever its status, read in `tx` before any shop is known: the
/// lookup names the slug (`app.shop_slug`, for the rest of `tx`) and row-level
/// security shows that one row.
pub async fn named<C: ConnectionTrait>(
    tx: &C,
    slug: &str,
) -> Result<Option<ShopState>, sea_orm::DbErr> {
    tx.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.shop_slug', $1, true)",
        [slug.into()],
    ))
    .await?;
    shop_by_slug(tx, slug).await
}

/// For staff and app requests: the caller's shop, refused with 403 `tenant_suspended`
/// while it is suspended or closed. A shop this service has not heard of yet is let
/// through (the tenant service is the authority on its existence).
pub async fn ensure_active(shops: &impl ShopLookup, tenant: TenantId) -> Result<(), ApiError> {
    match current(shops, tenant).await? {
        Some(state) if !state.is_active() => Err(ApiError::forbidden_because(
            ErrorCode::TenantSuspended,
            format!("this shop is {}", state.status),
        )),
        _ => Ok(()),
    }
}

/// For storefront requests: the active shop with this slug, or 404 (a suspended,
/// closed or unknown shop does not exist for buyers).
pub async fn storefront(shops: &impl ShopLookup, slug: &str) -> Result<ShopState, ApiError> {
    match shops.by_slug(slug).await? {
        Some(state) if state.is_active() => Ok(state),
        _ => Err(ApiError::not_found("no such shop")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announcement_names_the_shop_by_id_and_slug() {
        let change = ShopChange::parse(
            r#"{"tenant": "0190d8a4-0000-7000-8000-000000000001", "slug": "ningxia-goji"}"#,
        );
        assert_eq!(
            change.map(|change| change.slug),
            Some("ningxia-goji".to_owned())
        );
        assert_eq!(ShopChange::parse(crate::cache::EVERYTHING), None);
    }
}
