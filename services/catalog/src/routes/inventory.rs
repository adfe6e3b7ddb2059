//! Stock adjustments with their ledger, and the stock list.

use super::CatalogState;
use crate::domain::MAX_UNITS;
use crate::domain::limits::MAX_NOTE;
use crate::events;
use crate::schemas;
use crate::store;
use crate::views::{MovementView, StockItem, VariantView};
use actix_web::{get, post, web};
use caravan_shared::ApiError;
use caravan_shared::ErrorCode;
use caravan_shared::domain::{Page, PageQuery, PageRequest};
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
