//! Read models for reports and exports.

use super::{StoredCurrency, tenant_of};
use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::{DbErr, FromQueryResult};
use uuid::Uuid;

/// Sales of one currency in a window.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SalesRow {
    pub currency: StoredCurrency,
    pub orders: i64,
    pub gross: i64,
    pub refunded: i64,
}

/// Orders placed in `[from, to)` that were paid (whatever happened after: shipped,
/// delivered, refunded, cancelled and refunded), per currency. An order is paid
/// once `paid_at` is set, which happens only as it moves to `paid`; orders
/// cancelled or expired before payment never have it.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), from = %from, to = %to))]
pub async fn sales(
    scope: &impl TenantScoped,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SalesRow>, DbErr> {
    SalesRow::find_by_statement(statement(
        "SELECT currency, count(*) AS orders, coalesce(sum(total), 0)::bigint AS gross, \
         coalesce(sum(refunded), 0)::bigint AS refunded FROM orders \
         WHERE tenant_id = $1 AND paid_at IS NOT NULL AND created_at >= $2 AND created_at < $3 \
         GROUP BY currency ORDER BY currency",
        vec![tenant_of(scope).into(), from.into(), to.into()],
    ))
    .all(scope.conn())
    .await
}

/// What needs the shop's attention now, and how many orders a window holds.
#[derive(Debug, Clone, FromQueryResult)]
pub struct WorkloadRow {
    /// Waiting for money now.
    pub awaiting_payment: i64,
    /// Paid, not called off, with units still to ship now.
    pub to_ship: i64,
    /// Placed in the window, whatever became of them.
    pub placed: i64,
}

/// The shop's current workload and the orders placed in `[from, to)`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), from = %from, to = %to))]
pub async fn workload(
    scope: &impl TenantScoped,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<WorkloadRow, DbErr> {
    // `to_ship` names the statuses from which the state machine allows a shipment;
    // a partially refunded order may have shipped everything already, hence the
    // look at its lines.
    WorkloadRow::find_by_statement(statement(
        "SELECT \
           count(*) FILTER (WHERE o.status = 'pending_payment') AS awaiting_payment, \
           count(*) FILTER (WHERE o.status IN ('paid', 'partially_fulfilled', 'partially_refunded') \
             AND EXISTS (SELECT 1 FROM order_lines l WHERE l.tenant_id = o.tenant_id \
               AND l.order_id = o.id AND l.fulfilled_quantity < l.quantity)) AS to_ship, \
           count(*) FILTER (WHERE o.created_at >= $2 AND o.created_at < $3) AS placed \
         FROM orders o WHERE o.tenant_id = $1",
        vec![tenant_of(scope).into(), from.into(), to.into()],
    ))
    .one(scope.conn())
    .await?
    .ok_or_else(|| DbErr::RecordNotFound("workload".into()))
}

/// A line as the export writes it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ExportLineRow {
    pub order_id: Uuid,
    pub sku: String,
    pub quantity: i32,
}

/// The lines of `orders`, each order's in its own order.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), orders = orders.len()))]
pub async fn lines_of(
    scope: &impl TenantScoped,
    orders: &[Uuid],
) -> Result<Vec<ExportLineRow>, DbErr> {
    ExportLineRow::find_by_statement(statement(
        "SELECT order_id, sku, quantity FROM order_lines WHERE tenant_id = $1 AND order_id = ANY($2) \
         ORDER BY order_id, position",
        vec![tenant_of(scope).into(), orders.to_vec().into()],
    ))
    .all(scope.conn())
    .await
}

/// A shipment as the export writes it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ExportShipmentRow {
    pub order_id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
}

/// The shipments of `orders`, oldest first.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), orders = orders.len()))]
pub async fn shipments_of(
    scope: &impl TenantScoped,
    orders: &[Uuid],
) -> Result<Vec<ExportShipmentRow>, DbErr> {
    ExportShipmentRow::find_by_statement(statement(
        "SELECT order_id, carrier, tracking_number FROM fulfillments WHERE tenant_id = $1 AND order_id = ANY($2) \
         ORDER BY order_id, created_at, id",
        vec![tenant_of(scope).into(), orders.to_vec().into()],
    ))
    .all(scope.conn())
    .await
}
