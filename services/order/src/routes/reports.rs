//! What a shop's staff read about many orders at once: the sales summary of the
//! admin's "Today" page and the CSV export. Owners and staff, or apps with
//! `orders:read`; row-level security shows one shop's orders.

use super::OrderState;
use super::staff::order_filter;
use crate::csv_format::{self, BOM, COLUMNS};
use crate::domain::Address;
use crate::domain::OrderStatus;
use crate::domain::reporting::{Window, china_time, major_units};
use crate::store::{self, ExportLineRow, ExportShipmentRow, OrderFilter, OrderRow};
use crate::views::{CurrencySales, SalesSummary};
use actix_web::{HttpResponse, get, web};
use caravan_shared::ApiError;
use caravan_shared::error::Problem;
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::OrdersRead;
use caravan_shared::tenancy::TenantTx;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::IntoParams;
use uuid::Uuid;

/// Most orders in one export.
pub const EXPORT_LIMIT: u64 = 10_000;

/// The summary's window.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Orders placed at or after this time (RFC 3339); default: 00:00 China time
    /// (Asia/Shanghai, UTC+8) on the first day of the calendar month the window
    /// ends in (`to` at the turn of a month: the whole month before).
    pub from: Option<DateTime<Utc>>,
    /// Orders placed before this time (RFC 3339); default: now.
    pub to: Option<DateTime<Utc>>,
}

/// The shop's sales in a window (by default this calendar month in China time, up
/// to now), and what needs attention now: orders awaiting payment and paid orders
/// still to ship.
///
/// `sales` counts the orders placed in the window that were paid, whatever
/// happened to them afterwards (shipped, delivered, refunded, or cancelled and
/// refunded), one entry per currency: `gross` their totals, `refunded` what has
/// been refunded of them so far, `net` the difference. Orders cancelled or expired
/// before payment count only in `placed`. `awaiting_payment` and `to_ship` are
/// counts of now, not of the window.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = ["orders:read"])),
    params(SummaryQuery),
    responses(
        (status = 200, description = "The summary", body = SalesSummary),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time that is not RFC 3339, or `from` after `to`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/orders/summary")]
pub async fn summary(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    query: web::Query<SummaryQuery>,
) -> Result<web::Json<SalesSummary>, ApiError> {
    let window = Window::parse(query.from, query.to, Utc::now())
        .map_err(|error| ApiError::invalid_fields(vec![error]))?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let sales = store::sales(&tx, window.from(), window.to()).await?;
    let workload = store::workload(&tx, window.from(), window.to()).await?;
    tx.commit().await?;
    Ok(web::Json(SalesSummary {
        from: window.from(),
        to: window.to(),
        sales: sales.into_iter().map(CurrencySales::from).collect(),
        awaiting_payment: workload.awaiting_payment,
        to_ship: workload.to_ship,
        placed: workload.placed,
    }))
}

/// Filters of the export: those of the order list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only orders in this status.
    #[param(inline, value_type = Option<OrderStatus>)]
    pub status: Option<String>,
    /// Placed at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Placed before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// An order number (`1001` or `#1001`) or part of the buyer's email (at most
    /// 200 characters).
    #[param(max_length = 200, pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
}

/// The orders matching the order list's filters as CSV, newest first, at most
/// 10,000 of them: when more match, the newest 10,000 are answered with
/// `Export-Truncated: true`; narrow `from`/`to` to reach older ones.
///
/// UTF-8 with a byte-order mark, one row per order, columns `number, placed_at,
/// status, email, name, country, province, city, currency, subtotal, shipping,
/// total, refunded, lines, items, carriers, tracking_numbers`. Amounts are exact
/// decimals in major units of the row's currency (`128.50`); `items` is
/// `SKU×quantity` per line and `carriers` / `tracking_numbers` one per shipment,
/// separated by `; `. A text cell starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'`, so spreadsheets never run it as a formula.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = ["orders:read"])),
    params(ExportQuery),
    responses(
        (status = 200, description = "The orders as CSV (`attachment; filename=\"orders-YYYY-MM-DD.csv\"`, dated in China time)", content_type = "text/csv", body = String,
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"orders-2026-11-28.csv\"`"),
                ("Export-Truncated" = String, description = "`true` when more than 10,000 orders matched and only the newest 10,000 are in the file"),
            )),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/orders/export")]
pub async fn export(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let filter = order_filter(query.status, query.from, query.to, query.q.as_deref())?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let mut orders = store::list_orders(
        &tx,
        &OrderFilter {
            limit: EXPORT_LIMIT + 1,
            ..filter
        },
    )
    .await?;
    let truncated = orders.len() as u64 > EXPORT_LIMIT;
    orders.truncate(EXPORT_LIMIT as usize);
    let ids: Vec<Uuid> = orders.iter().map(|order| order.id).collect();
    let lines = store::lines_of(&tx, &ids).await?;
    let shipments = store::shipments_of(&tx, &ids).await?;
    tx.commit().await?;
    let body = write_csv(&orders, &lines, &shipments);
    let filename = format!(
        "orders-{}.csv",
        Utc::now().with_timezone(&china_time()).format("%Y-%m-%d")
    );
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ));
    if truncated {
        response.insert_header(("Export-Truncated", "true"));
    }
    Ok(response.body(body))
}

fn write_csv(
    orders: &[OrderRow],
    lines: &[ExportLineRow],
    shipments: &[ExportShipmentRow],
) -> String {
    let mut items: HashMap<Uuid, Vec<&ExportLineRow>> = HashMap::new();
    for line in lines {
        items.entry(line.order_id).or_default().push(line);
    }
    let mut sent: HashMap<Uuid, Vec<&ExportShipmentRow>> = HashMap::new();
    for shipment in shipments {
        sent.entry(shipment.order_id).or_default().push(shipment);
    }
    let mut out = String::from(BOM);
    csv_format::write_record(&mut out, COLUMNS);
    for order in orders {
        let currency = order.currency.0;
        let amount = |minor: i64| major_units(minor, currency);
        let address: Option<Address> = serde_json::from_value(order.shipping_address.clone()).ok();
        let part = |pick: fn(&Address) -> &str| {
            csv_format::text(address.as_ref().map(pick).unwrap_or_default())
        };
        let lines = items.get(&order.id).map(Vec::as_slice).unwrap_or_default();
        let shipments = sent.get(&order.id).map(Vec::as_slice).unwrap_or_default();
        let joined = |texts: Vec<String>| csv_format::text(&texts.join("; "));
        csv_format::write_record(
            &mut out,
            &[
                order.number.to_string(),
                order.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                order.status.as_str().to_owned(),
                csv_format::text(&order.email),
                part(|a| &a.recipient),
                part(|a| &a.country),
                part(|a| &a.province),
                part(|a| &a.city),
                currency.as_str().to_owned(),
                amount(order.subtotal),
                amount(order.shipping),
                amount(order.total),
                amount(order.refunded),
                lines.len().to_string(),
                joined(
                    lines
                        .iter()
                        .map(|line| format!("{}×{}", line.sku, line.quantity))
                        .collect(),
                ),
                joined(shipments.iter().map(|s| s.carrier.clone()).collect()),
                joined(
                    shipments
                        .iter()
                        .map(|s| s.tracking_number.clone())
                        .collect(),
                ),
            ],
        );
    }
    out
}
