//! Staff catalog management: products with their variants.

use super::CatalogState;
use crate::domain::limits;
use crate::domain::{
    self, Image, Origin, ProductChange, ProductRequest, ProductStatus, VariantChange, VariantInput,
    storage_schema,
};
use crate::schemas;
use crate::store;
use crate::views::ProductView;
use crate::workflow;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use caravan_shared::ApiError;
use caravan_shared::domain::{LocalizedText, Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::{CatalogRead, CatalogWrite};
use caravan_shared::tenancy::TenantTx;
use serde::Deserialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

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
    let actor = caller.principal.describe();
    let view =
        workflow::products::create(&state.context.db, caller.tenant, &actor, body.into_inner())
            .await?;
    Ok(HttpResponse::Created().json(view))
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
    let view = workflow::products::view(&state.context.db, caller.tenant, id.into_inner()).await?;
    Ok(web::Json(view))
}

/// A partial change of a product (its variants change through
/// `PATCH /v1/products/{id}/variants/{variant_id}`, their stock through adjustments).
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

impl From<ProductPatch> for ProductChange {
    fn from(patch: ProductPatch) -> Self {
        let ProductPatch {
            handle,
            title,
            description,
            status,
            category_ids,
            tags,
            images,
            origin,
            producer,
            harvest_months,
            shelf_life_days,
            storage,
            certifications,
        } = patch;
        Self {
            handle,
            title,
            description,
            status,
            category_ids,
            tags,
            images,
            origin,
            producer,
            harvest_months,
            shelf_life_days,
            storage,
            certifications,
        }
    }
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
    let change = ProductChange::from(body.into_inner());
    let view =
        workflow::products::update(&state.context.db, caller.tenant, id.into_inner(), change)
            .await?;
    Ok(web::Json(view))
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
    let view =
        workflow::products::archive(&state.context.db, caller.tenant, id.into_inner()).await?;
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
    workflow::products::remove(&state.context.db, caller.tenant, id.into_inner()).await?;
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

impl From<VariantPatch> for VariantChange {
    fn from(patch: VariantPatch) -> Self {
        let VariantPatch {
            title,
            options,
            unit,
            weight_grams,
            prices,
            compare_at_price,
            low_stock_threshold,
        } = patch;
        Self {
            title,
            options,
            unit,
            weight_grams,
            prices,
            compare_at_price,
            low_stock_threshold,
        }
    }
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
    let change = VariantChange::from(body.into_inner());
    let view = workflow::variants::update(&state.context.db, caller.tenant, id, variant_id, change)
        .await?;
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
    let actor = caller.principal.describe();
    let view = workflow::variants::add(
        &state.context.db,
        caller.tenant,
        &actor,
        id.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}
