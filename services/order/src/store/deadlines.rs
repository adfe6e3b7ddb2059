//! When an order's held stock must be settled by.

use caravan_shared::TenantId;
use caravan_shared::db::statement;
use caravan_shared::tenancy::{PlatformScope, TenantTx};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};
use uuid::Uuid;

/// Records when `order`'s held stock must be settled by, in a transaction of the
/// shop's own on `db` (outside any transaction of the order, so it survives the
/// checkout failing).
#[tracing::instrument(skip_all, fields(tenant = %tenant, order = %order, due_at = %due_at))]
pub async fn set_deadline(
    db: &DatabaseConnection,
    tenant: TenantId,
    order: Uuid,
    due_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let tx = TenantTx::begin(db, tenant).await?;
    tx.conn()
        .execute_raw(statement(
            "INSERT INTO order_deadlines (order_id, tenant_id, due_at) VALUES ($1, $2, $3) \
             ON CONFLICT (order_id) DO UPDATE SET due_at = $3",
            vec![order.into(), tenant.into_uuid().into(), due_at.into()],
        ))
        .await?;
    tx.commit().await
}

/// Forgets an order's deadline in a transaction of the shop's own on `db` (the
/// checkout that set it failed before the order was written).
#[tracing::instrument(skip_all, fields(tenant = %tenant, order = %order))]
pub async fn forget_deadline(
    db: &DatabaseConnection,
    tenant: TenantId,
    order: Uuid,
) -> Result<(), DbErr> {
    let tx = TenantTx::begin(db, tenant).await?;
    clear_deadline(tx.conn(), order).await?;
    tx.commit().await
}

/// Forgets an order's deadline (it was paid, cancelled, expired or never placed), on
/// a transaction scoped to the order's shop.
#[tracing::instrument(skip_all, fields(order = %order))]
pub async fn clear_deadline<C: ConnectionTrait>(conn: &C, order: Uuid) -> Result<(), DbErr> {
    conn.execute_raw(statement(
        "DELETE FROM order_deadlines WHERE order_id = $1",
        vec![order.into()],
    ))
    .await?;
    Ok(())
}

/// A deadline that has passed.
#[derive(Debug, Clone, FromQueryResult)]
pub struct DueDeadline {
    pub order_id: Uuid,
    pub tenant_id: Uuid,
}

/// The next passed deadline of any shop that nobody else is working on, locked until
/// the transaction ends: a platform-scope query.
#[tracing::instrument(skip_all)]
pub async fn next_due(scope: &PlatformScope<'_>) -> Result<Option<DueDeadline>, DbErr> {
    DueDeadline::find_by_statement(statement(
        "SELECT order_id, tenant_id FROM order_deadlines WHERE due_at <= now() \
         ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        vec![],
    ))
    .one(scope.conn())
    .await
}
