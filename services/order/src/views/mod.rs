//! What the order service answers: carts and orders as buyers and staff see them.

use crate::domain::shipping::ShippingOption;
use crate::domain::{Address, OrderStatus, PaymentKind, PaymentStatus};
use crate::store::{
    FulfillmentRow, OrderLineRow, OrderRow, PaymentRow, StoredCurrency, TimelineRow,
};
use caravan_shared::domain::{Locale, LocalizedText, Money};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

mod groups;
mod preorders;

pub use groups::*;
pub use preorders::*;

/// The text of a stored translatable value in `locale`, falling back to the
/// language, then Chinese, English, and whatever there is.
pub fn localize(value: &serde_json::Value, locale: &str) -> String {
    let Ok(text) = serde_json::from_value::<LocalizedText>(value.clone()) else {
        return String::new();
    };
    let wanted: Vec<Locale> = Locale::parse(locale).into_iter().collect();
    let fallback = Locale::parse("zh-CN").ok();
    match fallback {
        Some(fallback) => text.resolve(&wanted, &fallback).1.to_owned(),
        None => String::new(),
    }
}

/// Money from stored minor units in a stored currency.
pub fn money(amount: i64, currency: StoredCurrency) -> Money {
    Money::new(amount, currency.0)
}

/// A cart line as the buyer sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f", "product_id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d",
    "handle": "ningxia-goji-dried", "sku": "GOJI-500G", "title": "宁夏中宁枸杞", "variant_title": "500克",
    "image": {"url": "https://cdn.zhongning-goji.cn/goji-500g.jpg", "alt": "Half a kilo of dried goji berries"},
    "quantity": 2, "unit_price": {"amount": 6800, "currency": "CNY"},
    "line_total": {"amount": 13600, "currency": "CNY"}, "weight_grams": 1040, "available": 118, "problem": null
}))]
pub struct CartLineView {
    /// The variant.
    pub variant_id: Uuid,
    /// Its product (absent when the variant no longer exists).
    pub product_id: Option<Uuid>,
    /// The product's storefront handle.
    pub handle: Option<String>,
    /// The SKU.
    pub sku: Option<String>,
    /// The product's title in the cart's language.
    pub title: Option<String>,
    /// The variant's title in the cart's language.
    pub variant_title: Option<String>,
    /// The product's first image.
    pub image: Option<serde_json::Value>,
    /// How many.
    pub quantity: i32,
    /// The current price of one unit in the cart's currency.
    pub unit_price: Option<Money>,
    /// `unit_price × quantity`.
    pub line_total: Option<Money>,
    /// Weight of the whole line.
    pub weight_grams: i64,
    /// Units that can still be bought (`null` when stock is not tracked).
    pub available: Option<i32>,
    /// Why this line cannot be checked out as it is: `unavailable` (gone or not on
    /// sale), `out_of_stock`, `insufficient_stock` (fewer available than wanted) or
    /// `not_sold_in_currency`; `null` when it can.
    pub problem: Option<String>,
}

/// A cart.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b2d0-4f10-7a2b-8c3d-4e5f6a7b8c9d", "currency": "CNY", "locale": "zh-CN", "customer": false,
    "lines": [{
        "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f", "product_id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d",
        "handle": "ningxia-goji-dried", "sku": "GOJI-500G", "title": "宁夏中宁枸杞", "variant_title": "500克",
        "image": {"url": "https://cdn.zhongning-goji.cn/goji-500g.jpg", "alt": "Half a kilo of dried goji berries"},
        "quantity": 2, "unit_price": {"amount": 6800, "currency": "CNY"},
        "line_total": {"amount": 13600, "currency": "CNY"}, "weight_grams": 1040, "available": 118, "problem": null
    }],
    "item_count": 2, "subtotal": {"amount": 13600, "currency": "CNY"}, "total_weight_grams": 1040, "ready": true,
    "shipping_options": [{
        "rate_id": "0193a7c4-6a00-7000-8000-000000000002", "zone": "Mainland China",
        "name": "SF Express, 1 kg and more", "price": {"amount": 2500, "currency": "CNY"}
    }],
    "order_id": null, "created_at": "2026-11-28T08:50:00Z", "updated_at": "2026-11-28T09:02:00Z"
}))]
pub struct CartView {
    /// The cart.
    pub id: Uuid,
    /// The guest's secret for this cart: send it as `X-Cart-Token`. Shown only when
    /// the cart is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The currency of its prices.
    pub currency: String,
    /// The language of its texts and of the order's emails.
    pub locale: String,
    /// Whether it belongs to a logged-in customer.
    pub customer: bool,
    /// The lines.
    pub lines: Vec<CartLineView>,
    /// Units in the cart.
    pub item_count: i64,
    /// The sum of the lines that have a price.
    pub subtotal: Money,
    /// Weight of all lines.
    pub total_weight_grams: i64,
    /// Whether every line can be checked out.
    pub ready: bool,
    /// Shipping options for the destination given as `?country=&province=`,
    /// cheapest first (absent without a destination).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_options: Option<Vec<ShippingOption>>,
    /// The order this cart became, once checked out.
    pub order_id: Option<Uuid>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An order line.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b2e8-7c41-7b2c-8d3e-4f5a6b7c8d9e", "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f",
    "product_id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d", "sku": "GOJI-500G",
    "title": "宁夏中宁枸杞", "variant_title": "500克", "unit_price": {"amount": 6800, "currency": "CNY"},
    "quantity": 2, "line_total": {"amount": 13600, "currency": "CNY"}, "weight_grams": 520, "fulfilled_quantity": 2
}))]
pub struct OrderLineView {
    /// The line (for partial fulfilment).
    pub id: Uuid,
    /// The variant.
    pub variant_id: Uuid,
    /// Its product.
    pub product_id: Uuid,
    /// The SKU.
    pub sku: String,
    /// The product's title, in the order's language, as it was when ordered.
    pub title: String,
    /// The variant's title, as it was when ordered.
    pub variant_title: String,
    /// The price of one unit when ordered.
    pub unit_price: Money,
    /// How many.
    pub quantity: i32,
    /// `unit_price × quantity`.
    pub line_total: Money,
    /// Weight of one unit.
    pub weight_grams: i32,
    /// Units shipped so far.
    pub fulfilled_quantity: i32,
}

impl OrderLineView {
    fn new(row: &OrderLineRow, currency: StoredCurrency, locale: &str) -> Self {
        Self {
            id: row.id,
            variant_id: row.variant_id,
            product_id: row.product_id,
            sku: row.sku.clone(),
            title: localize(&row.product_title, locale),
            variant_title: localize(&row.variant_title, locale),
            unit_price: money(row.unit_price, currency),
            quantity: row.quantity,
            line_total: money(row.line_total, currency),
            weight_grams: row.weight_grams,
            fulfilled_quantity: row.fulfilled_quantity,
        }
    }
}

/// The shipping rate an order was placed with.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({"rate_id": "0193a7c4-6a00-7000-8000-000000000002", "zone": "Mainland China", "name": "SF Express, 1 kg and more"}))]
pub struct ChosenRate {
    /// The rate.
    pub rate_id: Uuid,
    /// Its zone's name.
    pub zone: String,
    /// Its name.
    pub name: String,
}

/// A shipment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b6a1-0e30-7d4e-8f5a-6b7c8d9e0f1a", "carrier": "SF Express", "tracking_number": "SF1234567890123",
    "lines": [{"line_id": "0193b2e8-7c41-7b2c-8d3e-4f5a6b7c8d9e", "quantity": 2}],
    "created_at": "2026-11-29T02:10:00Z"
}))]
pub struct FulfillmentView {
    /// The shipment.
    pub id: Uuid,
    /// Who carries it.
    pub carrier: String,
    /// The carrier's tracking number.
    pub tracking_number: String,
    /// Which lines, how many units: `[{line_id, quantity}]`.
    pub lines: serde_json::Value,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl From<FulfillmentRow> for FulfillmentView {
    fn from(row: FulfillmentRow) -> Self {
        Self {
            id: row.id,
            carrier: row.carrier,
            tracking_number: row.tracking_number,
            lines: row.lines,
            created_at: row.created_at,
        }
    }
}

/// A payment or refund.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b2f5-1a20-7c3d-9e4f-5a6b7c8d9e0f", "provider": "manual", "kind": "payment", "status": "succeeded",
    "amount": {"amount": 16100, "currency": "CNY"}, "reference": "ICBC transfer 2026-11-28 #88231",
    "detail": null, "created_at": "2026-11-28T09:20:00Z"
}))]
pub struct PaymentView {
    /// The record.
    pub id: Uuid,
    /// `manual` or `test`.
    pub provider: String,
    /// `payment` or `refund`.
    pub kind: PaymentKind,
    /// `succeeded`, `pending`, `declined` or `failed`.
    pub status: PaymentStatus,
    /// How much.
    pub amount: Money,
    /// The provider's reference.
    pub reference: Option<String>,
    /// Why it failed, or what the buyer was asked to do.
    pub detail: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl PaymentView {
    fn new(row: PaymentRow, currency: StoredCurrency) -> Self {
        Self {
            id: row.id,
            provider: row.provider,
            kind: row.kind,
            status: row.status,
            amount: money(row.amount, currency),
            reference: row.reference,
            detail: row.detail,
            created_at: row.created_at,
        }
    }
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b2e8-7c40-7f1a-a2b3-c4d5e6f7a8b9", "number": 1002, "name": "#1002", "status": "fulfilled",
    "currency": "CNY", "locale": "zh-CN", "email": "wang.fang@example.cn", "phone": "+86 138 0013 8000",
    "shipping_address": {"country": "CN", "province": "上海市", "city": "上海市", "district": "浦东新区", "street": "世纪大道 100 号 2 栋 1801 室", "postal_code": "200120", "recipient": "王芳"},
    "shipping_rate": {"rate_id": "0193a7c4-6a00-7000-8000-000000000002", "zone": "Mainland China", "name": "SF Express, 1 kg and more"},
    "note": "请工作日送货",
    "lines": [{
        "id": "0193b2e8-7c41-7b2c-8d3e-4f5a6b7c8d9e", "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f",
        "product_id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d", "sku": "GOJI-500G",
        "title": "宁夏中宁枸杞", "variant_title": "500克", "unit_price": {"amount": 6800, "currency": "CNY"},
        "quantity": 2, "line_total": {"amount": 13600, "currency": "CNY"}, "weight_grams": 520, "fulfilled_quantity": 2
    }],
    "subtotal": {"amount": 13600, "currency": "CNY"}, "shipping": {"amount": 2500, "currency": "CNY"},
    "total": {"amount": 16100, "currency": "CNY"}, "paid": {"amount": 16100, "currency": "CNY"},
    "refunded": {"amount": 0, "currency": "CNY"}, "payment_provider": "manual",
    "payments": [{
        "id": "0193b2f5-1a20-7c3d-9e4f-5a6b7c8d9e0f", "provider": "manual", "kind": "payment", "status": "succeeded",
        "amount": {"amount": 16100, "currency": "CNY"}, "reference": "ICBC transfer 2026-11-28 #88231",
        "detail": null, "created_at": "2026-11-28T09:20:00Z"
    }],
    "fulfillments": [{
        "id": "0193b6a1-0e30-7d4e-8f5a-6b7c8d9e0f1a", "carrier": "SF Express", "tracking_number": "SF1234567890123",
        "lines": [{"line_id": "0193b2e8-7c41-7b2c-8d3e-4f5a6b7c8d9e", "quantity": 2}],
        "created_at": "2026-11-29T02:10:00Z"
    }],
    "expires_at": "2026-11-28T10:05:00Z", "paid_at": "2026-11-28T09:20:00Z", "cancelled_at": null,
    "cancel_reason": null, "created_at": "2026-11-28T09:05:00Z", "updated_at": "2026-11-29T02:10:00Z", "group": null, "preorder": null
}))]
pub struct OrderView {
    /// The order.
    pub id: Uuid,
    /// The shop's sequential number.
    pub number: i64,
    /// The number as shown to people: `#1001`.
    pub name: String,
    /// Where it stands.
    pub status: OrderStatus,
    /// The currency of every amount.
    pub currency: String,
    /// The language of its emails.
    pub locale: String,
    /// The buyer's email.
    pub email: String,
    /// The buyer's phone.
    pub phone: String,
    /// Where it goes.
    pub shipping_address: Address,
    /// How it goes.
    pub shipping_rate: ChosenRate,
    /// The buyer's note.
    pub note: Option<String>,
    /// The lines, with prices as they were when ordered.
    pub lines: Vec<OrderLineView>,
    /// The lines' total.
    pub subtotal: Money,
    /// Shipping.
    pub shipping: Money,
    /// What the buyer pays: subtotal + shipping.
    pub total: Money,
    /// Money received.
    pub paid: Money,
    /// Money returned.
    pub refunded: Money,
    /// How it is being paid, once chosen.
    pub payment_provider: Option<String>,
    /// Payments and refunds.
    pub payments: Vec<PaymentView>,
    /// Shipments.
    pub fulfillments: Vec<FulfillmentView>,
    /// An unpaid order expires, and its stock is released, at this time.
    pub expires_at: DateTime<Utc>,
    /// When it was paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was cancelled or expired.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The group of a group-deal order, as it now stands; `null` for other orders.
    pub group: Option<OrderGroup>,
    /// What a pre-order shows of its harvest; `null` for other orders.
    pub preorder: Option<OrderPreorder>,
    /// The guest's secret for reading and paying this order (`X-Order-Token`). Shown
    /// only in the checkout's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

impl OrderView {
    /// The view of an order with its lines, payments and shipments.
    pub fn new(
        row: OrderRow,
        lines: &[OrderLineRow],
        payments: Vec<PaymentRow>,
        fulfillments: Vec<FulfillmentRow>,
    ) -> Self {
        let currency = row.currency;
        let shipping_address = serde_json::from_value(row.shipping_address).unwrap_or(Address {
            country: String::new(),
            province: String::new(),
            city: String::new(),
            district: String::new(),
            street: String::new(),
            postal_code: String::new(),
            recipient: String::new(),
        });
        let shipping_rate = serde_json::from_value(row.shipping_rate).unwrap_or(ChosenRate {
            rate_id: Uuid::nil(),
            zone: String::new(),
            name: String::new(),
        });
        Self {
            id: row.id,
            number: row.number,
            name: format!("#{}", row.number),
            status: row.status,
            lines: lines
                .iter()
                .map(|line| OrderLineView::new(line, currency, &row.locale))
                .collect(),
            subtotal: money(row.subtotal, currency),
            shipping: money(row.shipping, currency),
            total: money(row.total, currency),
            paid: money(row.paid, currency),
            refunded: money(row.refunded, currency),
            payments: payments
                .into_iter()
                .map(|payment| PaymentView::new(payment, currency))
                .collect(),
            fulfillments: fulfillments
                .into_iter()
                .map(FulfillmentView::from)
                .collect(),
            currency: currency.0.as_str().to_owned(),
            locale: row.locale,
            email: row.email,
            phone: row.phone,
            shipping_address,
            shipping_rate,
            note: row.note,
            payment_provider: row.payment_provider,
            expires_at: row.expires_at,
            paid_at: row.paid_at,
            cancelled_at: row.cancelled_at,
            cancel_reason: row.cancel_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
            group: None,
            preorder: None,
            access_token: None,
        }
    }
}

/// A list of orders.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "items": [{
        "id": "0193b2e8-7c40-7f1a-a2b3-c4d5e6f7a8b9", "number": 1002, "name": "#1002", "status": "fulfilled",
        "email": "wang.fang@example.cn", "total": {"amount": 16100, "currency": "CNY"},
        "paid": {"amount": 16100, "currency": "CNY"}, "refunded": {"amount": 0, "currency": "CNY"},
        "created_at": "2026-11-28T09:05:00Z"
    }],
    "next_cursor": "WyIyMDI2LTExLTI4VDA5OjA1OjAwWiIsIjAxOTNiMmU4LTdjNDAtN2YxYS1hMmIzLWM0ZDVlNmY3YThiOSJd"
}))]
pub struct OrderList {
    /// Orders, newest first.
    pub items: Vec<OrderSummary>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// An order in a list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b2e8-7c40-7f1a-a2b3-c4d5e6f7a8b9", "number": 1002, "name": "#1002", "status": "fulfilled",
    "email": "wang.fang@example.cn", "total": {"amount": 16100, "currency": "CNY"},
    "paid": {"amount": 16100, "currency": "CNY"}, "refunded": {"amount": 0, "currency": "CNY"},
    "created_at": "2026-11-28T09:05:00Z"
}))]
pub struct OrderSummary {
    /// The order.
    pub id: Uuid,
    /// The shop's sequential number.
    pub number: i64,
    /// `#1001`.
    pub name: String,
    /// Where it stands.
    pub status: OrderStatus,
    /// The buyer's email.
    pub email: String,
    /// What the buyer pays.
    pub total: Money,
    /// Money received.
    pub paid: Money,
    /// Money returned.
    pub refunded: Money,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
}

impl From<&OrderRow> for OrderSummary {
    fn from(row: &OrderRow) -> Self {
        Self {
            id: row.id,
            number: row.number,
            name: format!("#{}", row.number),
            status: row.status,
            email: row.email.clone(),
            total: money(row.total, row.currency),
            paid: money(row.paid, row.currency),
            refunded: money(row.refunded, row.currency),
            created_at: row.created_at,
        }
    }
}

/// An entry of an order's timeline.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b2f5-1a21-7e5f-8a6b-7c8d9e0f1a2b", "actor": "staff:0193a9e2-8d10-7f2a-b3c4-d5e6f7a8b9c0",
    "action": "paid",
    "detail": {"provider": "manual", "reference": "ICBC transfer 2026-11-28 #88231", "amount": {"amount": 16100, "currency": "CNY"}},
    "created_at": "2026-11-28T09:20:00Z"
}))]
pub struct TimelineEntry {
    /// The entry.
    pub id: Uuid,
    /// Who: `owner:<user>`, `staff:<user>`, `app:<client>`, `buyer`, `system`, …
    pub actor: String,
    /// What: `placed`, `payment_declined`, `paid`, `fulfilled`, `delivered`,
    /// `cancelled`, `expired`, `refunded`, …
    pub action: String,
    /// Details of the action.
    pub detail: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<TimelineRow> for TimelineEntry {
    fn from(row: TimelineRow) -> Self {
        Self {
            id: row.id,
            actor: row.actor,
            action: row.action,
            detail: row.detail,
            created_at: row.created_at,
        }
    }
}

/// What a shop sold in one currency.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "currency": "CNY", "orders": 42, "gross": {"amount": 512300, "currency": "CNY"},
    "refunded": {"amount": 13600, "currency": "CNY"}, "net": {"amount": 498700, "currency": "CNY"}
}))]
pub struct CurrencySales {
    /// ISO 4217 code of the amounts.
    pub currency: String,
    /// Paid orders placed in the window.
    pub orders: i64,
    /// Their totals.
    pub gross: Money,
    /// What was refunded of them (so far).
    pub refunded: Money,
    /// `gross − refunded`.
    pub net: Money,
}

impl From<crate::store::SalesRow> for CurrencySales {
    fn from(row: crate::store::SalesRow) -> Self {
        Self {
            gross: money(row.gross, row.currency),
            refunded: money(row.refunded, row.currency),
            net: money(row.gross - row.refunded, row.currency),
            orders: row.orders,
            currency: row.currency.0.as_str().to_owned(),
        }
    }
}

/// A shop's sales in a window and its orders needing attention now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-10-31T16:00:00Z", "to": "2026-11-28T09:00:00Z",
    "sales": [
        {"currency": "CNY", "orders": 42, "gross": {"amount": 512300, "currency": "CNY"},
         "refunded": {"amount": 13600, "currency": "CNY"}, "net": {"amount": 498700, "currency": "CNY"}},
        {"currency": "USD", "orders": 3, "gross": {"amount": 3750, "currency": "USD"},
         "refunded": {"amount": 0, "currency": "USD"}, "net": {"amount": 3750, "currency": "USD"}}
    ],
    "awaiting_payment": 2, "to_ship": 5, "placed": 47
}))]
pub struct SalesSummary {
    /// The window's first instant (included).
    pub from: DateTime<Utc>,
    /// The window's end (excluded).
    pub to: DateTime<Utc>,
    /// Orders placed in the window that were paid (whatever happened to them
    /// afterwards), per currency, by currency code; amounts are never converted.
    pub sales: Vec<CurrencySales>,
    /// Orders waiting for payment now (not limited to the window).
    pub awaiting_payment: i64,
    /// Paid orders with units still to ship now (not limited to the window).
    pub to_ship: i64,
    /// Orders placed in the window, paid or not.
    pub placed: i64,
}
