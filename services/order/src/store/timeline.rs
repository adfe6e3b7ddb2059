//! An order's timeline.

use super::tenant_of;
use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// An entry of an order's timeline.
#[derive(Debug, Clone, FromQueryResult)]
pub struct TimelineRow {
    pub id: Uuid,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Notes who did what to an order.
pub async fn note(
    scope: &impl TenantScoped,
    order: Uuid,
    actor: &str,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO order_timeline (id, tenant_id, order_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Uuid::now_v7().into(),
                tenant_of(scope),
                order.into(),
                actor.into(),
                action.into(),
                detail.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// An order's timeline, oldest first.
pub async fn timeline(scope: &impl TenantScoped, order: Uuid) -> Result<Vec<TimelineRow>, DbErr> {
    TimelineRow::find_by_statement(statement(
        "SELECT id, actor, action, detail, created_at FROM order_timeline WHERE tenant_id = $1 AND order_id = $2 ORDER BY id",
        vec![tenant_of(scope), order.into()],
    ))
    .all(scope.conn())
    .await
}
