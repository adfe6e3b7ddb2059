//! Shipping zones: where the shop ships and what it costs by weight. Owners and
//! staff, or apps with `orders:write` (reading needs `orders:read`).

use super::OrderState;
use crate::domain::shipping::{Rate, Zone, ZoneInput};
use actix_web::{HttpResponse, delete, get, post, put, web};
use caravan_shared::ApiError;
use caravan_shared::domain::{Money, Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::{OrdersRead, OrdersWrite};
use caravan_shared::tenancy::TenantTx;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A shipping zone.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a7c4-6900-7d4e-8f5a-1b2c3d4e5f60", "name": "Mainland China", "countries": ["CN"], "provinces": [],
    "currency": "CNY", "free_shipping_threshold": {"amount": 19900, "currency": "CNY"},
    "rates": [
        {"id": "0193a7c4-6a00-7000-8000-000000000001", "name": "SF Express, up to 1 kg", "min_weight_grams": 0, "max_weight_grams": 1000, "price": {"amount": 1200, "currency": "CNY"}},
        {"id": "0193a7c4-6a00-7000-8000-000000000002", "name": "SF Express, 1 kg and more", "min_weight_grams": 1000, "max_weight_grams": null, "price": {"amount": 2500, "currency": "CNY"}}
    ]
}))]
pub struct ZoneView {
    /// The zone.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Countries it covers.
    pub countries: Vec<String>,
    /// Provinces it is limited to (empty: all of each country).
    pub provinces: Vec<String>,
    /// The currency of its prices.
    pub currency: String,
    /// Orders from this subtotal ship free.
    pub free_shipping_threshold: Option<Money>,
    /// Rates by weight band.
    pub rates: Vec<Rate>,
}

impl From<Zone> for ZoneView {
    fn from(zone: Zone) -> Self {
        Self {
            id: zone.id,
            name: zone.name,
            countries: zone.countries,
            provinces: zone.provinces,
            currency: zone.currency.as_str().to_owned(),
            free_shipping_threshold: zone.free_shipping_threshold,
            rates: zone.rates,
        }
    }
}

const MAX_ZONES: usize = 50;

/// Adds a shipping zone; several countries make a cross-border zone.
#[utoipa::path(
    tag = "shipping",
    security(("bearer" = ["orders:write"])),
    request_body = ZoneInput,
    responses(
        (status = 201, description = "The zone", body = ZoneView),
        (status = 403, description = "Not the shop's staff, or no `orders:write`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or too many zones", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/shipping-zones")]
pub async fn create(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    body: Json<ZoneInput>,
) -> Result<HttpResponse, ApiError> {
    let zone = Zone::parse(Uuid::now_v7(), &body.into_inner()).map_err(ApiError::invalid_fields)?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    if crate::store::zones(&tx).await?.len() >= MAX_ZONES {
        return Err(ApiError::invalid_field(
            "name",
            format!("a shop has at most {MAX_ZONES} zones"),
        ));
    }
    crate::store::save_zone(&tx, &zone).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(ZoneView::from(zone)))
}

/// The shop's shipping zones, oldest first.
#[utoipa::path(
    tag = "shipping",
    security(("bearer" = ["orders:read"])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of zones", body = Page<ZoneView>),
        (status = 403, description = "Not the shop's staff, or no `orders:read`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit outside 1 to 100 or a cursor this API did not issue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shipping-zones")]
pub async fn list(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<ZoneView>>, ApiError> {
    let page = PageRequest::from_query(query.into_inner())?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let zones = crate::store::zones(&tx).await?;
    tx.commit().await?;
    let zones = Page::from_sorted(zones, &page, |zone| zone.id)?;
    Ok(web::Json(zones.map(ZoneView::from)))
}

/// Replaces a zone and its rates (rates get new ids; orders keep what they were
/// placed with).
#[utoipa::path(
    tag = "shipping",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "The zone")),
    request_body = ZoneInput,
    responses(
        (status = 200, description = "The zone", body = ZoneView),
        (status = 404, description = "No such zone in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/shipping-zones/{id}")]
pub async fn replace(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    id: web::Path<Uuid>,
    body: Json<ZoneInput>,
) -> Result<web::Json<ZoneView>, ApiError> {
    let id = id.into_inner();
    let zone = Zone::parse(id, &body.into_inner()).map_err(ApiError::invalid_fields)?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    if !crate::store::zones(&tx).await?.iter().any(|z| z.id == id) {
        return Err(ApiError::not_found("no such shipping zone"));
    }
    crate::store::save_zone(&tx, &zone).await?;
    tx.commit().await?;
    Ok(web::Json(ZoneView::from(zone)))
}

/// Removes a zone.
#[utoipa::path(
    tag = "shipping",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "The zone")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such zone in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/shipping-zones/{id}")]
pub async fn remove(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    if !crate::store::delete_zone(&tx, id.into_inner()).await? {
        return Err(ApiError::not_found("no such shipping zone"));
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
