//! Today: what waits (orders to ship, orders awaiting payment, stock running
//! low), the latest orders, and this month's sales per currency. And "More": the
//! admin's other pages.

use super::{Desk, Section};
use crate::money;
use crate::page::{Frame, PageError};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use caravan_client::{OrderFilter, OrderTotals, ShopOrderItem, StockFilter, StockItem};

#[derive(Template)]
#[template(path = "admin/today.html")]
struct TodayPage {
    page: Frame,
    totals: OrderTotals,
    latest: Vec<OrderRow>,
    low: Vec<StockRow>,
    /// How far the first-run checklist is, for an owner while it is not done.
    getting_started: Option<String>,
}

/// An order in a list, ready to show.
pub struct OrderRow {
    pub id: String,
    pub name: String,
    pub status: String,
    pub status_label: String,
    pub email: String,
    pub total: String,
    pub placed: String,
}

impl OrderRow {
    pub fn new(desk: &Desk, order: &ShopOrderItem) -> Self {
        Self {
            id: order.id.to_string(),
            name: order.name.clone(),
            status_label: desk.t(&format!("status-{}", order.status)),
            status: order.status.clone(),
            email: order.email.clone(),
            total: money::format(order.total, desk.lang),
            placed: super::orders::china_time(order.created_at),
        }
    }
}

/// A variant's stock in a list, ready to show.
pub struct StockRow {
    pub variant: String,
    pub title: String,
    pub sku: String,
    pub on_hand: i32,
    pub reserved: i32,
    pub available: i32,
    pub low: bool,
    pub tracked: bool,
}

impl StockRow {
    pub fn new(desk: &Desk, item: &StockItem) -> Self {
        let product = super::products::localized(&item.product_title, desk.lang);
        let variant = item
            .variant_title
            .as_ref()
            .map(|title| super::products::localized(title, desk.lang))
            .unwrap_or_default();
        let title = if variant.is_empty() {
            product
        } else {
            format!("{product} · {variant}")
        };
        Self {
            variant: item.variant_id.to_string(),
            title,
            sku: item.sku.clone(),
            on_hand: item.on_hand,
            reserved: item.reserved,
            available: item.available,
            low: item.low,
            tracked: item.track_stock,
        }
    }
}

/// `GET /admin`.
pub async fn show(mut desk: Desk) -> Result<HttpResponse, PageError> {
    let caller = desk.caller();
    let latest_filter = OrderFilter {
        limit: Some(5),
        ..OrderFilter::default()
    };
    let low_filter = StockFilter {
        low_stock: Some(true),
        limit: Some(10),
        ..StockFilter::default()
    };
    // An owner's Today links to the first-run checklist until it is done; it is read
    // beside the rest, not after it.
    let checklist = async {
        if desk.owner() {
            Some(super::welcome::Checklist::of(&desk).await)
        } else {
            None
        }
    };
    let (totals, latest, low, checklist) = futures_util::join!(
        desk.api().order_totals(caller),
        desk.api().shop_orders(caller, &latest_filter),
        desk.api().stock(caller, &low_filter),
        checklist,
    );
    let totals = totals.map_err(|failure| desk.failed(&failure))?;
    let latest = latest.map_err(|failure| desk.failed(&failure))?;
    let low = low.map_err(|failure| desk.failed(&failure))?;
    let getting_started = match checklist.transpose()? {
        Some(checklist) if !checklist.complete() => Some(checklist.progress(desk.lang)),
        _ => None,
    };
    let page = TodayPage {
        getting_started,
        page: desk.frame(desk.t("admin-today-title"), Section::Today),
        latest: latest
            .items
            .iter()
            .map(|order| OrderRow::new(&desk, order))
            .collect(),
        low: low
            .items
            .iter()
            .map(|item| StockRow::new(&desk, item))
            .collect(),
        totals,
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

#[derive(Template)]
#[template(path = "admin/more.html")]
struct MorePage {
    page: Frame,
    owner: bool,
    name: String,
    email: String,
    csrf: String,
}

/// `GET /admin/more`.
pub async fn more(mut desk: Desk) -> Result<HttpResponse, PageError> {
    let page = MorePage {
        page: desk.frame(desk.t("admin-more-title"), Section::More),
        owner: desk.owner(),
        name: desk.staff.account.name.clone(),
        email: desk.staff.account.email.clone(),
        csrf: desk.visit.csrf(),
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}
