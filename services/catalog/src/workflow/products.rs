//! Writing products: the steps every way of creating or changing a product shares
//! (the JSON calls and the CSV import), from checked input to stored rows and events.

use crate::domain::{ProductRequest, ProductStatus, VariantInput};
use crate::events;
use crate::store::{self, Price, Prices, ProductValues, VariantValues};
use caravan_shared::tenancy::{TenantScoped, TenantTx};
use caravan_shared::{ApiError, ErrorCode, tenant_status};
use uuid::Uuid;

/// Answers a unique-constraint violation of a handle or SKU as a conflict naming it.
pub(crate) fn conflict_on_duplicate(error: sea_orm::DbErr) -> ApiError {
    match caravan_shared::db::unique_violation(&error) {
        Some(message) if message.contains("sku") => ApiError::conflict(
            ErrorCode::SkuTaken,
            "a variant of the shop already has this SKU",
        )
        .with_field("variants", "SKU already used"),
        Some(_) => ApiError::conflict(
            ErrorCode::HandleTaken,
            "a product of the shop already has this handle",
        )
        .with_field("handle", "is taken"),
        None => error.into(),
    }
}

/// Refuses `adding` more products when the plan's `max_products` would be exceeded.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant()))]
pub(crate) async fn ensure_quota(tx: &TenantTx, adding: i64) -> Result<(), ApiError> {
    let quota = tenant_status::shop(tx.conn(), tx.tenant())
        .await?
        .and_then(|shop| shop.quotas.max_products);
    if let Some(max) = quota
        && store::counted_products(tx).await? + adding > i64::from(max)
    {
        return Err(ApiError::forbidden_because(
            ErrorCode::QuotaExceeded,
            format!(
                "the shop's plan allows {max} products (max_products); archive some or change the plan"
            ),
        ));
    }
    Ok(())
}

/// The stored form of a product's own fields.
pub(crate) fn product_values(
    handle: String,
    status: ProductStatus,
    body: &ProductRequest,
) -> ProductValues {
    ProductValues {
        search_text: crate::domain::search_text(
            &handle,
            Some(&body.title),
            body.description.as_ref(),
            &body.tags,
            body.producer.as_deref(),
        ),
        handle,
        title: serde_json::to_value(&body.title).unwrap_or_default(),
        description: body.description.as_ref().map_or_else(
            || serde_json::json!({}),
            |d| serde_json::to_value(d).unwrap_or_default(),
        ),
        status,
        category_ids: body.category_ids.clone(),
        tags: body.tags.clone(),
        images: serde_json::to_value(&body.images).unwrap_or_default(),
        origin: serde_json::to_value(body.origin.clone().unwrap_or_default()).unwrap_or_default(),
        producer: body.producer.clone(),
        harvest_months: body.harvest_months.clone(),
        shelf_life_days: body.shelf_life_days,
        storage: body.storage.clone(),
        certifications: body.certifications.clone(),
    }
}

/// Stores a checked product with its variants and records `product.created`;
/// `images` in their stored form (uploads resolved to their renditions).
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant()))]
pub(crate) async fn insert_full(
    tx: &impl TenantScoped,
    handle: String,
    status: ProductStatus,
    body: ProductRequest,
    images: serde_json::Value,
    actor: &str,
) -> Result<Uuid, ApiError> {
    let id = Uuid::now_v7();
    let mut values = product_values(handle, status, &body);
    values.images = images;
    store::insert_product(tx, id, &values)
        .await
        .map_err(conflict_on_duplicate)?;
    for (position, variant) in body.variants.iter().enumerate() {
        insert_variant(tx, id, variant, position, actor).await?;
    }
    store::refresh_min_price(tx, id).await?;
    events::product(tx, "product.created", id, &values.handle, values.status).await?;
    Ok(id)
}

/// Inserts a variant at `position`, its first stock recorded in the ledger as
/// `initial`.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), product = %product))]
pub(crate) async fn insert_variant(
    tx: &impl TenantScoped,
    product: Uuid,
    variant: &VariantInput,
    position: usize,
    actor: &str,
) -> Result<Uuid, ApiError> {
    let id = store::insert_variant(tx, product, &variant_values(variant, position))
        .await
        .map_err(conflict_on_duplicate)?;
    if variant.track_stock && variant.stock > 0 {
        store::record_movement(tx, id, variant.stock, variant.stock, "initial", None, actor)
            .await?;
    }
    Ok(id)
}

/// The stored form of a variant at `position`.
pub(crate) fn variant_values(variant: &VariantInput, position: usize) -> VariantValues {
    VariantValues {
        sku: variant.sku.trim().to_owned(),
        title: variant.title.as_ref().map_or_else(
            || serde_json::json!({}),
            |t| serde_json::to_value(t).unwrap_or_default(),
        ),
        options: serde_json::Value::Object(variant.options.clone()),
        unit: variant.unit.clone(),
        weight_grams: variant.weight_grams,
        prices: Prices(variant.prices.clone()),
        base_price: variant.prices.first().map_or(0, |price| price.amount),
        compare_at_price: variant.compare_at_price.map(Price),
        track_stock: variant.track_stock,
        on_hand: if variant.track_stock {
            variant.stock
        } else {
            0
        },
        low_stock_threshold: variant.low_stock_threshold,
        position: i32::try_from(position).unwrap_or(i32::MAX),
    }
}
