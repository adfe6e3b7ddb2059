//! Reservations for the order service (service tokens only).

use super::CatalogState;
use crate::domain::ProductStatus;
use crate::events;
use crate::store;
use crate::store::reservations::{self, Reservation, ReservedLine, Settled};
use actix_web::{HttpResponse, get, post, web};
use caravan_shared::ErrorCode;
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::ServiceCaller;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::{ApiError, TenantId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One line to reserve.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    /// The variant.
    pub variant_id: Uuid,
    /// How many (1 or more).
    pub quantity: i32,
}

/// A reservation for an order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveRequest {
    /// The shop.
    pub tenant_id: Uuid,
    /// The order: the key that makes repeating the call safe.
    pub order_id: Uuid,
    /// The lines.
    pub lines: Vec<LineRequest>,
}

/// An order's reservation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationView {
    /// The order.
    pub order_id: Uuid,
    /// The lines and their status.
    pub lines: Vec<ReservedLine>,
}

/// Reserves every line of an order or none. Repeating the call for the same order
/// answers the same reservation.
#[utoipa::path(
    tag = "internal",
    security(("bearer" = [])),
    request_body = ReserveRequest,
    responses(
        (status = 201, description = "Held", body = ReservationView),
        (status = 403, description = "Not a service token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Some lines are short (`errors` names them); nothing is held", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid lines", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/internal/v1/reservations")]
pub async fn reserve(
    state: web::Data<CatalogState>,
    _service: ServiceCaller,
    body: Json<ReserveRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.lines.is_empty() {
        return Err(ApiError::invalid_field(
            "lines",
            "at least one line is required",
        ));
    }
    let max = crate::domain::MAX_UNITS;
    if let Some(index) = body
        .lines
        .iter()
        .position(|line| !(1..=max).contains(&line.quantity))
    {
        return Err(ApiError::invalid_field(
            format!("lines[{index}].quantity"),
            format!("must be 1 to {max}"),
        ));
    }
    if body.lines.len() > 500 {
        return Err(ApiError::invalid_field("lines", "at most 500 lines"));
    }
    let lines: Vec<(Uuid, i32)> = body
        .lines
        .iter()
        .map(|line| (line.variant_id, line.quantity))
        .collect();
    let tenant = TenantId::from(body.tenant_id);
    for _ in 0..2 {
        match reservations::reserve(&state.context.db, tenant, body.order_id, &lines).await? {
            Reservation::Held(held) => {
                return Ok(HttpResponse::Created().json(ReservationView {
                    order_id: body.order_id,
                    lines: held,
                }));
            }
            Reservation::Short(short) => {
                let mut error = ApiError::conflict(
                    ErrorCode::InsufficientStock,
                    format!("{} line(s) cannot be reserved", short.len()),
                );
                for line in &short {
                    let index = body
                        .lines
                        .iter()
                        .position(|l| l.variant_id == line.variant_id)
                        .unwrap_or(0);
                    error = error.with_field(
                        format!("lines[{index}]"),
                        format!(
                            "{} requested, {} available (variant {})",
                            line.requested, line.available, line.variant_id
                        ),
                    );
                }
                return Err(error);
            }
            // A concurrent call for the same order won: read what it reserved.
            Reservation::Raced => {}
            Reservation::Settled(status) => {
                return Err(ApiError::conflict(
                    ErrorCode::ReservationSettled,
                    format!("this order's reservation is already {status}"),
                ));
            }
        }
    }
    Err(ApiError::conflict(
        ErrorCode::ReservationInProgress,
        "the order is being reserved by another call; retry",
    ))
}

/// Which shop's order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleRequest {
    /// The shop.
    pub tenant_id: Uuid,
}

async fn settle(
    state: &CatalogState,
    service: &ServiceCaller,
    order: Uuid,
    tenant: Uuid,
    paid: bool,
) -> Result<web::Json<ReservationView>, ApiError> {
    let tx = TenantTx::begin(&state.context.db, TenantId::from(tenant)).await?;
    let actor = service.0.describe();
    let settled = if paid {
        reservations::commit(&tx, order, &actor).await?
    } else {
        reservations::release(&tx, order, &actor).await?
    };
    match settled {
        Settled::Done(changed) => {
            for variant in &changed {
                let before = if paid { None } else { Some(0) };
                events::stock(&tx, variant, before).await?;
            }
            let lines = reservations::lines_of(&tx, order).await?;
            tx.commit().await?;
            Ok(web::Json(ReservationView {
                order_id: order,
                lines,
            }))
        }
        Settled::Unknown => Err(ApiError::not_found("no reservation for this order")),
        Settled::Conflict(status) => Err(ApiError::conflict(
            ErrorCode::ReservationSettled,
            format!("the reservation is already {status}"),
        )),
    }
}

/// Commits an order's held stock (the order was paid): it leaves stock on hand.
#[utoipa::path(
    tag = "internal",
    security(("bearer" = [])),
    params(("order_id" = Uuid, Path, description = "The order")),
    request_body = SettleRequest,
    responses(
        (status = 200, description = "Committed (now or before)", body = ReservationView),
        (status = 404, description = "No reservation for the order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already released", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/internal/v1/reservations/{order_id}/commit")]
pub async fn commit(
    state: web::Data<CatalogState>,
    service: ServiceCaller,
    order: web::Path<Uuid>,
    body: Json<SettleRequest>,
) -> Result<web::Json<ReservationView>, ApiError> {
    settle(&state, &service, order.into_inner(), body.tenant_id, true).await
}

/// Releases an order's held stock (cancelled or expired).
#[utoipa::path(
    tag = "internal",
    security(("bearer" = [])),
    params(("order_id" = Uuid, Path, description = "The order")),
    request_body = SettleRequest,
    responses(
        (status = 200, description = "Released (now or before)", body = ReservationView),
        (status = 404, description = "No reservation for the order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already committed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/internal/v1/reservations/{order_id}/release")]
pub async fn release(
    state: web::Data<CatalogState>,
    service: ServiceCaller,
    order: web::Path<Uuid>,
    body: Json<SettleRequest>,
) -> Result<web::Json<ReservationView>, ApiError> {
    settle(&state, &service, order.into_inner(), body.tenant_id, false).await
}

/// Which variants of which shop.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VariantsQuery {
    /// The shop.
    pub tenant_id: Uuid,
    /// Variant ids, comma-separated (at most 200).
    pub ids: String,
}

/// A variant as a cart or an order needs it: what it is, what it costs, whether it
/// can be sold.
#[derive(Debug, Serialize, ToSchema)]
pub struct SellableVariant {
    /// The variant.
    pub variant_id: Uuid,
    /// Its product.
    pub product_id: Uuid,
    /// The product's handle.
    pub handle: String,
    /// The product's title, in every language it has.
    pub product_title: serde_json::Value,
    /// `draft`, `active` or `archived`: only active products can be bought.
    #[schema(value_type = String)]
    pub product_status: ProductStatus,
    /// The product's first image, if any.
    pub image: Option<serde_json::Value>,
    /// The SKU.
    pub sku: String,
    /// The variant's title, in every language it has.
    pub title: serde_json::Value,
    /// Shipping weight.
    pub weight_grams: i32,
    /// Prices, one per currency.
    pub prices: serde_json::Value,
    /// Units that can still be reserved (`null`: stock is not tracked).
    pub available: Option<i32>,
}

/// Variants found (unknown ids are left out).
#[derive(Debug, Serialize, ToSchema)]
pub struct SellableVariants {
    /// The variants.
    pub items: Vec<SellableVariant>,
}

/// Variants by id with their product, prices and availability, for carts and checkout.
#[utoipa::path(
    tag = "internal",
    security(("bearer" = [])),
    params(VariantsQuery),
    responses(
        (status = 200, description = "The variants that exist", body = SellableVariants),
        (status = 403, description = "Not a service token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid ids", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/internal/v1/variants")]
pub async fn variants(
    state: web::Data<CatalogState>,
    _service: ServiceCaller,
    query: web::Query<VariantsQuery>,
) -> Result<web::Json<SellableVariants>, ApiError> {
    let query = query.into_inner();
    let ids = query
        .ids
        .split(',')
        .filter(|raw| !raw.trim().is_empty())
        .map(|raw| Uuid::parse_str(raw.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::invalid_field("ids", "must be comma-separated UUIDs"))?;
    if ids.len() > 200 {
        return Err(ApiError::invalid_field("ids", "at most 200 ids"));
    }
    let rows = store::sellable(&state.context.db, TenantId::from(query.tenant_id), &ids).await?;
    let items = rows
        .into_iter()
        .map(|row| SellableVariant {
            variant_id: row.id,
            product_id: row.product_id,
            handle: row.handle,
            product_title: row.product_title,
            product_status: row.product_status,
            image: row
                .images
                .as_array()
                .and_then(|images| images.first().cloned()),
            sku: row.sku,
            title: row.title,
            weight_grams: row.weight_grams,
            prices: row.prices.to_stored(),
            available: row.track_stock.then(|| (row.on_hand - row.reserved).max(0)),
        })
        .collect();
    Ok(web::Json(SellableVariants { items }))
}
