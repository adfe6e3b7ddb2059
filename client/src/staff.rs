//! The calls a shop's staff make from the admin: orders, products and photos,
//! stock, and their own session. Each call is the public API's, with the staff
//! member's token.

use crate::{Api, Caller, Failure, Money, Page, Tokens};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Text in several languages: `{"zh-CN": "…", "ug": "…"}`.
pub type Localized = BTreeMap<String, String>;

/// A shop the account belongs to.
#[derive(Debug, Clone, Deserialize)]
pub struct Membership {
    pub tenant_id: Uuid,
    pub tenant_slug: String,
    /// `owner` or `staff`.
    pub role: String,
}

/// The signed-in account with its shops.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    #[serde(default)]
    pub platform_admin: bool,
    #[serde(default)]
    pub memberships: Vec<Membership>,
}

/// An order as the shop's staff see it.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopOrder {
    pub id: Uuid,
    pub number: i64,
    pub name: String,
    pub status: String,
    pub locale: String,
    pub email: String,
    pub phone: String,
    pub shipping_address: crate::Address,
    pub shipping_rate: crate::ChosenRate,
    pub note: Option<String>,
    pub lines: Vec<ShopOrderLine>,
    pub subtotal: Money,
    pub shipping: Money,
    pub total: Money,
    pub paid: Money,
    pub refunded: Money,
    pub payment_provider: Option<String>,
    #[serde(default)]
    pub payments: Vec<crate::Payment>,
    #[serde(default)]
    pub fulfillments: Vec<Shipment>,
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The group of a group deal's order.
    #[serde(default)]
    pub group: Option<crate::OrderGroup>,
    /// The harvest of a pre-order.
    #[serde(default)]
    pub preorder: Option<crate::OrderPreorder>,
}

/// One line of an order, with how much of it has shipped.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopOrderLine {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub sku: String,
    pub title: String,
    pub variant_title: String,
    pub unit_price: Money,
    pub quantity: i32,
    pub line_total: Money,
    pub weight_grams: i32,
    pub fulfilled_quantity: i32,
}

/// A shipment and the units in it.
#[derive(Debug, Clone, Deserialize)]
pub struct Shipment {
    pub id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
    #[serde(default)]
    pub lines: Vec<ShippedLine>,
    pub created_at: DateTime<Utc>,
}

/// Units of one line in a shipment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShippedLine {
    pub line_id: Uuid,
    pub quantity: i32,
}

/// An order in the shop's list.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopOrderItem {
    pub id: Uuid,
    pub number: i64,
    pub name: String,
    pub status: String,
    pub email: String,
    pub total: Money,
    pub created_at: DateTime<Utc>,
}

/// The order list's filters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrderFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One event in an order's life.
#[derive(Debug, Clone, Deserialize)]
pub struct TimelineEntry {
    pub actor: String,
    pub action: String,
    #[serde(default)]
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Sales in one currency.
#[derive(Debug, Clone, Deserialize)]
pub struct Sales {
    pub currency: String,
    pub orders: i64,
    pub gross: Money,
    pub refunded: Money,
    pub net: Money,
}

/// What the shop sold in a period, and what waits now.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderTotals {
    #[serde(default)]
    pub sales: Vec<Sales>,
    pub awaiting_payment: i64,
    pub to_ship: i64,
    pub placed: i64,
}

/// A product as the shop's staff edit it.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopProduct {
    pub id: Uuid,
    pub handle: String,
    #[serde(default)]
    pub title: Localized,
    #[serde(default)]
    pub description: Option<Localized>,
    pub status: String,
    #[serde(default)]
    pub category_ids: Vec<Uuid>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub images: Vec<ShopImage>,
    #[serde(default)]
    pub origin: Option<crate::Origin>,
    pub producer: Option<String>,
    #[serde(default)]
    pub harvest_months: Vec<i32>,
    pub shelf_life_days: Option<i32>,
    pub storage: Option<String>,
    #[serde(default)]
    pub certifications: Vec<String>,
    pub variants: Vec<ShopVariant>,
    pub updated_at: DateTime<Utc>,
}

/// A product's image: an upload (with its renditions) or an outside URL.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopImage {
    pub url: String,
    pub media_id: Option<Uuid>,
    pub alt: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    #[serde(default)]
    pub renditions: Vec<Rendition>,
}

/// One size of an uploaded image.
#[derive(Debug, Clone, Deserialize)]
pub struct Rendition {
    pub width: u32,
    pub height: u32,
    pub url: String,
}

/// An uploaded image.
#[derive(Debug, Clone, Deserialize)]
pub struct Media {
    pub id: Uuid,
    pub width: u32,
    pub height: u32,
    pub url: String,
    #[serde(default)]
    pub renditions: Vec<Rendition>,
}

/// A variant with its stock, as staff see it.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopVariant {
    pub id: Uuid,
    pub sku: String,
    #[serde(default)]
    pub title: Option<Localized>,
    pub unit: String,
    pub weight_grams: i32,
    #[serde(default)]
    pub prices: Vec<Money>,
    pub compare_at_price: Option<Money>,
    pub track_stock: bool,
    pub on_hand: i32,
    pub reserved: i32,
    pub available: i32,
    pub low_stock_threshold: i32,
}

/// The staff product list's filters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProductFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A variant's stock in the shop's stock list.
#[derive(Debug, Clone, Deserialize)]
pub struct StockItem {
    pub variant_id: Uuid,
    pub sku: String,
    #[serde(default)]
    pub variant_title: Option<Localized>,
    pub product_id: Uuid,
    #[serde(default)]
    pub product_title: Localized,
    pub track_stock: bool,
    pub on_hand: i32,
    pub reserved: i32,
    pub available: i32,
    pub low_stock_threshold: i32,
    pub low: bool,
}

/// The stock list's filters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StockFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_stock: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One entry of a variant's stock ledger.
#[derive(Debug, Clone, Deserialize)]
pub struct Movement {
    pub delta: i32,
    pub on_hand: i32,
    pub reason: String,
    pub note: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// A category as staff see it.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopCategory {
    pub id: Uuid,
    pub handle: String,
    #[serde(default)]
    pub name: Localized,
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub position: i32,
}

/// The answer to a CSV import: a report per row.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportReport {
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub updated: i64,
    #[serde(default)]
    pub failed: i64,
    #[serde(default)]
    pub rows: Vec<ImportRow>,
}

/// What happened to one row of an import.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportRow {
    pub line: i64,
    /// `created`, `updated` or `error`.
    pub outcome: String,
    #[serde(default)]
    pub handle: String,
    #[serde(default)]
    pub sku: String,
    #[serde(default)]
    pub errors: Vec<crate::FieldError>,
}

/// A file the API answered (a CSV export).
#[derive(Debug, Clone)]
pub struct Download {
    pub content_type: String,
    pub disposition: Option<String>,
    pub body: Vec<u8>,
}

impl Api {
    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        caller: Caller<'_>,
    ) -> Result<T, Failure> {
        Self::send(self.request(Method::GET, path, caller)).await
    }

    async fn send_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        caller: Caller<'_>,
        body: &B,
    ) -> Result<T, Failure> {
        Self::send(self.request(method, path, caller).json(body)).await
    }

    async fn download(&self, path: &str, caller: Caller<'_>) -> Result<Download, Failure> {
        let response = Self::answer(self.request(Method::GET, path, caller)).await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type").unwrap_or_else(|| "text/csv".to_owned());
        let disposition = header("content-disposition");
        let body = response
            .bytes()
            .await
            .map_err(|error| Failure::Unavailable(error.to_string()))?
            .to_vec();
        Ok(Download {
            content_type,
            disposition,
            body,
        })
    }

    // --- the staff member's session --------------------------------------------

    /// `POST /v1/auth/login` for a shop: `shop` names it when the account has
    /// several (the refusal's `choices` lists them).
    pub async fn staff_login(
        &self,
        caller: Caller<'_>,
        email: &str,
        password: &str,
        shop: Option<&str>,
    ) -> Result<Tokens, Failure> {
        let body = serde_json::json!({"email": email, "password": password, "tenant": shop});
        self.send_json(Method::POST, "/v1/auth/login", caller, &body)
            .await
    }

    /// `POST /v1/auth/switch`: the same session, acting in another shop.
    pub async fn switch_shop(
        &self,
        caller: Caller<'_>,
        refresh_token: &str,
        shop: &str,
    ) -> Result<Tokens, Failure> {
        let body = serde_json::json!({"refresh_token": refresh_token, "tenant": shop});
        self.send_json(Method::POST, "/v1/auth/switch", caller, &body)
            .await
    }

    /// `GET /v1/auth/me` with the account's shops.
    pub async fn account(&self, caller: Caller<'_>) -> Result<Account, Failure> {
        self.get_json("/v1/auth/me", caller).await
    }

    /// `POST /v1/auth/password/change`.
    pub async fn change_password(
        &self,
        caller: Caller<'_>,
        current: &str,
        new: &str,
    ) -> Result<(), Failure> {
        let body = serde_json::json!({"current_password": current, "new_password": new});
        Self::no_content(
            self.request(Method::POST, "/v1/auth/password/change", caller)
                .json(&body),
        )
        .await
    }

    // --- orders -------------------------------------------------------------------

    /// `GET /v1/orders`.
    pub async fn shop_orders(
        &self,
        caller: Caller<'_>,
        filter: &OrderFilter,
    ) -> Result<Page<ShopOrderItem>, Failure> {
        self.get_json(&Self::query("/v1/orders".to_owned(), filter), caller)
            .await
    }

    /// `GET /v1/orders/export`: the filtered orders as CSV.
    pub async fn export_orders(
        &self,
        caller: Caller<'_>,
        filter: &OrderFilter,
    ) -> Result<Download, Failure> {
        self.download(&Self::query("/v1/orders/export".to_owned(), filter), caller)
            .await
    }

    /// `GET /v1/orders/summary` for this month.
    pub async fn order_totals(&self, caller: Caller<'_>) -> Result<OrderTotals, Failure> {
        self.get_json("/v1/orders/summary", caller).await
    }

    /// `GET /v1/orders/{id}`.
    pub async fn shop_order(&self, caller: Caller<'_>, id: Uuid) -> Result<ShopOrder, Failure> {
        self.get_json(&format!("/v1/orders/{id}"), caller).await
    }

    /// `GET /v1/orders/{id}/timeline`.
    pub async fn order_timeline(
        &self,
        caller: Caller<'_>,
        id: Uuid,
    ) -> Result<Vec<TimelineEntry>, Failure> {
        self.every(&format!("/v1/orders/{id}/timeline"), &[], caller)
            .await
    }

    /// One of an order's actions: `mark-paid`, `fulfillments`, `deliver`, `cancel`
    /// or `refunds`, with its body.
    pub async fn order_action(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        action: OrderAction,
    ) -> Result<ShopOrder, Failure> {
        let (path, body) = match action {
            OrderAction::MarkPaid { reference } => {
                ("mark-paid", serde_json::json!({"reference": reference}))
            }
            OrderAction::Ship {
                carrier,
                tracking_number,
                lines,
            } => (
                "fulfillments",
                serde_json::json!({"carrier": carrier, "tracking_number": tracking_number, "lines": lines}),
            ),
            OrderAction::Deliver => ("deliver", serde_json::json!({})),
            OrderAction::Cancel { reason } => ("cancel", serde_json::json!({"reason": reason})),
            OrderAction::Refund { amount, reason } => (
                "refunds",
                serde_json::json!({"amount": amount, "reason": reason}),
            ),
        };
        self.send_json(
            Method::POST,
            &format!("/v1/orders/{id}/{path}"),
            caller,
            &body,
        )
        .await
    }

    // --- products and photos -----------------------------------------------------

    /// `GET /v1/products`.
    pub async fn shop_products(
        &self,
        caller: Caller<'_>,
        filter: &ProductFilter,
    ) -> Result<Page<ShopProduct>, Failure> {
        self.get_json(&Self::query("/v1/products".to_owned(), filter), caller)
            .await
    }

    /// `GET /v1/products/{id}`.
    pub async fn shop_product(&self, caller: Caller<'_>, id: Uuid) -> Result<ShopProduct, Failure> {
        self.get_json(&format!("/v1/products/{id}"), caller).await
    }

    /// `POST /v1/products`.
    pub async fn create_product(
        &self,
        caller: Caller<'_>,
        body: &serde_json::Value,
    ) -> Result<ShopProduct, Failure> {
        self.send_json(Method::POST, "/v1/products", caller, body)
            .await
    }

    /// `PATCH /v1/products/{id}`.
    pub async fn update_product(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        body: &serde_json::Value,
    ) -> Result<ShopProduct, Failure> {
        self.send_json(Method::PATCH, &format!("/v1/products/{id}"), caller, body)
            .await
    }

    /// `PATCH /v1/products/{id}/variants/{variant}`.
    pub async fn update_variant(
        &self,
        caller: Caller<'_>,
        product: Uuid,
        variant: Uuid,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Failure> {
        let path = format!("/v1/products/{product}/variants/{variant}");
        self.send_json(Method::PATCH, &path, caller, body).await
    }

    /// `POST /v1/products/{id}/variants`: a new variant with its first stock.
    pub async fn add_variant(
        &self,
        caller: Caller<'_>,
        product: Uuid,
        body: &serde_json::Value,
    ) -> Result<ShopProduct, Failure> {
        let path = format!("/v1/products/{product}/variants");
        self.send_json(Method::POST, &path, caller, body).await
    }

    /// `POST /v1/products/{id}/archive`.
    pub async fn archive_product(
        &self,
        caller: Caller<'_>,
        id: Uuid,
    ) -> Result<ShopProduct, Failure> {
        let path = format!("/v1/products/{id}/archive");
        self.send_json(Method::POST, &path, caller, &serde_json::json!({}))
            .await
    }

    /// `DELETE /v1/products/{id}` (drafts only).
    pub async fn delete_product(&self, caller: Caller<'_>, id: Uuid) -> Result<(), Failure> {
        Self::no_content(self.request(Method::DELETE, &format!("/v1/products/{id}"), caller)).await
    }

    /// `POST /v1/media`: an image, whatever its name says, as the renditions
    /// the catalog makes of it.
    pub async fn upload_image(&self, caller: Caller<'_>, bytes: Vec<u8>) -> Result<Media, Failure> {
        let builder = self
            .request(Method::POST, "/v1/media", caller)
            .header("content-type", "application/octet-stream")
            .body(bytes);
        Self::send(builder).await
    }

    /// `GET /v1/categories`.
    pub async fn shop_categories(&self, caller: Caller<'_>) -> Result<Vec<ShopCategory>, Failure> {
        self.every("/v1/categories", &[], caller).await
    }

    /// `POST /v1/categories`.
    pub async fn create_category(
        &self,
        caller: Caller<'_>,
        body: &serde_json::Value,
    ) -> Result<ShopCategory, Failure> {
        self.send_json(Method::POST, "/v1/categories", caller, body)
            .await
    }

    /// `PUT /v1/categories/{id}`.
    pub async fn update_category(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        body: &serde_json::Value,
    ) -> Result<ShopCategory, Failure> {
        self.send_json(Method::PUT, &format!("/v1/categories/{id}"), caller, body)
            .await
    }

    /// `DELETE /v1/categories/{id}`: one without subcategories; its products stay.
    pub async fn delete_category(&self, caller: Caller<'_>, id: Uuid) -> Result<(), Failure> {
        Self::no_content(self.request(Method::DELETE, &format!("/v1/categories/{id}"), caller))
            .await
    }

    /// `POST /v1/products/import`: a CSV file.
    pub async fn import_products(
        &self,
        caller: Caller<'_>,
        csv: Vec<u8>,
    ) -> Result<ImportReport, Failure> {
        let builder = self
            .request(Method::POST, "/v1/products/import", caller)
            .header("content-type", "text/csv")
            .body(csv);
        Self::send(builder).await
    }

    /// `GET /v1/products/export`.
    pub async fn export_products(&self, caller: Caller<'_>) -> Result<Download, Failure> {
        self.download("/v1/products/export", caller).await
    }

    // --- stock --------------------------------------------------------------------

    /// `GET /v1/inventory`.
    pub async fn stock(
        &self,
        caller: Caller<'_>,
        filter: &StockFilter,
    ) -> Result<Page<StockItem>, Failure> {
        self.get_json(&Self::query("/v1/inventory".to_owned(), filter), caller)
            .await
    }

    /// `POST /v1/inventory/adjustments`.
    pub async fn adjust_stock(
        &self,
        caller: Caller<'_>,
        variant: Uuid,
        delta: i32,
        reason: &str,
        note: Option<&str>,
    ) -> Result<ShopVariant, Failure> {
        let body = serde_json::json!({"variant_id": variant, "delta": delta, "reason": reason, "note": note});
        self.send_json(Method::POST, "/v1/inventory/adjustments", caller, &body)
            .await
    }

    /// `GET /v1/inventory/adjustments?variant_id=`: the ledger, newest first.
    pub async fn stock_ledger(
        &self,
        caller: Caller<'_>,
        variant: Uuid,
    ) -> Result<Vec<Movement>, Failure> {
        let path = format!("/v1/inventory/adjustments?variant_id={variant}&limit=50");
        let page: Page<Movement> = self.get_json(&path, caller).await?;
        Ok(page.items)
    }
}

/// What staff do to an order.
#[derive(Debug, Clone)]
pub enum OrderAction {
    MarkPaid {
        reference: Option<String>,
    },
    /// Ship `lines` (all that remain when `None`).
    Ship {
        carrier: String,
        tracking_number: String,
        lines: Option<Vec<ShippedLine>>,
    },
    Deliver,
    Cancel {
        reason: String,
    },
    /// Refund `amount` (all that was paid and not refunded when `None`).
    Refund {
        amount: Option<Money>,
        reason: Option<String>,
    },
}
