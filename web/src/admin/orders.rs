//! Orders: the list with its filters (cards on a phone, a table on a desk), the
//! CSV export, an order with its timeline and what can be done to it (mark paid,
//! ship all or some lines, deliver, cancel, refund), and the packing slip.

use super::today::OrderRow;
use super::{Desk, Done, Posted, Section};
use crate::money;
use crate::page::{Frame, PageError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Failure, Money, OrderAction, OrderFilter, ShippedLine, ShopOrder};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// `2026-12-03 17:54` in China time.
pub fn china_time(moment: DateTime<Utc>) -> String {
    crate::clock::in_china(moment)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The statuses an order can be filtered by.
const STATUSES: [&str; 11] = [
    "pending_payment",
    "awaiting_group",
    "preordered",
    "paid",
    "partially_fulfilled",
    "fulfilled",
    "delivered",
    "partially_refunded",
    "refunded",
    "cancelled",
    "expired",
];

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    /// A day (`2026-12-01`), China time.
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

impl ListQuery {
    fn day(text: Option<&str>) -> Option<NaiveDate> {
        text.filter(|t| !t.is_empty())
            .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
    }

    /// The API's filter: days are whole days in China time, `to` included.
    fn filter(&self, limit: u32) -> OrderFilter {
        let start = |day: NaiveDate| {
            day.and_hms_opt(0, 0, 0)
                .and_then(|at| crate::clock::CHINA.from_local_datetime(&at).single())
                .map(|at| at.with_timezone(&Utc))
        };
        OrderFilter {
            status: self
                .status
                .clone()
                .filter(|status| STATUSES.contains(&status.as_str())),
            from: Self::day(self.from.as_deref()).and_then(start),
            to: Self::day(self.to.as_deref())
                .and_then(|day| day.succ_opt())
                .and_then(start),
            q: self
                .q
                .as_deref()
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(|q| q.chars().take(200).collect()),
            limit: Some(limit),
            cursor: self.cursor.clone().filter(|c| !c.is_empty()),
        }
    }

    /// The filters as a query string, for the export link and the next page.
    fn without_cursor(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("status", self.status.as_deref()),
            ("from", self.from.as_deref()),
            ("to", self.to.as_deref()),
            ("q", self.q.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.filter(|v| !v.is_empty()).map(|v| (name, v)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// A status in the filter's menu.
struct StatusChoice {
    value: &'static str,
    label: String,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "admin/orders.html")]
struct ListPage {
    page: Frame,
    orders: Vec<OrderRow>,
    statuses: Vec<StatusChoice>,
    from: String,
    to: String,
    q: String,
    filters: String,
    next: Option<String>,
}

/// `GET /admin/orders`.
pub async fn list(mut desk: Desk, query: web::Query<ListQuery>) -> Result<HttpResponse, PageError> {
    let answer = desk
        .api()
        .shop_orders(desk.caller(), &query.filter(25))
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        // A made-up cursor or filter: the first page.
        Err(Failure::Refused { status: 422, .. }) => desk
            .api()
            .shop_orders(desk.caller(), &ListQuery::default().filter(25))
            .await
            .map_err(|failure| desk.failed(&failure))?,
        Err(failure) => return Err(desk.failed(&failure)),
    };
    let filters = query.without_cursor();
    let page = ListPage {
        page: desk.frame(desk.t("admin-orders-title"), Section::Orders),
        orders: answer
            .items
            .iter()
            .map(|order| OrderRow::new(&desk, order))
            .collect(),
        statuses: STATUSES
            .iter()
            .map(|&value| StatusChoice {
                value,
                label: desk.t(&format!("status-{value}")),
                chosen: query.status.as_deref() == Some(value),
            })
            .collect(),
        from: query.from.clone().unwrap_or_default(),
        to: query.to.clone().unwrap_or_default(),
        q: query.q.clone().unwrap_or_default(),
        next: answer.next_cursor.map(|cursor| {
            let cursor = serde_urlencoded::to_string([("cursor", cursor)]).unwrap_or_default();
            if filters.is_empty() {
                format!("/admin/orders?{cursor}")
            } else {
                format!("/admin/orders?{filters}&{cursor}")
            }
        }),
        filters,
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

/// `GET /admin/orders/export.csv`: the filtered orders, as the API exports them.
pub async fn export(desk: Desk, query: web::Query<ListQuery>) -> Result<HttpResponse, PageError> {
    let mut filter = query.filter(100);
    filter.limit = None;
    filter.cursor = None;
    let file = desk
        .api()
        .export_orders(desk.caller(), &filter)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    Ok(download(file, "orders.csv"))
}

/// A file from the API, handed to the browser as a download.
pub fn download(file: caravan_client::Download, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            file.disposition
                .unwrap_or_else(|| format!("attachment; filename=\"{name}\"")),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(file.body)
}

/// A line of an order, ready to show and to ship.
struct LineRow {
    id: String,
    title: String,
    sku: String,
    quantity: i32,
    shipped: i32,
    left: i32,
    unit_price: String,
    total: String,
}

struct ShipmentRow {
    carrier: String,
    tracking: String,
    when: String,
    units: String,
}

struct EventRow {
    when: String,
    text: String,
    actor: String,
}

#[derive(Template)]
#[template(path = "admin/order.html")]
struct OrderPage {
    page: Frame,
    csrf: String,
    order: ShopOrder,
    status_label: String,
    placed: String,
    lines: Vec<LineRow>,
    shipments: Vec<ShipmentRow>,
    events: Vec<EventRow>,
    address: String,
    subtotal: String,
    shipping: String,
    total: String,
    paid: String,
    refunded: String,
    refundable: String,
    refundable_major: String,
    can_mark_paid: bool,
    can_ship: bool,
    can_deliver: bool,
    can_cancel: bool,
    can_refund: bool,
    problems: Vec<String>,
    notice: Option<String>,
    /// "Group 1 of 2 paid · Forming", for a group deal's order.
    group: Option<String>,
    /// "Pre-order · ships from 2027-07-20 · balance ¥110.00", for a pre-order.
    preorder: Option<String>,
}

fn line_rows(desk: &Desk, order: &ShopOrder) -> Vec<LineRow> {
    order
        .lines
        .iter()
        .map(|line| LineRow {
            id: line.id.to_string(),
            title: if line.variant_title.is_empty() {
                line.title.clone()
            } else {
                format!("{} · {}", line.title, line.variant_title)
            },
            sku: line.sku.clone(),
            quantity: line.quantity,
            shipped: line.fulfilled_quantity,
            left: line.quantity - line.fulfilled_quantity,
            unit_price: money::format(line.unit_price, desk.lang),
            total: money::format(line.line_total, desk.lang),
        })
        .collect()
}

fn address_of(desk: &Desk, order: &ShopOrder) -> String {
    crate::routes::orders::address_line(&order.shipping_address, desk.lang)
}

fn left_to_refund(order: &ShopOrder) -> Money {
    Money {
        amount: (order.paid.amount - order.refunded.amount).max(0),
        currency: order.paid.currency,
    }
}

/// Who did something, as the timeline records it (`buyer`, `system`,
/// `owner:<account>`, `app:<client>` …), in words: the role, not the id.
fn actor_label(lang: crate::i18n::Lang, actor: &str) -> String {
    let role = actor.split(':').next().unwrap_or(actor);
    lang.t_known(&format!("admin-actor-{}", role.replace('_', "-")))
        .unwrap_or_else(|| role.to_owned())
}

async fn order_page(
    desk: &mut Desk,
    id: Uuid,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = desk.caller();
    let (order, timeline) = futures_util::join!(
        desk.api().shop_order(caller, id),
        desk.api().order_timeline(caller, id),
    );
    let order = order.map_err(|failure| desk.failed(&failure))?;
    let timeline = timeline.unwrap_or_default();
    let lang = desk.lang;
    let left = left_to_refund(&order);
    let unshipped = order
        .lines
        .iter()
        .any(|line| line.quantity > line.fulfilled_quantity);
    let s = order.status.as_str();
    let page = OrderPage {
        page: desk.frame(
            lang.t_with("admin-order-title", &[("name", order.name.clone())]),
            Section::Orders,
        ),
        csrf: desk.visit.csrf(),
        status_label: desk.t(&format!("status-{}", order.status)),
        placed: china_time(order.created_at),
        lines: line_rows(desk, &order),
        shipments: order
            .fulfillments
            .iter()
            .map(|shipment| ShipmentRow {
                carrier: shipment.carrier.clone(),
                tracking: shipment.tracking_number.clone(),
                when: china_time(shipment.created_at),
                units: shipment
                    .lines
                    .iter()
                    .filter_map(|shipped| {
                        let line = order.lines.iter().find(|l| l.id == shipped.line_id)?;
                        Some(format!("{} × {}", line.sku, shipped.quantity))
                    })
                    .collect::<Vec<_>>()
                    .join(lang.list_separator()),
            })
            .collect(),
        events: timeline
            .iter()
            .rev()
            .map(|entry| EventRow {
                when: china_time(entry.created_at),
                text: lang
                    .t_known(&format!("admin-event-{}", entry.action.replace('_', "-")))
                    .unwrap_or_else(|| entry.action.replace('_', " ")),
                actor: actor_label(lang, &entry.actor),
            })
            .collect(),
        address: address_of(desk, &order),
        subtotal: money::format(order.subtotal, lang),
        shipping: money::format(order.shipping, lang),
        total: money::format(order.total, lang),
        paid: money::format(order.paid, lang),
        refunded: money::format(order.refunded, lang),
        refundable: money::format(left, lang),
        refundable_major: money::decimal(left),
        // A pre-order's balance, once its harvest is announced, can arrive by bank
        // transfer too.
        can_mark_paid: s == "pending_payment"
            || (s == "preordered"
                && order
                    .preorder
                    .as_ref()
                    .is_some_and(|p| p.balance_due_at.is_some() && p.balance.amount > 0)),
        can_ship: matches!(s, "paid" | "partially_fulfilled") && unshipped,
        can_deliver: s == "fulfilled",
        can_cancel: matches!(
            s,
            "pending_payment" | "awaiting_group" | "preordered" | "paid"
        ),
        can_refund: left.amount > 0 && !matches!(s, "pending_payment" | "cancelled" | "expired"),
        problems,
        notice,
        group: order.group.as_ref().map(|group| {
            lang.t_with(
                "admin-order-group",
                &[
                    ("joined", group.joined.to_string()),
                    ("size", group.group_size.to_string()),
                    (
                        "status",
                        lang.t(&format!("admin-group-status-{}", group.status)),
                    ),
                ],
            )
        }),
        preorder: order.preorder.as_ref().map(|preorder| {
            let mut text = lang.t_with(
                "admin-order-preorder",
                &[(
                    "date",
                    crate::routes::preorders::day(lang, preorder.ships_from),
                )],
            );
            if preorder.balance.amount > 0 && !matches!(s, "cancelled" | "expired") {
                text.push_str(" · ");
                text.push_str(&lang.t_with(
                    "admin-order-preorder-balance",
                    &[("balance", money::format(preorder.balance, lang))],
                ));
            }
            text
        }),
        order,
    };
    Ok(desk.send(status, &page).await)
}

/// What was just done, as a sentence.
const DONE: [(&str, &str); 5] = [
    ("paid", "admin-done-paid"),
    ("shipped", "admin-done-shipped"),
    ("delivered", "admin-done-delivered"),
    ("cancelled", "admin-done-cancelled"),
    ("refunded", "admin-done-refunded"),
];

/// `GET /admin/orders/{id}`: another shop's order is a 404 page.
pub async fn detail(
    mut desk: Desk,
    id: web::Path<String>,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    let notice = query.notice(desk.lang, &DONE);
    order_page(&mut desk, id, Vec::new(), notice, StatusCode::OK).await
}

#[derive(Template)]
#[template(path = "admin/slip.html")]
struct SlipPage {
    page: Frame,
    order: ShopOrder,
    placed: String,
    address: String,
    lines: Vec<LineRow>,
    shop_name: String,
}

/// `GET /admin/orders/{id}/slip`: the packing slip, made to print.
pub async fn slip(mut desk: Desk, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    let order = desk
        .api()
        .shop_order(desk.caller(), id)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let page = SlipPage {
        page: desk.frame(
            desk.lang
                .t_with("admin-slip-title", &[("name", order.name.clone())]),
            Section::Orders,
        ),
        placed: china_time(order.created_at),
        address: address_of(&desk, &order),
        lines: line_rows(&desk, &order),
        shop_name: desk.staff.shop_name.clone(),
        order,
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

/// `POST /admin/orders/{id}/{action}`: the form's fields by name (a shipment
/// names a quantity per line, `qty-{line}`).
pub async fn act(
    mut desk: Desk,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let (id, action) = path.into_inner();
    let id = desk.id(&id)?;
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let action = match action_of(&desk, id, &action, &form).await? {
        Ok(action) => action,
        Err(problem) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return order_page(&mut desk, id, vec![problem], None, status).await;
        }
    };
    let done = match &action {
        OrderAction::MarkPaid { .. } => "paid",
        OrderAction::Ship { .. } => "shipped",
        OrderAction::Deliver => "delivered",
        OrderAction::Cancel { .. } => "cancelled",
        OrderAction::Refund { .. } => "refunded",
    };
    match desk.api().order_action(desk.caller(), id, action).await {
        Ok(_) => Ok(desk
            .redirect(&format!("/admin/orders/{id}?done={done}"))
            .await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            let status = Desk::status_of(&failure);
            order_page(&mut desk, id, problems, None, status).await
        }
    }
}

/// What the form asks of the order, or the sentence saying what in it is wrong (an
/// unknown action is a 404 page).
async fn action_of(
    desk: &Desk,
    id: Uuid,
    action: &str,
    form: &Posted,
) -> Result<Result<OrderAction, String>, PageError> {
    let lang = desk.lang;
    let given = |name: &str| Some(form.get(name)).filter(|value| !value.is_empty());
    Ok(Ok(match action {
        "mark-paid" => OrderAction::MarkPaid {
            reference: given("reference"),
        },
        "ship" => {
            let mut lines = Vec::new();
            for (key, value) in &form.0 {
                let Some(line) = key.strip_prefix("qty-") else {
                    continue;
                };
                let (Ok(line_id), Ok(quantity)) =
                    (Uuid::parse_str(line), value.trim().parse::<i32>())
                else {
                    return Ok(Err(lang.t("admin-ship-quantity")));
                };
                if quantity > 0 {
                    lines.push(ShippedLine { line_id, quantity });
                }
            }
            if lines.is_empty() {
                return Ok(Err(lang.t("admin-ship-nothing")));
            }
            OrderAction::Ship {
                carrier: form.get("carrier"),
                tracking_number: form.get("tracking"),
                lines: Some(lines),
            }
        }
        "deliver" => OrderAction::Deliver,
        "cancel" => OrderAction::Cancel {
            reason: form.get("reason"),
        },
        "refund" => {
            let order = desk
                .api()
                .shop_order(desk.caller(), id)
                .await
                .map_err(|failure| desk.failed(&failure))?;
            let left = left_to_refund(&order);
            let currency = order.paid.currency;
            match money::parse_decimal(&form.get("amount"), currency.as_str()) {
                Some(amount) if amount > 0 && amount <= left.amount => OrderAction::Refund {
                    amount: Some(Money { amount, currency }),
                    reason: given("reason"),
                },
                Some(amount) if amount > left.amount => {
                    return Ok(Err(lang.t_with(
                        "admin-refund-too-much",
                        &[("total", money::format(left, lang))],
                    )));
                }
                _ => return Ok(Err(lang.t("admin-refund-amount"))),
            }
        }
        _ => return Err(PageError::not_found(lang)),
    }))
}
