//! Every service's replica of the shops' status and plan quotas, fed by the tenant
//! service's events, and the guard that makes a service refuse a suspended or closed
//! shop's requests.
//!
//! Events (data): `tenant.activated`, `tenant.updated`, `tenant.suspended`,
//! `tenant.reinstated`, `tenant.closed`, `tenant.plan_changed`, each
//! `{slug, status?, plan?, quotas?: {max_products, max_staff, max_orders_per_month}}`.

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
}

impl ShopState {
    /// Whether the shop may be served.
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

#[derive(Debug, Deserialize)]
struct Facts {
    slug: String,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    quotas: Option<Quotas>,
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
    })
}

const COLUMNS: &str =
    "tenant_id, slug, status, plan, max_products, max_staff, max_orders_per_month";

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

/// For staff and app requests: the caller's shop, refused with 403 `tenant_suspended`
/// while it is suspended or closed. A shop this service has not heard of yet is let
/// through (the tenant service is the authority on its existence). Reads in a
/// transaction of the shop's own.
pub async fn ensure_active(db: &DatabaseConnection, tenant: TenantId) -> Result<(), ApiError> {
    let tx = TenantTx::begin(db, tenant).await?;
    let state = shop(tx.conn(), tenant).await?;
    tx.commit().await?;
    match state {
        Some(state) if !state.is_active() => Err(ApiError::forbidden_because(
            ErrorCode::TenantSuspended,
            format!("this shop is {}", state.status),
        )),
        _ => Ok(()),
    }
}

/// For storefront requests: the active shop with this slug, or 404 (a suspended,
/// closed or unknown shop does not exist for buyers). The shop is not known before
/// this, so the lookup names the slug (`app.shop_slug`) and row-level security shows
/// that one row.
pub async fn storefront(db: &DatabaseConnection, slug: &str) -> Result<ShopState, ApiError> {
    let tx = db.begin().await?;
    tx.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.shop_slug', $1, true)",
        [slug.into()],
    ))
    .await?;
    let state = shop_by_slug(&tx, slug).await?;
    tx.commit().await?;
    match state {
        Some(state) if state.is_active() => Ok(state),
        _ => Err(ApiError::not_found("no such shop")),
    }
}
