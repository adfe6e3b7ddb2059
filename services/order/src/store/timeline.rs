//! An order's timeline.

use super::entities::order_timeline;
use super::tenant_of;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// An entry of an order's timeline.
pub type TimelineRow = order_timeline::Model;

/// Notes who did what to an order.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order, action = action))]
pub async fn note(
    scope: &impl TenantScoped,
    order: Uuid,
    actor: &str,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), DbErr> {
    order_timeline::Entity::insert(order_timeline::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_of(scope)),
        order_id: Set(order),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        detail: Set(detail),
        ..Default::default()
    })
    .exec_without_returning(scope.conn())
    .await?;
    Ok(())
}

/// An order's timeline, oldest first.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn timeline(scope: &impl TenantScoped, order: Uuid) -> Result<Vec<TimelineRow>, DbErr> {
    order_timeline::Entity::find()
        .filter(order_timeline::Column::TenantId.eq(tenant_of(scope)))
        .filter(order_timeline::Column::OrderId.eq(order))
        .order_by_asc(order_timeline::Column::Id)
        .all(scope.conn())
        .await
}
