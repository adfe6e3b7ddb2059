//! What the catalog publishes: `product.created`, `product.updated`,
//! `product.archived`, `stock.changed` and `stock.low`. It consumes the tenant
//! service's events for the shops' status and quotas, and the order service's to
//! settle reservations: `order.paid` commits the order's held stock,
//! `order.cancelled` and `order.expired` release it, and a cancelled order that had
//! been paid (`restock: true`) has its units put back on hand.

use crate::domain::ProductStatus;
use crate::store::VariantRow;
use crate::store::reservations::{self, Settled};
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
    status: ProductStatus,
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

/// What an order event asks of the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settlement {
    /// `order.paid`: the held units are sold.
    Commit,
    /// `order.cancelled` or `order.expired`: the hold is let go.
    Release,
    /// `order.cancelled` of a paid order (`restock: true`): the units go back on hand.
    Restock,
}

impl Settlement {
    /// The settlement an event asks for; `None` for the order events the stock does
    /// not follow.
    fn of(event: &Envelope) -> Option<Self> {
        let restock = event.data["restock"].as_bool().unwrap_or(false);
        match event.event_type.as_str() {
            "order.paid" => Some(Self::Commit),
            "order.cancelled" if restock => Some(Self::Restock),
            "order.cancelled" | "order.expired" => Some(Self::Release),
            _ => None,
        }
    }
}

/// The shop and order a settling event names. An event missing either cannot be
/// settled: that is an error, so the consumer parks it for an operator instead of
/// moving past it as if it had been handled (the stock it holds would stay held).
fn settled_order(event: &Envelope) -> anyhow::Result<(TenantId, Uuid)> {
    let tenant = event.tenant_id.ok_or_else(|| {
        anyhow::anyhow!(
            "{} event {} names no tenant, so no reservation can be settled",
            event.event_type,
            event.id
        )
    })?;
    let order = event.data["order_id"]
        .as_str()
        .and_then(|raw| Uuid::parse_str(raw).ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{} event {} has no valid order_id (got {}), so no reservation can be settled",
                event.event_type,
                event.id,
                event
                    .data
                    .get("order_id")
                    .unwrap_or(&serde_json::Value::Null)
            )
        })?;
    Ok((TenantId::from(tenant), order))
}

#[async_trait::async_trait]
impl EventHandler for OrderStockHandler {
    async fn handle(&self, tx: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let Some(settlement) = Settlement::of(event) else {
            return Ok(());
        };
        let (tenant, order) = settled_order(event)?;
        let scope = TenantScope::enter(tx, tenant).await?;
        let actor = format!("order:{order}");
        let settled = match settlement {
            Settlement::Commit => reservations::commit(&scope, order, &actor).await?,
            Settlement::Restock => reservations::restock(&scope, order, &actor).await?,
            Settlement::Release => reservations::release(&scope, order, &actor).await?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn event(event_type: &str, tenant: Option<Uuid>, data: Value) -> Envelope {
        Envelope {
            id: Uuid::now_v7(),
            seq: 1,
            event_type: event_type.to_owned(),
            tenant_id: tenant,
            occurred_at: chrono::Utc::now(),
            data,
        }
    }

    #[test]
    fn each_order_event_asks_for_its_settlement() {
        let shop = Some(Uuid::now_v7());
        let of = |kind: &str, data: Value| Settlement::of(&event(kind, shop, data));
        assert_eq!(of("order.paid", json!({})), Some(Settlement::Commit));
        assert_eq!(of("order.expired", json!({})), Some(Settlement::Release));
        assert_eq!(
            of("order.cancelled", json!({"restock": false})),
            Some(Settlement::Release)
        );
        assert_eq!(
            of("order.cancelled", json!({"restock": true})),
            Some(Settlement::Restock)
        );
        assert_eq!(of("order.fulfilled", json!({})), None);
    }

    #[test]
    fn a_settling_event_without_its_order_or_shop_is_an_error_that_says_so() {
        let shop = Uuid::now_v7();
        let order = Uuid::now_v7();
        let good = event("order.paid", Some(shop), json!({"order_id": order}));
        let (tenant, named) = settled_order(&good).unwrap();
        assert_eq!((tenant.into_uuid(), named), (shop, order));

        for data in [
            json!({}),
            json!({"order_id": "ORD-17"}),
            json!({"order_id": 17}),
        ] {
            let error = settled_order(&event("order.paid", Some(shop), data.clone()))
                .unwrap_err()
                .to_string();
            assert!(error.contains("no valid order_id"), "{data}: {error}");
        }
        let error = settled_order(&event("order.paid", None, json!({"order_id": order})))
            .unwrap_err()
            .to_string();
        assert!(error.contains("names no tenant"), "{error}");
    }
}
