//! What the order service publishes — `order.created`, `order.paid`,
//! `order.fulfilled`, `order.delivered`, `order.cancelled`, `order.expired` and
//! `order.refunded`, each with the order's lines and totals — and what it consumes:
//! the tenant service's events, for the shops' status and quotas and for the facts
//! its emails and checkout need (name, contact, currencies, languages).

use crate::store::{self, OrderLineRow, OrderRow, ShopFacts};
use crate::views::money;
use caravan_shared::TenantId;
use caravan_shared::events::Envelope;
use caravan_shared::events::consumer::EventHandler;
use caravan_shared::events::outbox;
use caravan_shared::tenancy::{TenantScope, TenantScoped};
use sea_orm::{DatabaseTransaction, DbErr};
use serde_json::{Value, json};

/// Records `event_type` for `order` as it now stands, with `extra` facts.
pub async fn publish(
    scope: &impl TenantScoped,
    event_type: &str,
    order: &OrderRow,
    lines: &[OrderLineRow],
    extra: Value,
) -> Result<(), DbErr> {
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
    outbox::append(scope.conn(), event_type, Some(scope.tenant()), &data).await?;
    Ok(())
}

/// Keeps the shops' facts from the tenant service's events.
pub struct ShopFactsHandler;

#[async_trait::async_trait]
impl EventHandler for ShopFactsHandler {
    async fn handle(&self, tx: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let Some(tenant) = event.tenant_id else {
            return Ok(());
        };
        if !event.event_type.starts_with("tenant.") {
            return Ok(());
        }
        let facts: ShopFacts = serde_json::from_value(event.data.clone())?;
        // The shop's row, written in the shop's own scope.
        let scope = TenantScope::enter(tx, TenantId::from(tenant)).await?;
        store::record_shop(scope.conn(), tenant, &facts).await?;
        Ok(())
    }
}
