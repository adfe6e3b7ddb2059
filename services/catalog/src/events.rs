//! What the catalog publishes: `product.created`, `product.updated`,
//! `product.archived`, `stock.changed` and `stock.low`. It consumes the tenant
//! service's events for the shops' status and quotas, and the order service's to
//! settle reservations: `order.paid` commits the order's held stock,
//! `order.cancelled` and `order.expired` release it, and a cancelled order that had
//! been paid (`restock: true`) has its units put back on hand.

use crate::reservations::{self, Settled};
use crate::store::VariantRow;
use caravan_shared::TenantId;
use caravan_shared::events::Envelope;
use caravan_shared::events::consumer::EventHandler;
use caravan_shared::events::outbox;
use caravan_shared::tenancy::{TenantScope, TenantScoped};
use sea_orm::{DatabaseTransaction, DbErr};
use serde_json::json;
use uuid::Uuid;

/// Records a product event.
pub async fn product(
    scope: &impl TenantScoped,
    event: &str,
    id: Uuid,
    handle: &str,
    status: &str,
) -> Result<(), DbErr> {
    outbox::append(
        scope.conn(),
        event,
        Some(scope.tenant()),
        &json!({"product_id": id, "handle": handle, "status": status}),
    )
    .await?;
    Ok(())
}

/// Records a change of stock, and `stock.low` when availability fell under the
/// variant's threshold.
pub async fn stock(
    scope: &impl TenantScoped,
    variant: &VariantRow,
    before_available: Option<i32>,
) -> Result<(), DbErr> {
    let available = variant.available();
    let data = json!({
        "variant_id": variant.id, "product_id": variant.product_id, "sku": variant.sku,
        "on_hand": variant.on_hand, "reserved": variant.reserved, "available": available,
    });
    outbox::append(scope.conn(), "stock.changed", Some(scope.tenant()), &data).await?;
    let crossed = before_available.is_none_or(|before| before >= variant.low_stock_threshold);
    if variant.track_stock && available < variant.low_stock_threshold && crossed {
        outbox::append(
            scope.conn(),
            "stock.low",
            Some(scope.tenant()),
            &json!({"variant_id": variant.id, "sku": variant.sku, "available": available, "threshold": variant.low_stock_threshold}),
        )
        .await?;
    }
    Ok(())
}

/// Settles reservations as orders are paid, cancelled or expire.
pub struct OrderStockHandler;

#[async_trait::async_trait]
impl EventHandler for OrderStockHandler {
    async fn handle(&self, tx: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let Some(tenant) = event.tenant_id else {
            return Ok(());
        };
        let Some(order) = event.data["order_id"]
            .as_str()
            .and_then(|raw| Uuid::parse_str(raw).ok())
        else {
            return Ok(());
        };
        let scope = TenantScope::enter(tx, TenantId::from(tenant)).await?;
        let actor = format!("order:{order}");
        let restock = event.data["restock"].as_bool().unwrap_or(false);
        let settled = match event.event_type.as_str() {
            "order.paid" => reservations::commit(&scope, order, &actor).await?,
            "order.cancelled" if restock => reservations::restock(&scope, order, &actor).await?,
            "order.cancelled" | "order.expired" => {
                reservations::release(&scope, order, &actor).await?
            }
            _ => return Ok(()),
        };
        match settled {
            Settled::Done(changed) => {
                for variant in &changed {
                    stock(&scope, variant, None).await?;
                }
            }
            // Settled before (a repeat) or never reserved: nothing left to do.
            Settled::Unknown | Settled::Conflict(_) => {
                tracing::info!(%order, event = %event.event_type, "reservation already settled");
            }
        }
        Ok(())
    }
}
