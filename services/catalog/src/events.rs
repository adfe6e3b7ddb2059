//! What the catalog publishes: `product.created`, `product.updated`,
//! `product.archived`, `stock.changed` and `stock.low`. It consumes the tenant
//! service's events for the shops' status and quotas.

use crate::store::VariantRow;
use caravan_shared::events::outbox;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::DbErr;
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
