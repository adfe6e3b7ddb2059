//! The API's answers and requests, as the public contract (`openapi/caravan.json`)
//! describes them. Fields a page does not need are left out: serde ignores them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// An amount in minor units of a currency (`1250` CNY is 12.50 yuan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: i64,
    pub currency: CurrencyCode,
}

/// An ISO 4217 code as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl TryFrom<String> for CurrencyCode {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl std::str::FromStr for CurrencyCode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.as_bytes() {
            [a, b, c] if value.bytes().all(|b| b.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(format!("{value:?} is not a currency code")),
        }
    }
}

impl From<CurrencyCode> for String {
    fn from(code: CurrencyCode) -> Self {
        code.as_str().to_owned()
    }
}

impl std::fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A page of a list: `{items, next_cursor}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// RFC 9457 problem details, as every error of the API is answered.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub errors: Vec<FieldError>,
    /// The values to choose from, when the problem is a choice the caller must make.
    #[serde(default)]
    pub choices: Vec<String>,
}

/// One field at fault.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An active shop in the public directory.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopListing {
    pub slug: String,
    pub name: String,
    /// The name in other languages (by tag).
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    #[serde(default)]
    pub description: BTreeMap<String, String>,
    pub region: Option<String>,
    pub default_locale: String,
    #[serde(default)]
    pub locales: Vec<String>,
    pub logo_url: Option<String>,
}

/// A shop's public profile.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopProfile {
    pub slug: String,
    pub name: String,
    /// The name in other languages (by tag).
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    #[serde(default)]
    pub description: BTreeMap<String, String>,
    pub base_currency: CurrencyCode,
    pub currencies: Vec<CurrencyCode>,
    pub default_locale: String,
    pub locales: Vec<String>,
    pub logo_url: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    #[serde(default)]
    pub ship_to: Vec<String>,
    /// Colours, banner and the home page's sections (defaults filled in).
    #[serde(default)]
    pub theme: crate::Theme,
}

/// A storefront category, named in the buyer's language.
#[derive(Debug, Clone, Deserialize)]
pub struct Category {
    pub id: Uuid,
    pub handle: String,
    pub name: Option<String>,
    pub parent_id: Option<Uuid>,
}

/// An image: an upload (with its sizes) or an outside URL.
#[derive(Debug, Clone, Deserialize)]
pub struct Image {
    pub url: String,
    pub alt: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The sizes of an upload, smallest first.
    #[serde(default)]
    pub renditions: Vec<crate::Rendition>,
}

/// Where produce comes from.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Origin {
    pub country: Option<String>,
    pub province: Option<String>,
    pub place: Option<String>,
}

/// A product as buyers see it.
#[derive(Debug, Clone, Deserialize)]
pub struct Product {
    pub id: Uuid,
    pub handle: String,
    pub locale: String,
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub category_ids: Vec<Uuid>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub images: Vec<Image>,
    #[serde(default)]
    pub origin: Origin,
    pub producer: Option<String>,
    #[serde(default)]
    pub harvest_months: Vec<u32>,
    pub storage: Option<String>,
    pub shelf_life_days: Option<i32>,
    #[serde(default)]
    pub certifications: Vec<String>,
    pub variants: Vec<Variant>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// One way a product is sold.
#[derive(Debug, Clone, Deserialize)]
pub struct Variant {
    pub id: Uuid,
    pub sku: String,
    pub title: Option<String>,
    pub price: Option<Money>,
    pub compare_at_price: Option<Money>,
    pub in_stock: bool,
    pub unit: String,
    pub weight_grams: i32,
}

/// The product list's filters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProductQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_stock: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A cart with current prices and the problems of its lines.
#[derive(Debug, Clone, Deserialize)]
pub struct Cart {
    pub id: Uuid,
    pub token: Option<String>,
    pub currency: CurrencyCode,
    pub locale: String,
    pub customer: bool,
    pub lines: Vec<CartLine>,
    pub item_count: i64,
    pub subtotal: Money,
    pub ready: bool,
    pub total_weight_grams: i64,
    pub shipping_options: Option<Vec<ShippingOption>>,
    pub order_id: Option<Uuid>,
}

/// One line of a cart.
#[derive(Debug, Clone, Deserialize)]
pub struct CartLine {
    pub variant_id: Uuid,
    pub quantity: i32,
    pub handle: Option<String>,
    pub title: Option<String>,
    pub variant_title: Option<String>,
    pub sku: Option<String>,
    pub unit_price: Option<Money>,
    pub line_total: Option<Money>,
    pub available: Option<i32>,
    /// `unavailable`, `out_of_stock`, `insufficient_stock`, `not_sold_in_currency`.
    pub problem: Option<String>,
}

/// A way to ship a cart to its destination.
#[derive(Debug, Clone, Deserialize)]
pub struct ShippingOption {
    pub rate_id: Uuid,
    pub name: String,
    pub zone: String,
    pub price: Money,
}

/// A postal address.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Address {
    pub recipient: String,
    pub street: String,
    #[serde(default)]
    pub district: String,
    pub city: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub postal_code: String,
    pub country: String,
}

/// What a checkout sends.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutRequest {
    pub cart_id: Uuid,
    pub email: String,
    pub phone: String,
    pub shipping_address: Address,
    pub shipping_rate_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A group deal's checkout: at the group price, opening or joining a group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<crate::CheckoutGroup>,
    /// A harvest pre-order's checkout: its first payment is the deposit, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preorder: Option<crate::CheckoutPreorder>,
}

/// How a buyer pays.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum PaymentRequest {
    /// Bank transfer or cash on delivery.
    Manual,
    /// The test card gateway.
    Test { card_number: String },
}

/// An order as its buyer sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: Uuid,
    pub number: i64,
    pub name: String,
    /// `pending_payment`, `awaiting_group` (paid, waiting for its group to form),
    /// `preordered` (deposit or all paid, waiting for the harvest), `paid`, `partially_fulfilled`, `fulfilled`, `delivered`, `cancelled`,
    /// `expired`, `partially_refunded`, `refunded`.
    pub status: String,
    pub access_token: Option<String>,
    pub email: String,
    pub phone: String,
    pub locale: String,
    pub currency: CurrencyCode,
    pub lines: Vec<OrderLine>,
    pub subtotal: Money,
    pub shipping: Money,
    pub total: Money,
    pub paid: Money,
    pub refunded: Money,
    pub shipping_address: Address,
    pub shipping_rate: ChosenRate,
    pub note: Option<String>,
    pub payment_provider: Option<String>,
    #[serde(default)]
    pub payments: Vec<Payment>,
    #[serde(default)]
    pub fulfillments: Vec<Fulfilment>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The group of a group deal's order.
    #[serde(default)]
    pub group: Option<crate::OrderGroup>,
    /// The harvest of a pre-order.
    #[serde(default)]
    pub preorder: Option<crate::OrderPreorder>,
}

/// One line of an order, priced as it was ordered.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderLine {
    pub title: String,
    pub variant_title: String,
    pub sku: String,
    pub quantity: i32,
    pub unit_price: Money,
    pub line_total: Money,
}

/// The shipping rate chosen at checkout.
#[derive(Debug, Clone, Deserialize)]
pub struct ChosenRate {
    pub name: String,
    pub zone: String,
}

/// A payment or refund attempt.
#[derive(Debug, Clone, Deserialize)]
pub struct Payment {
    pub kind: String,
    pub provider: String,
    pub status: String,
    pub amount: Money,
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A shipment.
#[derive(Debug, Clone, Deserialize)]
pub struct Fulfilment {
    pub carrier: String,
    pub tracking_number: String,
    pub created_at: DateTime<Utc>,
}

/// An order in a buyer's history.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderSummary {
    pub id: Uuid,
    pub name: String,
    pub status: String,
    pub total: Money,
    pub created_at: DateTime<Utc>,
}

/// Access and refresh tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// The signed-in account.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub email_verified: bool,
}
