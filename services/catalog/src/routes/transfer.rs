//! CSV import and export of the catalog (format in `csv_format`); the import's
//! flow is `workflow::import`.

use super::CatalogState;
use crate::csv_format::COLUMNS;
use crate::store;
use crate::workflow;
use crate::workflow::import::ImportReport;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use caravan_shared::ApiError;
use caravan_shared::error::Problem;
use caravan_shared::http::{BodyLimit, read_body};
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::{CatalogRead, CatalogWrite};
use caravan_shared::tenancy::TenantTx;
use utoipa::ToSchema;

/// Imports are larger than other bodies: up to 20 MiB.
const IMPORT_LIMIT: usize = 20 * 1024 * 1024;

/// A catalog CSV file as the import takes it: UTF-8, a header row that names at
/// least the `handle`, `sku`, `unit` and `prices` columns, then one row per variant.
/// The pattern asks for the header in the columns' order and without quotes; a
/// row that is wrong in itself is reported in the answer, not refused.
#[derive(ToSchema)]
#[schema(
    pattern = r#"^\uFEFF?handle,([^\r\n"]*,)?sku,([^\r\n"]*,)?unit,([^\r\n"]*,)?prices(,[^\r\n"]*)?(\r?\n|$)"#,
    example = "handle,title.zh-CN,title.en,sku,unit,weight_grams,prices,stock\nningxia-goji-dried,宁夏中宁枸杞,\"Ningxia goji berries, dried\",GOJI-500G,piece,520,6800 CNY|950 USD,120\n"
)]
// Only documents the body, which the route reads as a stream.
#[allow(dead_code)]
pub struct ProductCsv(String);

/// Creates or updates products from a CSV file (one row per variant) and answers a
/// report per row. A product with any invalid row changes nothing; the others are
/// applied. Stock in the file is set, not added, and recorded in the ledger.
#[utoipa::path(
    tag = "products",
    security(("bearer" = ["catalog:write"])),
    request_body(content = ProductCsv, content_type = "text/csv", description = "The catalog CSV format (see the README)"),
    responses(
        (status = 200, description = "The report", body = ImportReport),
        (status = 403, description = "No catalog:write scope, or the plan's max_products would be exceeded", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 20 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a CSV file in the format (missing columns, bad encoding)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/products/import")]
pub async fn import(
    request: HttpRequest,
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    mut payload: web::Payload,
) -> Result<web::Json<ImportReport>, ApiError> {
    let is_csv = request
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/csv"));
    if !is_csv {
        return Err(ApiError::unsupported_media_type("text/csv"));
    }
    let limit = request
        .app_data::<BodyLimit>()
        .map_or(IMPORT_LIMIT, |limit| limit.0.max(IMPORT_LIMIT));
    let body = read_body(&request, &mut payload, limit).await?;
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::invalid_field("body", "must be UTF-8"))?;
    let actor = caller.principal.describe();
    let report = workflow::import::run(&state.context.db, caller.tenant, &actor, text).await?;
    Ok(web::Json(report))
}

fn text_of(value: &serde_json::Value, tag: &str) -> String {
    value
        .get(tag)
        .and_then(|text| text.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The whole catalog in the import format.
#[utoipa::path(
    tag = "products",
    security(("bearer" = ["catalog:read"])),
    responses(
        (status = 200, description = "The catalog as CSV", content_type = "text/csv", body = String),
        (status = 403, description = "No catalog:read scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/products/export")]
pub async fn export(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogRead>,
) -> Result<HttpResponse, ApiError> {
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let products = store::all_products(&tx).await?;
    let ids: Vec<uuid::Uuid> = products.iter().map(|p| p.id).collect();
    let variants = store::variants_of(&tx, &ids).await?;
    tx.commit().await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |error: csv::Error| ApiError::internal(anyhow::anyhow!(error));
    writer.write_record(COLUMNS).map_err(failed)?;
    for product in &products {
        let origin = |key: &str| {
            product
                .origin
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        for variant in variants.iter().filter(|v| v.product_id == product.id) {
            let prices = variant
                .prices
                .0
                .iter()
                .map(|p| format!("{} {}", p.amount, p.currency.as_str()))
                .collect::<Vec<_>>()
                .join("|");
            let months = product
                .harvest_months
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join("|");
            let cells = [
                product.handle.clone(),
                product.status.as_str().to_owned(),
                text_of(&product.title, "zh-CN"),
                text_of(&product.title, "en"),
                text_of(&product.title, "ug"),
                text_of(&product.description, "zh-CN"),
                text_of(&product.description, "en"),
                text_of(&product.description, "ug"),
                product.tags.join("|"),
                origin("country"),
                origin("province"),
                origin("place"),
                product.producer.clone().unwrap_or_default(),
                months,
                product
                    .shelf_life_days
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                product.storage.clone().unwrap_or_default(),
                product.certifications.join("|"),
                variant.sku.clone(),
                text_of(&variant.title, "zh-CN"),
                text_of(&variant.title, "en"),
                variant.unit.clone(),
                variant.weight_grams.to_string(),
                prices,
                variant.on_hand.to_string(),
                variant.low_stock_threshold.to_string(),
            ];
            // Text from people is written so a spreadsheet shows it, never runs it.
            writer
                .write_record(
                    cells
                        .iter()
                        .map(|cell| caravan_shared::spreadsheet::neutralised(cell).into_owned()),
                )
                .map_err(failed)?;
        }
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| ApiError::internal(anyhow::anyhow!(error.to_string())))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"catalog.csv\"",
        ))
        .body(bytes))
}
