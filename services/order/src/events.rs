//! What the order service publishes — `order.created`, `order.paid`,
//! `order.fulfilled`, `order.delivered`, `order.cancelled`, `order.expired` and
//! `order.refunded`, each with the order's lines and totals; `group.opened`,
//! `group.joined`, `group.formed` and `group.failed`, each with the group's places;
//! `order.preordered` when a pre-order's deposit (or all of it) is paid, and
//! `preorder.harvested` and `preorder.called_off` with the campaign's figures —
//! and what it consumes:
//! the tenant service's events, kept in the shared shop replica (status, quotas, and
//! the name, contact, currencies and languages its emails and checkout need).

use crate::store::{CampaignFigures, CampaignRow, GroupRow, OrderLineRow, OrderRow, Places};
use crate::views::money;
use caravan_shared::events::outbox;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::DbErr;
use serde_json::{Value, json};

/// Records `event_type` for `order` as it now stands, with `extra` facts; answers
/// the event's id.
pub async fn publish(
    scope: &impl TenantScoped,
    event_type: &str,
    order: &OrderRow,
    lines: &[OrderLineRow],
    extra: Value,
) -> Result<uuid::Uuid, DbErr> {
    let currency = order.currency;
    let mut data = json!({
        "order_id": order.id,
        "number": order.number,
        "name": format!("#{}", order.number),
        "status": order.status.as_str(),
        "currency": currency.0.as_str(),
        "subtotal": money(order.subtotal, currency),
        "shipping": money(order.shipping, currency),
        "total": money(order.total, currency),
        "paid": money(order.paid, currency),
        "refunded": money(order.refunded, currency),
        "lines": lines.iter().map(|line| json!({
            "line_id": line.id,
            "variant_id": line.variant_id,
            "product_id": line.product_id,
            "sku": line.sku,
            "quantity": line.quantity,
            "fulfilled_quantity": line.fulfilled_quantity,
            "unit_price": money(line.unit_price, currency),
            "line_total": money(line.line_total, currency),
        })).collect::<Vec<_>>(),
    });
    if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    outbox::append(scope.conn(), event_type, Some(scope.tenant()), &data).await
}

/// Records `event_type` for `group` as it now stands (its `places`), with `extra`
/// facts.
pub async fn publish_group(
    scope: &impl TenantScoped,
    event_type: &str,
    group: &GroupRow,
    places: Places,
    extra: Value,
) -> Result<uuid::Uuid, DbErr> {
    let mut data = json!({
        "group_id": group.id,
        "deal_id": group.deal_id,
        "status": group.status.as_str(),
        "group_size": group.group_size,
        "joined": places.joined,
        "held": places.held,
        "expires_at": group.expires_at,
        "formed_at": group.formed_at,
        "failed_at": group.failed_at,
    });
    if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    outbox::append(scope.conn(), event_type, Some(scope.tenant()), &data).await
}

/// Records `event_type` for `campaign` as it now stands (its `figures`), with
/// `extra` facts.
pub async fn publish_campaign(
    scope: &impl TenantScoped,
    event_type: &str,
    campaign: &CampaignRow,
    figures: CampaignFigures,
    extra: Value,
) -> Result<uuid::Uuid, DbErr> {
    let mut data = json!({
        "campaign_id": campaign.id,
        "variant_id": campaign.variant_id,
        "product_id": campaign.product_id,
        "status": campaign.status.as_str(),
        "allocation": campaign.allocation,
        "sold": figures.sold,
        "paid": figures.paid,
        "ships_from": campaign.ships_from,
        "balance_due_at": campaign.balance_due_at,
        "call_off_reason": campaign.call_off_reason,
    });
    if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    outbox::append(scope.conn(), event_type, Some(scope.tenant()), &data).await
}
