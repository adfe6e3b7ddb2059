//! Staff catalog management: products with their variants.

use super::CatalogState;
use crate::domain::limits;
use crate::domain::{
    self, Image, Origin, ProductFields, ProductRequest, ProductStatus, VariantInput, check_product,
    check_variant, handle, requested_status, storage_schema,
};
use crate::events;
use crate::schemas;
use crate::store::{self, ProductRow, ProductValues};
use crate::views::{ImageView, MediaView, ProductView};
use crate::workflow::products::{
    conflict_on_duplicate, ensure_quota, insert_full, insert_variant, variant_values,
};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use caravan_shared::ErrorCode;
use caravan_shared::domain::{LocalizedText, Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::{CatalogRead, CatalogWrite};
use caravan_shared::tenancy::TenantTx;
use caravan_shared::{ApiError, FieldError};
use serde::Deserialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub(crate) async fn check_categories(
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

/// Creates a product with its variants. The plan's product quota applies.
#[utoipa::path(
    tag = "products",
    security(("bearer" = ["catalog:write"])),
    request_body = ProductRequest,
    responses(
        (status = 201, description = "Created", body = ProductView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No catalog:write scope, the shop is suspended, or the plan's max_products is reached", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Handle or SKU taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/products")]
pub async fn create(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    body: Json<ProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    let handle = handle(&body.handle, "handle")
        .map_err(|e| errors.push(e))
        .ok();
    let status = requested_status(body.status.as_deref())
        .map_err(|e| errors.push(e))
        .ok();
    check_product(&body.fields(), &mut errors);
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    check_categories(&tx, &body.category_ids, &mut errors).await?;
    let images = resolve_images(&tx, &body.images, &mut errors).await?;
    let Some((handle, status)) = handle.zip(status).filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid_fields(errors));
    };
    ensure_quota(&tx, 1).await?;
    let actor = caller.principal.describe();
    let id = insert_full(&tx, handle, status, body, images, &actor).await?;
    let view = load(&tx, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(view))
}

/// The stored form of checked images: URL images as written, uploads with their
/// size and renditions (so every reader of a product sees a `url`). An upload the
/// shop does not have — unknown, or another shop's — is refused with the same
/// answer either way, so no shop can probe another's ids.
pub(crate) async fn resolve_images(
    tx: &impl caravan_shared::tenancy::TenantScoped,
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

/// A variant's own route names its fields without the `variant.` the check puts
/// before them.
fn variant_refusal(errors: Vec<FieldError>) -> ApiError {
    ApiError::invalid_fields(
        errors
            .into_iter()
            .map(|e| FieldError::new(e.field.trim_start_matches("variant."), e.message))
            .collect(),
    )
}

async fn load(tx: &TenantTx, id: Uuid) -> Result<ProductView, ApiError> {
    let row = store::product(tx, id).await?.ok_or_else(not_found)?;
    let variants = store::variants_of(tx, &[id]).await?;
    Ok(ProductView::new(row, &variants))
}

fn not_found() -> ApiError {
    ApiError::not_found("no such product")
}

/// Filters of the staff product list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// `draft`, `active` or `archived`.
    #[param(schema_with = status_filter_schema)]
    pub status: Option<String>,
    /// A category id.
    pub category: Option<Uuid>,
    /// A tag.
    #[param(pattern = r"^[^\x00]*$")]
    pub tag: Option<String>,
    /// Text in any title, description, tag, handle or producer.
    #[param(pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
    /// Page size: 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

fn status_filter_schema() -> ObjectBuilder {
    schemas::choice(
        "Only products in this status: `draft`, `active` or `archived`.",
        domain::STATUSES,
        false,
    )
}

/// The shop's products, newest first.
#[utoipa::path(
    tag = "products",
    security(("bearer" = ["catalog:read"])),
    params(ProductQuery),
    responses(
        (status = 200, description = "A page of products", body = Page<ProductView>),
        (status = 403, description = "No catalog:read scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/products")]
pub async fn list(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogRead>,
    query: web::Query<ProductQuery>,
) -> Result<web::Json<Page<ProductView>>, ApiError> {
    let query = query.into_inner();
    let status = match query.status.as_deref() {
        Some(raw) => Some(ProductStatus::parse(raw).ok_or_else(|| {
            ApiError::invalid_field("status", "must be draft, active or archived")
        })?),
        None => None,
    };
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let after: Option<store::After> = page.after()?;
    let listing = store::Listing {
        status,
        category: query.category,
        tag: query.tag,
        text: query.q.filter(|q| !q.trim().is_empty()),
        ..Default::default()
    };
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let rows = store::list_products(&tx, &listing, after.as_ref(), page.fetch_limit()).await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let variants = store::variants_of(&tx, &ids).await?;
    tx.commit().await?;
    let page = Page::from_rows(rows, page.limit(), |row| store::After {
        key: None,
        id: row.id,
    });
    Ok(web::Json(page.map(|row| ProductView::new(row, &variants))))
}

/// One product with its variants and stock.
#[utoipa::path(
    tag = "products",
    security(("bearer" = ["catalog:read"])),
    params(("id" = Uuid, Path, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 404, description = "No such product in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/products/{id}")]
pub async fn show(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogRead>,
    id: web::Path<Uuid>,
) -> Result<web::Json<ProductView>, ApiError> {
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let view = load(&tx, id.into_inner()).await?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// A partial change of a product (its variants are changed through stock adjustments
/// and, for prices, by re-creating them).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "active", "tags": ["goji", "organic"]}))]
pub struct ProductPatch {
    /// New handle: 1 to 100 of a-z, 0-9 and -.
    #[schema(pattern = "^[a-z0-9-]{1,100}$")]
    pub handle: Option<String>,
    /// New title, at most 200 characters per language.
    #[schema(schema_with = patch_title_schema)]
    pub title: Option<LocalizedText>,
    /// New description, at most 10000 characters per language.
    #[schema(schema_with = patch_description_schema)]
    pub description: Option<LocalizedText>,
    /// `draft` or `active` (archive with the archive call).
    #[schema(schema_with = patch_status_schema)]
    pub status: Option<String>,
    /// Categories, each once (at most 20).
    #[schema(value_type = Option<std::collections::BTreeSet<Uuid>>, max_items = 20)]
    pub category_ids: Option<Vec<Uuid>>,
    /// Tags: at most 30, each at most 50 characters.
    #[schema(max_items = 30, max_length = 50, pattern = r"^[^\x00]*$")]
    pub tags: Option<Vec<String>>,
    /// Images (at most 20).
    #[schema(max_items = 20)]
    pub images: Option<Vec<Image>>,
    /// Origin.
    pub origin: Option<Origin>,
    /// Producer, at most 200 characters.
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub producer: Option<String>,
    /// Harvest months (1 to 12).
    #[schema(minimum = 1, maximum = 12, max_items = 12)]
    pub harvest_months: Option<Vec<i32>>,
    /// Shelf life in days (1 to 3650).
    #[schema(minimum = 1, maximum = 3650)]
    pub shelf_life_days: Option<i32>,
    /// `ambient`, `chilled` or `frozen`.
    #[schema(schema_with = storage_schema)]
    pub storage: Option<String>,
    /// Certifications: at most 20, each at most 100 characters.
    #[schema(max_items = 20, max_length = 100, pattern = r"^[^\x00]*$")]
    pub certifications: Option<Vec<String>>,
}

fn patch_title_schema() -> Schema {
    limits::localized_schema(
        "New title, at most 200 characters per language.",
        limits::MAX_TITLE,
        true,
    )
}

fn patch_description_schema() -> Schema {
    limits::localized_schema(
        "New description, at most 10000 characters per language.",
        limits::MAX_DESCRIPTION,
        true,
    )
}

/// The moves any product may make. Sending an archived product `archived`, the
/// status it already has, is also accepted but left out.
fn patch_status_schema() -> ObjectBuilder {
    schemas::choice(
        "`draft` or `active` (archive with the archive call).",
        &["draft", "active"],
        true,
    )
}

/// Changes a product's fields.
#[utoipa::path(
    tag = "products",
    security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path, description = "Product id")),
    request_body = ProductPatch,
    responses(
        (status = 200, description = "Changed", body = ProductView),
        (status = 404, description = "No such product in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Handle taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/products/{id}")]
pub async fn update(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    id: web::Path<Uuid>,
    body: Json<ProductPatch>,
) -> Result<web::Json<ProductView>, ApiError> {
    let id = id.into_inner();
    let patch = body.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let current = store::product(&tx, id).await?.ok_or_else(not_found)?;
    let mut errors = Vec::new();
    let images = match &patch.images {
        Some(images) => Some(resolve_images(&tx, images, &mut errors).await?),
        None => None,
    };
    let values = merge(current, patch, images, &mut errors);
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
    Ok(web::Json(view))
}

fn merge(
    current: ProductRow,
    patch: ProductPatch,
    images: Option<serde_json::Value>,
    errors: &mut Vec<FieldError>,
) -> ProductValues {
    let handle = match patch.handle {
        Some(raw) => handle(&raw, "handle")
            .map_err(|e| errors.push(e))
            .unwrap_or(current.handle.clone()),
        None => current.handle.clone(),
    };
    // Archiving has its own call; a patch may name the status the product has.
    let status = match patch.status.as_deref().map(ProductStatus::parse) {
        None => current.status,
        Some(Some(status @ (ProductStatus::Draft | ProductStatus::Active))) => status,
        Some(Some(status)) if status == current.status => status,
        Some(_) => {
            errors.push(FieldError::new(
                "status",
                "must be draft or active; archive with POST /v1/products/{id}/archive",
            ));
            current.status
        }
    };
    let images = images.unwrap_or(current.images);
    let harvest_months = patch.harvest_months.unwrap_or(current.harvest_months);
    let shelf_life_days = patch.shelf_life_days.or(current.shelf_life_days);
    let storage = patch.storage.or(current.storage);
    // What the change writes is checked; what it keeps was checked when written.
    check_product(
        &ProductFields {
            title: patch.title.as_ref(),
            description: patch.description.as_ref(),
            tags: patch.tags.as_deref(),
            producer: patch.producer.as_deref(),
            origin: patch.origin.as_ref(),
            certifications: patch.certifications.as_deref(),
            images: patch.images.as_deref(),
            category_ids: patch.category_ids.as_deref(),
            harvest_months: Some(&harvest_months),
            shelf_life_days,
            storage: storage.as_deref(),
            variants: None,
        },
        errors,
    );
    let title: Option<LocalizedText> = patch
        .title
        .or_else(|| serde_json::from_value(current.title.clone()).ok());
    let description: Option<LocalizedText> = patch
        .description
        .or_else(|| serde_json::from_value(current.description).ok());
    let tags = patch.tags.unwrap_or(current.tags);
    let producer = patch.producer.or(current.producer);
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
        category_ids: patch.category_ids.unwrap_or(current.category_ids),
        tags,
        images,
        origin: patch
            .origin
            .map(|o| serde_json::to_value(o).unwrap_or_default())
            .unwrap_or(current.origin),
        producer,
        harvest_months,
        shelf_life_days,
        storage,
        certifications: patch.certifications.unwrap_or(current.certifications),
    }
}

/// Archives a product: gone from the storefront, kept for orders and history.
#[utoipa::path(
    tag = "products",
    security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path, description = "Product id")),
    responses(
        (status = 200, description = "Archived", body = ProductView),
        (status = 404, description = "No such product in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/products/{id}/archive")]
pub async fn archive(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    id: web::Path<Uuid>,
) -> Result<web::Json<ProductView>, ApiError> {
    let id = id.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
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
    Ok(web::Json(view))
}

/// Deletes a draft that no order ever reserved; anything else is archived instead.
#[utoipa::path(
    tag = "products",
    security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path, description = "Product id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such product in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft, or it has orders", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/products/{id}")]
pub async fn remove(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let product = store::product(&tx, id).await?.ok_or_else(not_found)?;
    if product.status != ProductStatus::Draft || store::has_orders(&tx, id).await? {
        return Err(ApiError::conflict(
            ErrorCode::NotDeletable,
            "only drafts without orders can be deleted; archive it instead",
        ));
    }
    store::delete_product(&tx, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A partial change of a variant (stock moves through adjustments).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"prices": [{"amount": 7200, "currency": "CNY"}, {"amount": 1000, "currency": "USD"}], "compare_at_price": {"amount": 8000, "currency": "CNY"}}))]
pub struct VariantPatch {
    /// Translatable name, at most 200 characters per language.
    #[schema(schema_with = variant_title_schema)]
    pub title: Option<LocalizedText>,
    /// Option values.
    #[schema(schema_with = options_schema)]
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
    /// `kg`, `g`, `piece` or `box`.
    #[schema(schema_with = unit_schema)]
    pub unit: Option<String>,
    /// Shipping weight, 0 to 1000000 grams.
    #[schema(minimum = 0, maximum = 1000000)]
    pub weight_grams: Option<i32>,
    /// Prices; the first is the base price.
    #[schema(schema_with = prices_schema)]
    pub prices: Option<Vec<caravan_shared::domain::Money>>,
    /// Price before a discount (null removes it).
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(schema_with = compare_at_schema)]
    pub compare_at_price: Option<Option<caravan_shared::domain::Money>>,
    /// `stock.low` threshold, 0 to 10000000.
    #[schema(minimum = 0, maximum = 10000000)]
    pub low_stock_threshold: Option<i32>,
}

fn variant_title_schema() -> Schema {
    limits::localized_schema(
        "Translatable name, at most 200 characters per language.",
        limits::MAX_NAME,
        true,
    )
}

fn options_schema() -> ObjectBuilder {
    limits::options_schema(
        "Option values: at most 10, names up to 50 characters, values texts up to 100.",
        true,
    )
}

fn compare_at_schema() -> OneOfBuilder {
    limits::compare_at_schema("Price before a discount, in the base currency (null removes it).")
}

fn unit_schema() -> ObjectBuilder {
    schemas::choice("`kg`, `g`, `piece` or `box`.", domain::UNITS, true)
}

fn prices_schema() -> ArrayBuilder {
    limits::prices_schema("Prices (at most 10); the first is the base price.", true)
}

fn some_or_null<'de, D>(
    deserializer: D,
) -> Result<Option<Option<caravan_shared::domain::Money>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<caravan_shared::domain::Money>::deserialize(deserializer).map(Some)
}

/// Changes a variant's prices, weight, unit, name or threshold.
#[utoipa::path(
    tag = "products",
    security(("bearer" = ["catalog:write"])),
    params(
        ("id" = Uuid, Path, description = "Product id"),
        ("variant_id" = Uuid, Path, description = "Variant id"),
    ),
    request_body = VariantPatch,
    responses(
        (status = 200, description = "The product after the change", body = ProductView),
        (status = 404, description = "No such variant of this product in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/products/{id}/variants/{variant_id}")]
pub async fn update_variant(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<VariantPatch>,
) -> Result<web::Json<ProductView>, ApiError> {
    let (id, variant_id) = path.into_inner();
    let patch = body.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let current = store::variant(&tx, variant_id)
        .await?
        .filter(|variant| variant.product_id == id)
        .ok_or_else(|| ApiError::not_found("no such variant"))?;
    let as_input = VariantInput {
        sku: current.sku.clone(),
        title: patch
            .title
            .or_else(|| serde_json::from_value(current.title.clone()).ok()),
        options: patch
            .options
            .unwrap_or_else(|| current.options.as_object().cloned().unwrap_or_default()),
        unit: patch.unit.unwrap_or(current.unit.clone()),
        weight_grams: patch.weight_grams.unwrap_or(current.weight_grams),
        prices: match patch.prices {
            Some(prices) => prices,
            None => current.prices.0.clone(),
        },
        compare_at_price: match patch.compare_at_price {
            Some(price) => price,
            None => current.compare_at_price.map(|price| price.0),
        },
        track_stock: current.track_stock,
        stock: current.on_hand,
        low_stock_threshold: patch
            .low_stock_threshold
            .unwrap_or(current.low_stock_threshold),
    };
    let mut errors = Vec::new();
    check_variant(&as_input, "variant", &mut errors);
    if !errors.is_empty() {
        return Err(variant_refusal(errors));
    }
    store::update_variant(&tx, variant_id, &variant_values(&as_input, 0)).await?;
    store::refresh_min_price(&tx, id).await?;
    let view = load(&tx, id).await?;
    events::product(&tx, "product.updated", id, &view.handle, view.status).await?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// Adds a variant to a product (a new size, a new box). Its SKU must be free in the
/// shop; its first stock is recorded in the ledger as `initial`.
#[utoipa::path(
    tag = "products",
    security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path, description = "Product id")),
    request_body = VariantInput,
    responses(
        (status = 201, description = "The product with its new variant", body = ProductView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No catalog:write scope, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "SKU taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, or the product already has 100 variants", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/products/{id}/variants")]
pub async fn add_variant(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    id: web::Path<Uuid>,
    body: Json<VariantInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let variant = body.into_inner();
    let mut errors = Vec::new();
    check_variant(&variant, "variant", &mut errors);
    if !errors.is_empty() {
        return Err(variant_refusal(errors));
    }
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    // The product's row is locked so two additions take two positions.
    store::lock_product(&tx, id).await?.ok_or_else(not_found)?;
    let count = store::variants_of(&tx, &[id]).await?.len();
    if count >= limits::MAX_VARIANTS {
        return Err(ApiError::invalid_field(
            "sku",
            format!("a product has at most {} variants", limits::MAX_VARIANTS),
        ));
    }
    insert_variant(&tx, id, &variant, count, &caller.principal.describe()).await?;
    store::refresh_min_price(&tx, id).await?;
    let view = load(&tx, id).await?;
    events::product(&tx, "product.updated", id, &view.handle, view.status).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(view))
}
