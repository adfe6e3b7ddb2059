//! Stock adjustments with their ledger, and categories.

use super::CatalogState;
use crate::domain::limits::{self, MAX_CATEGORY_NAME, MAX_NOTE, check_localized};
use crate::domain::{MAX_UNITS, handle};
use crate::events;
use crate::schemas;
use crate::store;
use crate::views::{CategoryView, MovementView, StockItem, VariantView};
use actix_web::{HttpResponse, delete, get, post, put, web};
use caravan_shared::ApiError;
use caravan_shared::ErrorCode;
use caravan_shared::domain::{LocalizedText, Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::{CatalogRead, CatalogWrite};
use caravan_shared::tenancy::TenantTx;
use serde::Deserialize;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A change of stock on hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f", "delta": 200, "reason": "received", "note": "Harvest delivery from member farms"}))]
pub struct AdjustmentRequest {
    /// The variant.
    pub variant_id: Uuid,
    /// Units added (positive) or removed (negative); not zero.
    #[schema(schema_with = delta_schema)]
    pub delta: i32,
    /// `received`, `damaged` or `correction`.
    #[schema(schema_with = reason_schema)]
    pub reason: String,
    /// A note for the ledger (up to 500 characters).
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub note: Option<String>,
}

/// Why stock changes.
const REASONS: &[&str] = &["received", "damaged", "correction"];

fn delta_schema() -> OneOfBuilder {
    schemas::nonzero_int32(
        "Units added (positive) or removed (negative): 1 to 10000000 either way, not 0.",
        MAX_UNITS,
    )
}

fn reason_schema() -> ObjectBuilder {
    schemas::choice("`received`, `damaged` or `correction`.", REASONS, false)
}

/// Adjusts a variant's stock on hand and records it in the ledger. Stock never goes
/// below what is reserved.
#[utoipa::path(
    tag = "inventory",
    security(("bearer" = ["catalog:write"])),
    request_body = AdjustmentRequest,
    responses(
        (status = 200, description = "The variant after the change", body = VariantView),
        (status = 404, description = "No such variant in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would leave less on hand than is reserved", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/inventory/adjustments")]
pub async fn adjust(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    body: Json<AdjustmentRequest>,
) -> Result<web::Json<VariantView>, ApiError> {
    let body = body.into_inner();
    if body.delta == 0 || body.delta.unsigned_abs() > MAX_UNITS.unsigned_abs() {
        return Err(ApiError::invalid_field(
            "delta",
            format!("must not be 0, and at most {MAX_UNITS} either way"),
        ));
    }
    if !REASONS.contains(&body.reason.as_str()) {
        return Err(ApiError::invalid_field(
            "reason",
            "must be received, damaged or correction",
        ));
    }
    if body
        .note
        .as_deref()
        .is_some_and(|note| note.chars().count() > MAX_NOTE)
    {
        return Err(ApiError::invalid_field(
            "note",
            format!("must be at most {MAX_NOTE} characters"),
        ));
    }
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let before = store::variant(&tx, body.variant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such variant"))?;
    if !before.track_stock {
        return Err(ApiError::conflict(
            ErrorCode::StockNotTracked,
            "this variant's stock is not tracked",
        ));
    }
    // Stock on hand stays within the same bound as every stock figure, so repeated
    // additions cannot climb towards the column's limit.
    if i64::from(before.on_hand) + i64::from(body.delta) > i64::from(MAX_UNITS) {
        return Err(ApiError::invalid_field(
            "delta",
            format!(
                "would take stock on hand to more than {MAX_UNITS} (it is {})",
                before.on_hand
            ),
        ));
    }
    let after = store::adjust_stock(
        &tx,
        body.variant_id,
        body.delta,
        &body.reason,
        body.note.as_deref(),
        &caller.principal.describe(),
    )
    .await?
    .ok_or_else(|| {
        ApiError::conflict(
            ErrorCode::InsufficientStock,
            format!(
                "{} on hand with {} reserved; it cannot go below that",
                before.on_hand, before.reserved
            ),
        )
    })?;
    events::stock(&tx, &after, Some(before.available())).await?;
    tx.commit().await?;
    Ok(web::Json(VariantView::from(&after)))
}

/// Which variant's ledger.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// The variant.
    pub variant_id: Uuid,
    /// How many entries, newest first: 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page; omit it for the first page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// A variant's stock ledger, newest first.
#[utoipa::path(
    tag = "inventory",
    security(("bearer" = ["catalog:read"])),
    params(LedgerQuery),
    responses(
        (status = 200, description = "A page of ledger entries, newest first", body = Page<MovementView>),
        (status = 404, description = "No such variant in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit outside 1 to 100 or a cursor this API did not issue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/inventory/adjustments")]
pub async fn ledger(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogRead>,
    query: web::Query<LedgerQuery>,
) -> Result<web::Json<Page<MovementView>>, ApiError> {
    let query = query.into_inner();
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    store::variant(&tx, query.variant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such variant"))?;
    let rows = store::movements(&tx, query.variant_id, page.after()?, page.fetch_limit()).await?;
    tx.commit().await?;
    let rows = Page::from_rows(rows, page.limit(), |row| row.id);
    Ok(web::Json(rows.map(MovementView::from)))
}

/// A new category.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"handle": "dried-fruit", "name": {"zh-CN": "干果", "en": "Dried fruit", "ug": "قۇرۇق مېۋە"}, "position": 1}))]
pub struct CategoryRequest {
    /// Unique in the shop: 1 to 100 of a-z, 0-9 and -.
    #[schema(pattern = "^[a-z0-9-]{1,100}$")]
    pub handle: String,
    /// Translatable name, at most 100 characters per language.
    #[schema(schema_with = category_name_schema)]
    pub name: LocalizedText,
    /// Parent category.
    pub parent_id: Option<Uuid>,
    /// Position among siblings.
    #[serde(default)]
    pub position: i32,
}

fn category_name_schema() -> utoipa::openapi::schema::Schema {
    limits::localized_schema(
        "Translatable name, at most 100 characters per language.",
        MAX_CATEGORY_NAME,
        false,
    )
}

/// Creates a category.
#[utoipa::path(
    tag = "categories",
    security(("bearer" = ["catalog:write"])),
    request_body = CategoryRequest,
    responses(
        (status = 201, description = "Created", body = CategoryView),
        (status = 409, description = "Handle taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values or unknown parent", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/categories")]
pub async fn create_category(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    body: Json<CategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    let handle = handle(&body.handle, "handle")
        .map_err(|e| errors.push(e))
        .ok();
    check_localized(&body.name, "name", MAX_CATEGORY_NAME, &mut errors);
    let Some(handle) = handle.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid_fields(errors));
    };
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    check_parent(&store::categories(&tx).await?, None, body.parent_id)?;
    let name = serde_json::to_value(&body.name).unwrap_or_default();
    let row = store::insert_category(&tx, &handle, &name, body.parent_id, body.position)
        .await
        .map_err(handle_taken)?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(CategoryView::from(row)))
}

/// Where `id` would sit under `parent`: refused when `parent` is not one of the
/// shop's categories, or is the category itself or one inside it (a loop).
fn check_parent(
    all: &[store::CategoryRow],
    id: Option<Uuid>,
    parent: Option<Uuid>,
) -> Result<(), ApiError> {
    let Some(mut at) = parent else {
        return Ok(());
    };
    for _ in 0..=all.len() {
        if Some(at) == id {
            return Err(ApiError::invalid_field(
                "parent_id",
                "would put the category inside itself",
            ));
        }
        match all.iter().find(|category| category.id == at) {
            Some(category) => match category.parent_id {
                Some(up) => at = up,
                None => return Ok(()),
            },
            None => {
                return Err(ApiError::invalid_field(
                    "parent_id",
                    "is not a category of this shop",
                ));
            }
        }
    }
    Ok(())
}

fn handle_taken(error: sea_orm::DbErr) -> ApiError {
    if caravan_shared::db::is_duplicate(&error) {
        ApiError::conflict(
            ErrorCode::HandleTaken,
            "a category of the shop has this handle",
        )
        .with_field("handle", "is taken")
    } else {
        error.into()
    }
}

/// Renames, moves or reorders a category (the whole category is sent).
#[utoipa::path(
    tag = "categories",
    security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path, description = "The category")),
    request_body = CategoryRequest,
    responses(
        (status = 200, description = "Changed", body = CategoryView),
        (status = 404, description = "No such category in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Handle taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, an unknown parent, or a parent inside the category", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/categories/{id}")]
pub async fn update_category(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    id: web::Path<Uuid>,
    body: Json<CategoryRequest>,
) -> Result<web::Json<CategoryView>, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut errors = Vec::new();
    let handle = handle(&body.handle, "handle")
        .map_err(|e| errors.push(e))
        .ok();
    check_localized(&body.name, "name", MAX_CATEGORY_NAME, &mut errors);
    let Some(handle) = handle.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid_fields(errors));
    };
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let all = store::categories(&tx).await?;
    if !all.iter().any(|category| category.id == id) {
        return Err(ApiError::not_found("no such category"));
    }
    check_parent(&all, Some(id), body.parent_id)?;
    let name = serde_json::to_value(&body.name).unwrap_or_default();
    let row = store::update_category(&tx, id, &handle, &name, body.parent_id, body.position)
        .await
        .map_err(handle_taken)?
        .ok_or_else(|| ApiError::not_found("no such category"))?;
    tx.commit().await?;
    Ok(web::Json(CategoryView::from(row)))
}

/// Deletes a category without subcategories; its products stay, without it.
#[utoipa::path(
    tag = "categories",
    security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path, description = "The category")),
    responses(
        (status = 204, description = "Deleted, and taken off its products"),
        (status = 404, description = "No such category in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has subcategories: move or delete them first", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/categories/{id}")]
pub async fn delete_category(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let all = store::categories(&tx).await?;
    if all.iter().any(|category| category.parent_id == Some(id)) {
        return Err(ApiError::conflict(
            ErrorCode::CategoryHasSubcategories,
            "this category has subcategories: move or delete them first",
        ));
    }
    if !store::delete_category(&tx, id).await? {
        return Err(ApiError::not_found("no such category"));
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The shop's categories (a tree through `parent_id`), by position.
#[utoipa::path(
    tag = "categories",
    security(("bearer" = ["catalog:read"])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of categories", body = Page<CategoryView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `catalog:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit outside 1 to 100 or a cursor this API did not issue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/categories")]
pub async fn categories(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogRead>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<CategoryView>>, ApiError> {
    let page = PageRequest::from_query(query.into_inner())?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let rows = store::categories(&tx).await?;
    tx.commit().await?;
    let rows = Page::from_sorted(rows, &page, store::CategoryRow::sort_key)?;
    Ok(web::Json(rows.map(CategoryView::from)))
}

/// Filters of the stock list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StockQuery {
    /// Text in the SKU or in a product's or variant's title (any language), at most
    /// 200 characters.
    #[param(max_length = 200, pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
    /// `true`: only counted variants with no more available than their threshold.
    pub low_stock: Option<bool>,
    /// Only this variant (a variant of another shop matches nothing).
    pub variant_id: Option<Uuid>,
    /// Page size: 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The longest search text of the stock list.
const MAX_STOCK_QUERY: usize = 200;

/// The shop's variants with their stock, by SKU: what to restock.
#[utoipa::path(
    tag = "inventory",
    security(("bearer" = ["catalog:read"])),
    params(StockQuery),
    responses(
        (status = 200, description = "A page of variants with stock", body = Page<StockItem>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No catalog:read scope, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/inventory")]
pub async fn stock(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogRead>,
    query: web::Query<StockQuery>,
) -> Result<web::Json<Page<StockItem>>, ApiError> {
    let query = query.into_inner();
    let text = query.q.filter(|q| !q.trim().is_empty());
    if let Some(text) = &text
        && (text.chars().count() > MAX_STOCK_QUERY || text.contains('\0'))
    {
        return Err(ApiError::invalid_field(
            "q",
            format!("must be at most {MAX_STOCK_QUERY} characters, without NUL"),
        ));
    }
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let after: Option<store::AfterSku> = page.after()?;
    let listing = store::StockListing {
        text: text.map(|text| text.trim().to_owned()),
        low_only: query.low_stock.unwrap_or(false),
        variant: query.variant_id,
    };
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let rows = store::stock_list(&tx, &listing, after.as_ref(), page.fetch_limit()).await?;
    tx.commit().await?;
    let page = Page::from_rows(rows, page.limit(), |row| store::AfterSku {
        sku: row.sku.clone(),
        id: row.variant_id,
    });
    Ok(web::Json(page.map(StockItem::from)))
}
