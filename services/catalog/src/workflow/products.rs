//! Writing products: the staff's calls (create, change, archive, delete), and the
//! steps every way of creating or changing a product shares (the JSON calls and the
//! CSV import), from checked input to stored rows and events.

use crate::domain::{
    self, Image, ProductChange, ProductFields, ProductRequest, ProductStatus, VariantInput,
    changed_status, check_product, handle, requested_status,
};
use crate::events;
use crate::store::{self, Price, Prices, ProductRow, ProductValues, VariantValues};
use crate::views::{ImageView, MediaView, ProductView};
use caravan_shared::domain::LocalizedText;
use caravan_shared::tenancy::{TenantScoped, TenantTx};
use caravan_shared::{ApiError, ErrorCode, FieldError, TenantId, tenant_status};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

/// Creates a product with its variants, answering every invalid value at once. The
/// plan's product quota applies.
#[tracing::instrument(skip_all, fields(tenant = %tenant, id = tracing::field::Empty))]
pub(crate) async fn create(
    db: &DatabaseConnection,
    tenant: TenantId,
    actor: &str,
    request: ProductRequest,
) -> Result<ProductView, ApiError> {
    let mut errors = Vec::new();
    let handle = handle(&request.handle, "handle")
        .map_err(|e| errors.push(e))
        .ok();
    let status = requested_status(request.status.as_deref())
        .map_err(|e| errors.push(e))
        .ok();
    check_product(&request.fields(), &mut errors);
    let tx = TenantTx::begin(db, tenant).await?;
    check_categories(&tx, &request.category_ids, &mut errors).await?;
    let images = resolve_images(&tx, &request.images, &mut errors).await?;
    let Some((handle, status)) = handle.zip(status).filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid_fields(errors));
    };
    ensure_quota(&tx, 1).await?;
    let id = insert_full(&tx, handle, status, request, images, actor).await?;
    tracing::Span::current().record("id", tracing::field::display(id));
    let view = load(&tx, id).await?;
    tx.commit().await?;
    Ok(view)
}

/// One product with its variants and stock.
#[tracing::instrument(skip_all, fields(tenant = %tenant, id = %id))]
pub(crate) async fn view(
    db: &DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
) -> Result<ProductView, ApiError> {
    let tx = TenantTx::begin(db, tenant).await?;
    let view = load(&tx, id).await?;
    tx.commit().await?;
    Ok(view)
}

/// Changes a product's own fields and records `product.updated`.
#[tracing::instrument(skip_all, fields(tenant = %tenant, id = %id))]
pub(crate) async fn update(
    db: &DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
    change: ProductChange,
) -> Result<ProductView, ApiError> {
    let tx = TenantTx::begin(db, tenant).await?;
    let current = store::product(&tx, id).await?.ok_or_else(not_found)?;
    let mut errors = Vec::new();
    let images = match &change.images {
        Some(images) => Some(resolve_images(&tx, images, &mut errors).await?),
        None => None,
    };
    let values = changed_values(current, change, images, &mut errors);
    check_categories(&tx, &values.category_ids, &mut errors).await?;
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    store::update_product(&tx, id, &values)
        .await
        .map_err(conflict_on_duplicate)?;
    events::product(&tx, "product.updated", id, &values.handle, values.status).await?;
    let view = load(&tx, id).await?;
    tx.commit().await?;
    Ok(view)
}

/// Archives a product (off the storefront, kept for orders and history) and records
/// `product.archived`.
#[tracing::instrument(skip_all, fields(tenant = %tenant, id = %id))]
pub(crate) async fn archive(
    db: &DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
) -> Result<ProductView, ApiError> {
    let tx = TenantTx::begin(db, tenant).await?;
    if !store::set_status(&tx, id, ProductStatus::Archived).await? {
        return Err(not_found());
    }
    let view = load(&tx, id).await?;
    events::product(
        &tx,
        "product.archived",
        id,
        &view.handle,
        ProductStatus::Archived,
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// Deletes a draft that no order ever reserved; anything else is refused, to be
/// archived instead.
#[tracing::instrument(skip_all, fields(tenant = %tenant, id = %id))]
pub(crate) async fn remove(
    db: &DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
) -> Result<(), ApiError> {
    let tx = TenantTx::begin(db, tenant).await?;
    let product = store::product(&tx, id).await?.ok_or_else(not_found)?;
    if product.status != ProductStatus::Draft || store::has_orders(&tx, id).await? {
        return Err(ApiError::conflict(
            ErrorCode::NotDeletable,
            "only drafts without orders can be deleted; archive it instead",
        ));
    }
    store::delete_product(&tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// A product as answered: its row with its variants.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), id = %id))]
pub(super) async fn load(tx: &TenantTx, id: Uuid) -> Result<ProductView, ApiError> {
    let row = store::product(tx, id).await?.ok_or_else(not_found)?;
    let variants = store::variants_of(tx, &[id]).await?;
    Ok(ProductView::new(row, &variants))
}

/// The answer when the shop has no such product.
pub(super) fn not_found() -> ApiError {
    ApiError::not_found("no such product")
}

/// Refuses category ids the shop does not have.
async fn check_categories(
    tx: &TenantTx,
    ids: &[Uuid],
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    if !ids.is_empty() && store::known_categories(tx, ids).await? != ids.len() as i64 {
        errors.push(FieldError::new(
            "category_ids",
            "names a category this shop does not have",
        ));
    }
    Ok(())
}

/// The stored form of checked images: URL images as written, uploads with their
/// size and renditions (so every reader of a product sees a `url`). An upload the
/// shop does not have — unknown, or another shop's — is refused with the same
/// answer either way, so no shop can probe another's ids.
async fn resolve_images(
    tx: &impl TenantScoped,
    images: &[Image],
    errors: &mut Vec<FieldError>,
) -> Result<serde_json::Value, ApiError> {
    let ids: Vec<Uuid> = images
        .iter()
        .filter(|image| image.url.is_none())
        .filter_map(|image| image.media_id)
        .collect();
    let uploads = if ids.is_empty() {
        Vec::new()
    } else {
        store::media(tx, &ids).await?
    };
    let tenant = tx.tenant().into_uuid();
    let mut stored = Vec::with_capacity(images.len());
    for (index, image) in images.iter().enumerate() {
        match (image.url.is_none(), image.media_id) {
            (true, Some(media_id)) => match uploads.iter().find(|upload| upload.id == media_id) {
                Some(upload) => {
                    let media = MediaView::new(tenant, upload).map_err(ApiError::internal)?;
                    stored.push(
                        serde_json::to_value(ImageView::of_media(media, image.alt.clone()))
                            .unwrap_or_default(),
                    );
                }
                None => errors.push(FieldError::new(
                    format!("images[{index}].media_id"),
                    "no such upload",
                )),
            },
            _ => stored.push(serde_json::to_value(image).unwrap_or_default()),
        }
    }
    Ok(serde_json::Value::Array(stored))
}

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
/// Under a limit, the shop's additions take turns until their transactions end, so
/// that each counts the products the one before it added.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant()))]
pub(crate) async fn ensure_quota(tx: &TenantTx, adding: i64) -> Result<(), ApiError> {
    let quota = tenant_status::shop(tx.conn(), tx.tenant())
        .await?
        .and_then(|shop| shop.quotas.max_products);
    let Some(max) = quota else {
        return Ok(());
    };
    caravan_shared::db::take_turn(
        tx.conn(),
        &format!("catalog:adding_products:{}", tx.tenant()),
    )
    .await?;
    if store::counted_products(tx).await? + adding > i64::from(max) {
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
        search_text: domain::search_text(
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

/// The stored form of a product after `change`: what it names over what the product
/// keeps, `images` already in their stored form. Its problems go to `errors`.
fn changed_values(
    current: ProductRow,
    change: ProductChange,
    images: Option<serde_json::Value>,
    errors: &mut Vec<FieldError>,
) -> ProductValues {
    let handle = match change.handle {
        Some(raw) => handle(&raw, "handle")
            .map_err(|e| errors.push(e))
            .unwrap_or(current.handle.clone()),
        None => current.handle.clone(),
    };
    let status = changed_status(current.status, change.status.as_deref()).unwrap_or_else(|e| {
        errors.push(e);
        current.status
    });
    let images = images.unwrap_or(current.images);
    let harvest_months = change.harvest_months.unwrap_or(current.harvest_months);
    let shelf_life_days = change.shelf_life_days.or(current.shelf_life_days);
    let storage = change.storage.or(current.storage);
    // What the change writes is checked; what it keeps was checked when written.
    check_product(
        &ProductFields {
            title: change.title.as_ref(),
            description: change.description.as_ref(),
            tags: change.tags.as_deref(),
            producer: change.producer.as_deref(),
            origin: change.origin.as_ref(),
            certifications: change.certifications.as_deref(),
            images: change.images.as_deref(),
            category_ids: change.category_ids.as_deref(),
            harvest_months: Some(&harvest_months),
            shelf_life_days,
            storage: storage.as_deref(),
            variants: None,
        },
        errors,
    );
    let title: Option<LocalizedText> = change
        .title
        .or_else(|| serde_json::from_value(current.title.clone()).ok());
    let description: Option<LocalizedText> = change
        .description
        .or_else(|| serde_json::from_value(current.description).ok());
    let tags = change.tags.unwrap_or(current.tags);
    let producer = change.producer.or(current.producer);
    ProductValues {
        search_text: domain::search_text(
            &handle,
            title.as_ref(),
            description.as_ref(),
            &tags,
            producer.as_deref(),
        ),
        handle,
        title: title.map_or(current.title, |t| {
            serde_json::to_value(t).unwrap_or_default()
        }),
        description: description.map_or_else(
            || serde_json::json!({}),
            |d| serde_json::to_value(d).unwrap_or_default(),
        ),
        status,
        category_ids: change.category_ids.unwrap_or(current.category_ids),
        tags,
        images,
        origin: change
            .origin
            .map(|o| serde_json::to_value(o).unwrap_or_default())
            .unwrap_or(current.origin),
        producer,
        harvest_months,
        shelf_life_days,
        storage,
        certifications: change.certifications.unwrap_or(current.certifications),
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
