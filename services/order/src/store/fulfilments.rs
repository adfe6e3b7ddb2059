//! Shipments.

use super::tenant_of;
use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// A shipment.
#[derive(Debug, Clone, FromQueryResult)]
pub struct FulfillmentRow {
    pub id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
    pub lines: serde_json::Value,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// Records a shipment.
pub async fn insert_fulfillment(
    scope: &impl TenantScoped,
    order: Uuid,
    carrier: &str,
    tracking_number: &str,
    lines: &serde_json::Value,
    actor: &str,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO fulfillments (id, tenant_id, order_id, carrier, tracking_number, lines, actor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                id.into(),
                tenant_of(scope),
                order.into(),
                carrier.into(),
                tracking_number.into(),
                lines.clone().into(),
                actor.into(),
            ],
        ))
        .await?;
    Ok(id)
}

/// An order's shipments, oldest first.
pub async fn fulfillments(
    scope: &impl TenantScoped,
    order: Uuid,
) -> Result<Vec<FulfillmentRow>, DbErr> {
    FulfillmentRow::find_by_statement(statement(
        "SELECT id, carrier, tracking_number, lines, actor, created_at FROM fulfillments \
         WHERE tenant_id = $1 AND order_id = $2 ORDER BY created_at, id",
        vec![tenant_of(scope), order.into()],
    ))
    .all(scope.conn())
    .await
}
