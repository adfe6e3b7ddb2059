//! A product's variants through their own calls: adding one and changing one. Each
//! refreshes the product's lowest price and records `product.updated`.

use super::products::{insert_variant, load, not_found, variant_values};
use crate::domain::{VariantChange, VariantInput, check_variant, limits};
use crate::events;
use crate::store::{self, VariantRow};
use crate::views::ProductView;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::{ApiError, FieldError, TenantId};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

/// Adds a variant to a product. Its SKU must be free in the shop; its first stock is
/// recorded in the ledger as `initial`. Answers the product with its new variant.
#[tracing::instrument(
    skip_all,
    fields(tenant = %tenant, id = %product, variant = tracing::field::Empty)
)]
pub(crate) async fn add(
    db: &DatabaseConnection,
    tenant: TenantId,
    actor: &str,
    product: Uuid,
    variant: VariantInput,
) -> Result<ProductView, ApiError> {
    let mut errors = Vec::new();
    check_variant(&variant, "variant", &mut errors);
    if !errors.is_empty() {
        return Err(refusal(errors));
    }
    let tx = TenantTx::begin(db, tenant).await?;
    // The product's row is locked so two additions take two positions.
    store::lock_product(&tx, product)
        .await?
        .ok_or_else(not_found)?;
    let count = store::variants_of(&tx, &[product]).await?.len();
    if count >= limits::MAX_VARIANTS {
        return Err(ApiError::invalid_field(
            "sku",
            format!("a product has at most {} variants", limits::MAX_VARIANTS),
        ));
    }
    let id = insert_variant(&tx, product, &variant, count, actor).await?;
    tracing::Span::current().record("variant", tracing::field::display(id));
    store::refresh_min_price(&tx, product).await?;
    let view = load(&tx, product).await?;
    events::product(&tx, "product.updated", product, &view.handle, view.status).await?;
    tx.commit().await?;
    Ok(view)
}

/// Changes a variant's name, options, unit, weight, prices or threshold; the variant
/// as changed is checked as a whole. Answers the product after the change.
#[tracing::instrument(skip_all, fields(tenant = %tenant, id = %product, variant = %variant))]
pub(crate) async fn update(
    db: &DatabaseConnection,
    tenant: TenantId,
    product: Uuid,
    variant: Uuid,
    change: VariantChange,
) -> Result<ProductView, ApiError> {
    let tx = TenantTx::begin(db, tenant).await?;
    let current = store::variant(&tx, variant)
        .await?
        .filter(|row| row.product_id == product)
        .ok_or_else(|| ApiError::not_found("no such variant"))?;
    let changed = change.apply(as_written(current));
    let mut errors = Vec::new();
    check_variant(&changed, "variant", &mut errors);
    if !errors.is_empty() {
        return Err(refusal(errors));
    }
    store::update_variant(&tx, variant, &variant_values(&changed, 0)).await?;
    store::refresh_min_price(&tx, product).await?;
    let view = load(&tx, product).await?;
    events::product(&tx, "product.updated", product, &view.handle, view.status).await?;
    tx.commit().await?;
    Ok(view)
}

/// A stored variant as staff would write it, for a change to apply to.
fn as_written(row: VariantRow) -> VariantInput {
    VariantInput {
        sku: row.sku,
        title: serde_json::from_value(row.title).ok(),
        options: match row.options {
            serde_json::Value::Object(options) => options,
            _ => serde_json::Map::new(),
        },
        unit: row.unit,
        weight_grams: row.weight_grams,
        prices: row.prices.0,
        compare_at_price: row.compare_at_price.map(|price| price.0),
        track_stock: row.track_stock,
        stock: row.on_hand,
        low_stock_threshold: row.low_stock_threshold,
    }
}

/// A variant's own route names its fields without the `variant.` the check puts
/// before them.
fn refusal(errors: Vec<FieldError>) -> ApiError {
    ApiError::invalid_fields(
        errors
            .into_iter()
            .map(|e| FieldError::new(e.field.trim_start_matches("variant."), e.message))
            .collect(),
    )
}
