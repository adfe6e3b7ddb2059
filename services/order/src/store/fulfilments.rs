//! Shipments.

use super::entities::fulfillments;
use super::tenant_of;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// A shipment.
pub type FulfillmentRow = fulfillments::Model;

/// Records a shipment.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn insert_fulfillment(
    scope: &impl TenantScoped,
    order: Uuid,
    carrier: &str,
    tracking_number: &str,
    lines: &serde_json::Value,
    actor: &str,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    fulfillments::Entity::insert(fulfillments::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_of(scope)),
        order_id: Set(order),
        carrier: Set(carrier.to_owned()),
        tracking_number: Set(tracking_number.to_owned()),
        lines: Set(lines.clone()),
        actor: Set(actor.to_owned()),
        ..Default::default()
    })
    .exec_without_returning(scope.conn())
    .await?;
    Ok(id)
}

/// An order's shipments, oldest first.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn fulfillments(
    scope: &impl TenantScoped,
    order: Uuid,
) -> Result<Vec<FulfillmentRow>, DbErr> {
    fulfillments::Entity::find()
        .filter(fulfillments::Column::TenantId.eq(tenant_of(scope)))
        .filter(fulfillments::Column::OrderId.eq(order))
        .order_by_asc(fulfillments::Column::CreatedAt)
        .order_by_asc(fulfillments::Column::Id)
        .all(scope.conn())
        .await
}
