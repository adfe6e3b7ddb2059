//! Queries of the order database. Tenant-owned queries take a tenant scope:
//! row-level security shows one shop's rows, and the SQL names the shop too.

use crate::domain::shipping::{Rate, Zone};
use crate::domain::{AuthorisationStatus, OrderStatus, Transition};
use caravan_shared::TenantId;
use caravan_shared::domain::{Currency, Money};
use caravan_shared::tenancy::{PlatformScope, TenantScoped, TenantTx};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColIdx, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult, QueryResult,
    Statement, TryGetError, TryGetable, Value,
};
use uuid::Uuid;

fn statement(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

fn tenant_of(scope: &impl TenantScoped) -> Value {
    scope.tenant().into_uuid().into()
}

// ---- typed columns ----
//
// Statuses and currencies are read into their Rust types: a row holding a value
// Caravan does not know fails to read (the request answers 500 and the cause is
// logged), rather than passing for some other status or currency.

fn decode<T, I: ColIdx>(
    res: &QueryResult,
    index: I,
    what: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, TryGetError> {
    let raw = String::try_get_by(res, index)?;
    parse(&raw).ok_or_else(|| {
        TryGetError::DbErr(DbErr::Type(format!(
            "column {index:?} holds {raw:?}, which is not a known {what}"
        )))
    })
}

impl TryGetable for OrderStatus {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        decode(res, index, "order status", OrderStatus::parse)
    }
}

impl TryGetable for AuthorisationStatus {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        decode(
            res,
            index,
            "authorisation status",
            AuthorisationStatus::parse,
        )
    }
}

/// A stored currency code, read as the [`Currency`] it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoredCurrency(pub Currency);

impl TryGetable for StoredCurrency {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        decode(res, index, "currency", |raw| Currency::parse(raw).ok()).map(Self)
    }
}

// ---- shops (replica of the tenant service's facts) ----

/// What the order service knows of a shop.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ShopRow {
    pub tenant_id: Uuid,
    pub slug: String,
    pub name: String,
    pub owner_email: Option<String>,
    pub contact_email: Option<String>,
    pub base_currency: String,
    pub currencies: Vec<String>,
    pub default_locale: String,
    pub locales: Vec<String>,
}

/// Facts about a shop from a tenant event; absent ones are kept as they were.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ShopFacts {
    pub slug: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub owner_email: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
    #[serde(default)]
    pub base_currency: Option<String>,
    #[serde(default)]
    pub currencies: Option<Vec<String>>,
    #[serde(default)]
    pub default_locale: Option<String>,
    #[serde(default)]
    pub locales: Option<Vec<String>>,
}

/// Records a shop's facts, on a transaction scoped to the shop (row-level security
/// admits no other).
pub async fn record_shop<C: ConnectionTrait>(
    conn: &C,
    tenant: Uuid,
    facts: &ShopFacts,
) -> Result<(), DbErr> {
    conn.execute_raw(statement(
        "INSERT INTO shops (tenant_id, slug, name, owner_email, contact_email, base_currency, currencies, default_locale, locales) \
         VALUES ($1, $2, coalesce($3, ''), $4, $5, coalesce($6, 'CNY'), coalesce($7, '{CNY}'), coalesce($8, 'zh-CN'), coalesce($9, '{zh-CN}')) \
         ON CONFLICT (tenant_id) DO UPDATE SET slug = excluded.slug, \
             name = coalesce($3, shops.name), owner_email = coalesce($4, shops.owner_email), \
             contact_email = CASE WHEN $10 THEN $5 ELSE shops.contact_email END, \
             base_currency = coalesce($6, shops.base_currency), currencies = coalesce($7, shops.currencies), \
             default_locale = coalesce($8, shops.default_locale), locales = coalesce($9, shops.locales), \
             updated_at = now()",
        vec![
            tenant.into(),
            facts.slug.clone().into(),
            facts.name.clone().into(),
            facts.owner_email.clone().into(),
            facts.contact_email.clone().into(),
            facts.base_currency.clone().into(),
            facts.currencies.clone().into(),
            facts.default_locale.clone().into(),
            facts.locales.clone().into(),
            // Only events that carry the settings may clear the contact address.
            facts.base_currency.is_some().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// A shop's facts, if known and visible to `conn`: a transaction scoped to `tenant`
/// (elsewhere row-level security hides them, and the shop reads as unknown).
pub async fn shop<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
) -> Result<Option<ShopRow>, DbErr> {
    ShopRow::find_by_statement(statement(
        "SELECT tenant_id, slug, name, owner_email, contact_email, base_currency, currencies, default_locale, locales \
         FROM shops WHERE tenant_id = $1",
        vec![tenant.into_uuid().into()],
    ))
    .one(conn)
    .await
}

// ---- settings ----

/// A shop's checkout settings.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SettingsRow {
    pub payment_window_minutes: i32,
    pub bank_transfer_details: Option<String>,
    pub notify_email: Option<String>,
}

impl Default for SettingsRow {
    fn default() -> Self {
        Self {
            payment_window_minutes: 30,
            bank_transfer_details: None,
            notify_email: None,
        }
    }
}

/// The shop's checkout settings (defaults until changed).
pub async fn settings(scope: &impl TenantScoped) -> Result<SettingsRow, DbErr> {
    Ok(SettingsRow::find_by_statement(statement(
        "SELECT payment_window_minutes, bank_transfer_details, notify_email FROM order_settings WHERE tenant_id = $1",
        vec![tenant_of(scope)],
    ))
    .one(scope.conn())
    .await?
    .unwrap_or_default())
}

/// Saves the shop's checkout settings.
pub async fn save_settings(scope: &impl TenantScoped, settings: &SettingsRow) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO order_settings (tenant_id, payment_window_minutes, bank_transfer_details, notify_email) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET \
             payment_window_minutes = $2, bank_transfer_details = $3, notify_email = $4, updated_at = now()",
            vec![
                tenant_of(scope),
                settings.payment_window_minutes.into(),
                settings.bank_transfer_details.clone().into(),
                settings.notify_email.clone().into(),
            ],
        ))
        .await?;
    Ok(())
}

// ---- shipping zones ----

#[derive(Debug, FromQueryResult)]
struct ZoneRow {
    id: Uuid,
    name: String,
    countries: Vec<String>,
    provinces: Vec<String>,
    currency: StoredCurrency,
    free_shipping_threshold: Option<i64>,
}

#[derive(Debug, FromQueryResult)]
struct RateRow {
    id: Uuid,
    zone_id: Uuid,
    name: String,
    min_weight_grams: i32,
    max_weight_grams: Option<i32>,
    price: i64,
}

/// Stores a zone (new, or replacing one with the same id).
pub async fn save_zone(scope: &impl TenantScoped, zone: &Zone) -> Result<(), DbErr> {
    let tenant = tenant_of(scope);
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO shipping_zones (id, tenant_id, name, countries, provinces, currency, free_shipping_threshold) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET name = $3, countries = $4, \
             provinces = $5, currency = $6, free_shipping_threshold = $7, updated_at = now()",
            vec![
                zone.id.into(),
                tenant.clone(),
                zone.name.clone().into(),
                zone.countries.clone().into(),
                zone.provinces.clone().into(),
                zone.currency.as_str().into(),
                zone.free_shipping_threshold.map(|m| m.amount).into(),
            ],
        ))
        .await?;
    scope
        .conn()
        .execute_raw(statement(
            "DELETE FROM shipping_rates WHERE tenant_id = $1 AND zone_id = $2",
            vec![tenant.clone(), zone.id.into()],
        ))
        .await?;
    for (position, rate) in zone.rates.iter().enumerate() {
        scope
            .conn()
            .execute_raw(statement(
                "INSERT INTO shipping_rates (id, tenant_id, zone_id, name, min_weight_grams, max_weight_grams, price, position) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    rate.id.into(),
                    tenant.clone(),
                    zone.id.into(),
                    rate.name.clone().into(),
                    rate.min_weight_grams.into(),
                    rate.max_weight_grams.into(),
                    rate.price.amount.into(),
                    i32::try_from(position).unwrap_or(i32::MAX).into(),
                ],
            ))
            .await?;
    }
    Ok(())
}

/// The shop's zones, oldest first.
pub async fn zones(scope: &impl TenantScoped) -> Result<Vec<Zone>, DbErr> {
    let zones = ZoneRow::find_by_statement(statement(
        "SELECT id, name, countries, provinces, currency, free_shipping_threshold FROM shipping_zones \
         WHERE tenant_id = $1 ORDER BY id",
        vec![tenant_of(scope)],
    ))
    .all(scope.conn())
    .await?;
    let rates = RateRow::find_by_statement(statement(
        "SELECT id, zone_id, name, min_weight_grams, max_weight_grams, price FROM shipping_rates \
         WHERE tenant_id = $1 ORDER BY zone_id, position",
        vec![tenant_of(scope)],
    ))
    .all(scope.conn())
    .await?;
    let mut result = Vec::with_capacity(zones.len());
    for row in zones {
        let currency = row.currency.0;
        result.push(Zone {
            id: row.id,
            name: row.name,
            countries: row.countries,
            provinces: row.provinces,
            currency,
            free_shipping_threshold: row
                .free_shipping_threshold
                .map(|amount| Money::new(amount, currency)),
            rates: rates
                .iter()
                .filter(|rate| rate.zone_id == row.id)
                .map(|rate| Rate {
                    id: rate.id,
                    name: rate.name.clone(),
                    min_weight_grams: rate.min_weight_grams,
                    max_weight_grams: rate.max_weight_grams,
                    price: Money::new(rate.price, currency),
                })
                .collect(),
        });
    }
    Ok(result)
}

/// Deletes a zone; answers whether it existed.
pub async fn delete_zone(scope: &impl TenantScoped, id: Uuid) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "DELETE FROM shipping_zones WHERE tenant_id = $1 AND id = $2",
            vec![tenant_of(scope), id.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

// ---- carts ----

/// A cart.
#[derive(Debug, Clone, FromQueryResult)]
pub struct CartRow {
    pub id: Uuid,
    pub token_hash: String,
    pub customer_id: Option<String>,
    pub currency: StoredCurrency,
    pub locale: String,
    pub order_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A cart line.
#[derive(Debug, Clone, FromQueryResult)]
pub struct CartLineRow {
    pub variant_id: Uuid,
    pub quantity: i32,
}

/// Creates a cart.
pub async fn insert_cart(
    scope: &impl TenantScoped,
    id: Uuid,
    token_hash: &str,
    customer: Option<&str>,
    currency: Currency,
    locale: &str,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO carts (id, tenant_id, token_hash, customer_id, currency, locale) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                id.into(),
                tenant_of(scope),
                token_hash.into(),
                customer.map(str::to_owned).into(),
                currency.as_str().into(),
                locale.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// A cart; `lock` holds it until the transaction ends.
pub async fn cart(
    scope: &impl TenantScoped,
    id: Uuid,
    lock: bool,
) -> Result<Option<CartRow>, DbErr> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    CartRow::find_by_statement(statement(
        &format!(
            "SELECT id, token_hash, customer_id, currency, locale, order_id, created_at, updated_at \
             FROM carts WHERE tenant_id = $1 AND id = $2{suffix}"
        ),
        vec![tenant_of(scope), id.into()],
    ))
    .one(scope.conn())
    .await
}

/// A cart's lines, in the order they were added.
pub async fn cart_lines(scope: &impl TenantScoped, cart: Uuid) -> Result<Vec<CartLineRow>, DbErr> {
    CartLineRow::find_by_statement(statement(
        "SELECT variant_id, quantity FROM cart_lines WHERE tenant_id = $1 AND cart_id = $2 ORDER BY added_at, variant_id",
        vec![tenant_of(scope), cart.into()],
    ))
    .all(scope.conn())
    .await
}

/// Sets a line's quantity (`add`: adds to what is there); answers the new quantity.
pub async fn put_line(
    scope: &impl TenantScoped,
    cart: Uuid,
    variant: Uuid,
    quantity: i32,
    add: bool,
) -> Result<i32, DbErr> {
    let sql = if add {
        "INSERT INTO cart_lines (cart_id, tenant_id, variant_id, quantity) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = least(cart_lines.quantity + $4, 10000) RETURNING quantity"
    } else {
        "INSERT INTO cart_lines (cart_id, tenant_id, variant_id, quantity) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = $4 RETURNING quantity"
    };
    let row = scope
        .conn()
        .query_one_raw(statement(
            sql,
            vec![
                cart.into(),
                tenant_of(scope),
                variant.into(),
                quantity.into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotInserted)?;
    touch_cart(scope, cart).await?;
    row.try_get("", "quantity")
}

/// Removes a line; answers whether it was there.
pub async fn remove_line(
    scope: &impl TenantScoped,
    cart: Uuid,
    variant: Uuid,
) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "DELETE FROM cart_lines WHERE tenant_id = $1 AND cart_id = $2 AND variant_id = $3",
            vec![tenant_of(scope), cart.into(), variant.into()],
        ))
        .await?;
    touch_cart(scope, cart).await?;
    Ok(result.rows_affected() == 1)
}

async fn touch_cart(scope: &impl TenantScoped, cart: Uuid) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE carts SET updated_at = now() WHERE tenant_id = $1 AND id = $2",
            vec![tenant_of(scope), cart.into()],
        ))
        .await?;
    Ok(())
}

/// Marks a cart as turned into `order`.
pub async fn close_cart(scope: &impl TenantScoped, cart: Uuid, order: Uuid) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE carts SET order_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
            vec![tenant_of(scope), cart.into(), order.into()],
        ))
        .await?;
    Ok(())
}

// ---- order numbers, quotas, deadlines ----

/// The shop's next order number. The counter row stays locked until the
/// transaction ends, so numbers are handed out one at a time and a rollback gives
/// the number back: no gaps, no duplicates.
pub async fn next_number(scope: &impl TenantScoped) -> Result<i64, DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO order_counters (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING",
            vec![tenant_of(scope)],
        ))
        .await?;
    let row = scope
        .conn()
        .query_one_raw(statement(
            "UPDATE order_counters SET last_number = last_number + 1 WHERE tenant_id = $1 RETURNING last_number",
            vec![tenant_of(scope)],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("order counter".into()))?;
    row.try_get("", "last_number")
}

/// Orders placed since the start of the current calendar month (UTC).
pub async fn orders_this_month(scope: &impl TenantScoped) -> Result<i64, DbErr> {
    let row = scope
        .conn()
        .query_one_raw(statement(
            "SELECT count(*) AS placed FROM orders WHERE tenant_id = $1 \
             AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
            vec![tenant_of(scope)],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("count".into()))?;
    row.try_get("", "placed")
}

/// Records when `order`'s held stock must be settled by, in a transaction of the
/// shop's own on `db` (outside any transaction of the order, so it survives the
/// checkout failing).
pub async fn set_deadline(
    db: &DatabaseConnection,
    tenant: TenantId,
    order: Uuid,
    due_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let tx = TenantTx::begin(db, tenant).await?;
    tx.conn()
        .execute_raw(statement(
            "INSERT INTO order_deadlines (order_id, tenant_id, due_at) VALUES ($1, $2, $3) \
             ON CONFLICT (order_id) DO UPDATE SET due_at = $3",
            vec![order.into(), tenant.into_uuid().into(), due_at.into()],
        ))
        .await?;
    tx.commit().await
}

/// Forgets an order's deadline in a transaction of the shop's own on `db` (the
/// checkout that set it failed before the order was written).
pub async fn forget_deadline(
    db: &DatabaseConnection,
    tenant: TenantId,
    order: Uuid,
) -> Result<(), DbErr> {
    let tx = TenantTx::begin(db, tenant).await?;
    clear_deadline(tx.conn(), order).await?;
    tx.commit().await
}

/// Forgets an order's deadline (it was paid, cancelled, expired or never placed), on
/// a transaction scoped to the order's shop.
pub async fn clear_deadline<C: ConnectionTrait>(conn: &C, order: Uuid) -> Result<(), DbErr> {
    conn.execute_raw(statement(
        "DELETE FROM order_deadlines WHERE order_id = $1",
        vec![order.into()],
    ))
    .await?;
    Ok(())
}

/// A deadline that has passed.
#[derive(Debug, Clone, FromQueryResult)]
pub struct DueDeadline {
    pub order_id: Uuid,
    pub tenant_id: Uuid,
}

/// The next passed deadline of any shop that nobody else is working on, locked until
/// the transaction ends: a platform-scope query.
pub async fn next_due(scope: &PlatformScope<'_>) -> Result<Option<DueDeadline>, DbErr> {
    DueDeadline::find_by_statement(statement(
        "SELECT order_id, tenant_id FROM order_deadlines WHERE due_at <= now() \
         ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        vec![],
    ))
    .one(scope.conn())
    .await
}

// ---- orders ----

/// An order.
#[derive(Debug, Clone, FromQueryResult)]
pub struct OrderRow {
    pub id: Uuid,
    pub number: i64,
    pub status: OrderStatus,
    pub currency: StoredCurrency,
    pub locale: String,
    pub email: String,
    pub phone: String,
    pub customer_id: Option<String>,
    pub cart_id: Uuid,
    pub shipping_address: serde_json::Value,
    pub shipping_rate: serde_json::Value,
    pub note: Option<String>,
    pub subtotal: i64,
    pub shipping: i64,
    pub total: i64,
    pub paid: i64,
    pub refunded: i64,
    pub access_token_hash: String,
    pub payment_provider: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ORDER: &str = "id, number, status, currency, locale, email, phone, customer_id, cart_id, shipping_address, \
    shipping_rate, note, subtotal, shipping, total, paid, refunded, access_token_hash, payment_provider, expires_at, \
    paid_at, cancelled_at, cancel_reason, created_at, updated_at";

/// An order line.
#[derive(Debug, Clone, FromQueryResult)]
pub struct OrderLineRow {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_title: serde_json::Value,
    pub variant_title: serde_json::Value,
    pub unit_price: i64,
    pub quantity: i32,
    pub line_total: i64,
    pub weight_grams: i32,
    pub fulfilled_quantity: i32,
}

/// An order to store.
pub struct NewOrder {
    pub id: Uuid,
    pub number: i64,
    pub currency: Currency,
    pub locale: String,
    pub email: String,
    pub phone: String,
    pub customer_id: Option<String>,
    pub cart_id: Uuid,
    pub shipping_address: serde_json::Value,
    pub shipping_rate: serde_json::Value,
    pub note: Option<String>,
    pub subtotal: i64,
    pub shipping: i64,
    pub total: i64,
    pub access_token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub lines: Vec<NewLine>,
}

/// A line to store.
pub struct NewLine {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_title: serde_json::Value,
    pub variant_title: serde_json::Value,
    pub unit_price: i64,
    pub quantity: i32,
    pub line_total: i64,
    pub weight_grams: i32,
}

/// Stores an order and its lines.
pub async fn insert_order(scope: &impl TenantScoped, order: &NewOrder) -> Result<(), DbErr> {
    let tenant = tenant_of(scope);
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO orders (id, tenant_id, number, status, currency, locale, email, phone, customer_id, cart_id, \
             shipping_address, shipping_rate, note, subtotal, shipping, total, access_token_hash, expires_at) \
             VALUES ($1, $2, $3, $18, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            vec![
                order.id.into(),
                tenant.clone(),
                order.number.into(),
                order.currency.as_str().into(),
                order.locale.clone().into(),
                order.email.clone().into(),
                order.phone.clone().into(),
                order.customer_id.clone().into(),
                order.cart_id.into(),
                order.shipping_address.clone().into(),
                order.shipping_rate.clone().into(),
                order.note.clone().into(),
                order.subtotal.into(),
                order.shipping.into(),
                order.total.into(),
                order.access_token_hash.clone().into(),
                order.expires_at.into(),
                // Where every order starts.
                OrderStatus::PendingPayment.as_str().into(),
            ],
        ))
        .await?;
    for (position, line) in order.lines.iter().enumerate() {
        scope
            .conn()
            .execute_raw(statement(
                "INSERT INTO order_lines (id, tenant_id, order_id, position, variant_id, product_id, sku, product_title, \
                 variant_title, unit_price, quantity, line_total, weight_grams) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                vec![
                    Uuid::now_v7().into(),
                    tenant.clone(),
                    order.id.into(),
                    i32::try_from(position).unwrap_or(i32::MAX).into(),
                    line.variant_id.into(),
                    line.product_id.into(),
                    line.sku.clone().into(),
                    line.product_title.clone().into(),
                    line.variant_title.clone().into(),
                    line.unit_price.into(),
                    line.quantity.into(),
                    line.line_total.into(),
                    line.weight_grams.into(),
                ],
            ))
            .await?;
    }
    Ok(())
}

/// An order; `lock` holds it until the transaction ends (every change of status
/// locks first, so two changes of one order take turns).
pub async fn order(
    scope: &impl TenantScoped,
    id: Uuid,
    lock: bool,
) -> Result<Option<OrderRow>, DbErr> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    OrderRow::find_by_statement(statement(
        &format!("SELECT {ORDER} FROM orders WHERE tenant_id = $1 AND id = $2{suffix}"),
        vec![tenant_of(scope), id.into()],
    ))
    .one(scope.conn())
    .await
}

/// An order's lines.
pub async fn order_lines(
    scope: &impl TenantScoped,
    order: Uuid,
) -> Result<Vec<OrderLineRow>, DbErr> {
    OrderLineRow::find_by_statement(statement(
        "SELECT id, variant_id, product_id, sku, product_title, variant_title, unit_price, quantity, line_total, \
         weight_grams, fulfilled_quantity FROM order_lines WHERE tenant_id = $1 AND order_id = $2 ORDER BY position",
        vec![tenant_of(scope), order.into()],
    ))
    .all(scope.conn())
    .await
}

/// Filters of the staff's order list.
#[derive(Debug, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Matches the number (`1001` or `#1001`) or part of the email.
    pub text: Option<String>,
    pub customer: Option<String>,
    /// Newest first: orders placed before this (created_at, id).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u64,
}

/// Orders, newest first.
pub async fn list_orders(
    scope: &impl TenantScoped,
    filter: &OrderFilter,
) -> Result<Vec<OrderRow>, DbErr> {
    let mut sql = format!("SELECT {ORDER} FROM orders WHERE tenant_id = $1");
    let mut values: Vec<Value> = vec![tenant_of(scope)];
    let mut push = |clause: &str, value: Value, values: &mut Vec<Value>| {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", values.len())));
    };
    if let Some(status) = &filter.status {
        push(" AND status = ?", status.as_str().into(), &mut values);
    }
    if let Some(from) = filter.from {
        push(" AND created_at >= ?", from.into(), &mut values);
    }
    if let Some(to) = filter.to {
        push(" AND created_at < ?", to.into(), &mut values);
    }
    if let Some(customer) = &filter.customer {
        push(" AND customer_id = ?", customer.clone().into(), &mut values);
    }
    if let Some(text) = &filter.text {
        let digits = text.trim_start_matches('#');
        match digits.parse::<i64>() {
            Ok(number) => push(" AND number = ?", number.into(), &mut values),
            Err(_) => {
                push(
                    " AND lower(email) LIKE ?",
                    caravan_shared::db::contains_pattern(&text.to_lowercase()).into(),
                    &mut values,
                );
            }
        }
    }
    if let Some((at, id)) = filter.before {
        values.push(at.into());
        values.push(id.into());
        let n = values.len();
        sql.push_str(&format!(" AND (created_at, id) < (${}, ${n})", n - 1));
    }
    sql.push_str(&format!(
        " ORDER BY created_at DESC, id DESC LIMIT {}",
        filter.limit
    ));
    OrderRow::find_by_statement(statement(&sql, values))
        .all(scope.conn())
        .await
}

/// Sales of one currency in a window.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SalesRow {
    pub currency: StoredCurrency,
    pub orders: i64,
    pub gross: i64,
    pub refunded: i64,
}

/// Orders placed in `[from, to)` that were paid (whatever happened after: shipped,
/// delivered, refunded, cancelled and refunded), per currency. An order is paid
/// once `paid_at` is set, which happens only as it moves to `paid`; orders
/// cancelled or expired before payment never have it.
pub async fn sales(
    scope: &impl TenantScoped,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SalesRow>, DbErr> {
    SalesRow::find_by_statement(statement(
        "SELECT currency, count(*) AS orders, coalesce(sum(total), 0)::bigint AS gross, \
         coalesce(sum(refunded), 0)::bigint AS refunded FROM orders \
         WHERE tenant_id = $1 AND paid_at IS NOT NULL AND created_at >= $2 AND created_at < $3 \
         GROUP BY currency ORDER BY currency",
        vec![tenant_of(scope), from.into(), to.into()],
    ))
    .all(scope.conn())
    .await
}

/// What needs the shop's attention now, and how many orders a window holds.
#[derive(Debug, Clone, FromQueryResult)]
pub struct WorkloadRow {
    /// Waiting for money now.
    pub awaiting_payment: i64,
    /// Paid, not called off, with units still to ship now.
    pub to_ship: i64,
    /// Placed in the window, whatever became of them.
    pub placed: i64,
}

/// The shop's current workload and the orders placed in `[from, to)`.
pub async fn workload(
    scope: &impl TenantScoped,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<WorkloadRow, DbErr> {
    // `to_ship` names the statuses from which the state machine allows a shipment;
    // a partially refunded order may have shipped everything already, hence the
    // look at its lines.
    WorkloadRow::find_by_statement(statement(
        "SELECT \
           count(*) FILTER (WHERE o.status = 'pending_payment') AS awaiting_payment, \
           count(*) FILTER (WHERE o.status IN ('paid', 'partially_fulfilled', 'partially_refunded') \
             AND EXISTS (SELECT 1 FROM order_lines l WHERE l.tenant_id = o.tenant_id \
               AND l.order_id = o.id AND l.fulfilled_quantity < l.quantity)) AS to_ship, \
           count(*) FILTER (WHERE o.created_at >= $2 AND o.created_at < $3) AS placed \
         FROM orders o WHERE o.tenant_id = $1",
        vec![tenant_of(scope), from.into(), to.into()],
    ))
    .one(scope.conn())
    .await?
    .ok_or_else(|| DbErr::RecordNotFound("workload".into()))
}

/// A line as the export writes it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ExportLineRow {
    pub order_id: Uuid,
    pub sku: String,
    pub quantity: i32,
}

/// The lines of `orders`, each order's in its own order.
pub async fn lines_of(
    scope: &impl TenantScoped,
    orders: &[Uuid],
) -> Result<Vec<ExportLineRow>, DbErr> {
    ExportLineRow::find_by_statement(statement(
        "SELECT order_id, sku, quantity FROM order_lines WHERE tenant_id = $1 AND order_id = ANY($2) \
         ORDER BY order_id, position",
        vec![tenant_of(scope), orders.to_vec().into()],
    ))
    .all(scope.conn())
    .await
}

/// A shipment as the export writes it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ExportShipmentRow {
    pub order_id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
}

/// The shipments of `orders`, oldest first.
pub async fn shipments_of(
    scope: &impl TenantScoped,
    orders: &[Uuid],
) -> Result<Vec<ExportShipmentRow>, DbErr> {
    ExportShipmentRow::find_by_statement(statement(
        "SELECT order_id, carrier, tracking_number FROM fulfillments WHERE tenant_id = $1 AND order_id = ANY($2) \
         ORDER BY order_id, created_at, id",
        vec![tenant_of(scope), orders.to_vec().into()],
    ))
    .all(scope.conn())
    .await
}

/// Moves an order's status as the state machine allowed ([`Transition`], only made
/// by [`OrderStatus::apply`]). The row must still be in the move's `from` status;
/// anything else is an error and writes nothing.
pub async fn set_status(
    scope: &impl TenantScoped,
    order: Uuid,
    transition: Transition,
) -> Result<(), DbErr> {
    let (from, to) = (transition.from(), transition.to());
    let result = scope
        .conn()
        .execute_raw(statement(
            "UPDATE orders SET status = $4, updated_at = now(), \
             paid_at = CASE WHEN $4 = 'paid' THEN now() ELSE paid_at END, \
             cancelled_at = CASE WHEN $4 IN ('cancelled', 'expired') THEN now() ELSE cancelled_at END \
             WHERE tenant_id = $1 AND id = $2 AND status = $3",
            vec![
                tenant_of(scope),
                order.into(),
                from.as_str().into(),
                to.as_str().into(),
            ],
        ))
        .await?;
    if result.rows_affected() != 1 {
        return Err(DbErr::Custom(format!(
            "order {order} was not {from}, so it was not moved to {to}"
        )));
    }
    Ok(())
}

/// Adds to the money an order has received and returned.
pub async fn add_money(
    scope: &impl TenantScoped,
    order: Uuid,
    paid: i64,
    refunded: i64,
    provider: Option<&str>,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE orders SET paid = paid + $3, refunded = refunded + $4, \
             payment_provider = coalesce($5, payment_provider), updated_at = now() \
             WHERE tenant_id = $1 AND id = $2",
            vec![
                tenant_of(scope),
                order.into(),
                paid.into(),
                refunded.into(),
                provider.map(str::to_owned).into(),
            ],
        ))
        .await?;
    Ok(())
}

/// Records why an order was cancelled.
pub async fn set_cancel_reason(
    scope: &impl TenantScoped,
    order: Uuid,
    reason: &str,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE orders SET cancel_reason = $3 WHERE tenant_id = $1 AND id = $2",
            vec![tenant_of(scope), order.into(), reason.into()],
        ))
        .await?;
    Ok(())
}

/// Adds shipped units to a line.
pub async fn fulfil_line(
    scope: &impl TenantScoped,
    line: Uuid,
    quantity: i32,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE order_lines SET fulfilled_quantity = fulfilled_quantity + $3 WHERE tenant_id = $1 AND id = $2",
            vec![tenant_of(scope), line.into(), quantity.into()],
        ))
        .await?;
    Ok(())
}

// ---- payments, fulfilments, timeline ----

/// A payment or refund.
#[derive(Debug, Clone, FromQueryResult)]
pub struct PaymentRow {
    pub id: Uuid,
    pub provider: String,
    pub kind: String,
    pub status: String,
    pub amount: i64,
    pub reference: Option<String>,
    pub detail: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// A payment or refund to record.
pub struct NewPayment<'a> {
    pub provider: &'a str,
    pub kind: &'a str,
    pub status: &'a str,
    pub amount: i64,
    pub reference: Option<String>,
    pub detail: Option<String>,
    pub actor: &'a str,
}

/// Records a payment or refund.
pub async fn insert_payment(
    scope: &impl TenantScoped,
    order: Uuid,
    payment: &NewPayment<'_>,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO payments (id, tenant_id, order_id, provider, kind, status, amount, reference, detail, actor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                Uuid::now_v7().into(),
                tenant_of(scope),
                order.into(),
                payment.provider.into(),
                payment.kind.into(),
                payment.status.into(),
                payment.amount.into(),
                payment.reference.clone().into(),
                payment.detail.clone().into(),
                payment.actor.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// An order's payments and refunds, oldest first.
pub async fn payments(scope: &impl TenantScoped, order: Uuid) -> Result<Vec<PaymentRow>, DbErr> {
    PaymentRow::find_by_statement(statement(
        "SELECT id, provider, kind, status, amount, reference, detail, actor, created_at FROM payments \
         WHERE tenant_id = $1 AND order_id = $2 ORDER BY created_at, id",
        vec![tenant_of(scope), order.into()],
    ))
    .all(scope.conn())
    .await
}

/// A card gateway's authorisation of an order's payment.
#[derive(Debug, Clone, FromQueryResult)]
pub struct AuthorisationRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub provider: String,
    pub reference: String,
    pub amount: i64,
    pub currency: StoredCurrency,
    pub status: AuthorisationStatus,
    pub created_at: DateTime<Utc>,
}

const AUTHORISATION: &str =
    "id, order_id, provider, reference, amount, currency, status, created_at";

/// Records an authorisation a gateway is about to be asked for, `requested` until
/// its answer is recorded. At most one of an order's authorisations is `requested`
/// at a time (a unique index): of two payments racing, one is refused.
pub async fn insert_authorisation(
    scope: &impl TenantScoped,
    order: Uuid,
    provider: &str,
    reference: &str,
    amount: Money,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO payment_authorisations (id, tenant_id, order_id, provider, reference, amount, currency, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested')",
            vec![
                id.into(),
                tenant_of(scope),
                order.into(),
                provider.into(),
                reference.into(),
                amount.amount.into(),
                amount.currency.as_str().into(),
            ],
        ))
        .await?;
    Ok(id)
}

/// The authorisation `provider` knows as `reference`, locked until the transaction
/// ends.
pub async fn authorisation(
    scope: &impl TenantScoped,
    provider: &str,
    reference: &str,
) -> Result<Option<AuthorisationRow>, DbErr> {
    AuthorisationRow::find_by_statement(statement(
        &format!(
            "SELECT {AUTHORISATION} FROM payment_authorisations \
             WHERE tenant_id = $1 AND provider = $2 AND reference = $3 FOR UPDATE"
        ),
        vec![tenant_of(scope), provider.into(), reference.into()],
    ))
    .one(scope.conn())
    .await
}

/// The authorisation `id`, locked until the transaction ends.
pub async fn authorisation_by_id(
    scope: &impl TenantScoped,
    id: Uuid,
) -> Result<Option<AuthorisationRow>, DbErr> {
    AuthorisationRow::find_by_statement(statement(
        &format!(
            "SELECT {AUTHORISATION} FROM payment_authorisations \
             WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
        ),
        vec![tenant_of(scope), id.into()],
    ))
    .one(scope.conn())
    .await
}

/// The order's authorisation whose gateway is being asked now (`requested`), if any.
pub async fn requested_authorisation(
    scope: &impl TenantScoped,
    order: Uuid,
) -> Result<Option<AuthorisationRow>, DbErr> {
    AuthorisationRow::find_by_statement(statement(
        &format!(
            "SELECT {AUTHORISATION} FROM payment_authorisations \
             WHERE tenant_id = $1 AND order_id = $2 AND status = 'requested' FOR UPDATE"
        ),
        vec![tenant_of(scope), order.into()],
    ))
    .one(scope.conn())
    .await
}

/// Settles an open authorisation from `from` to `to`; answers whether it was still
/// `from`. Only a row still in `from` changes, so of two settlements racing, one
/// wins.
pub async fn settle_authorisation(
    scope: &impl TenantScoped,
    id: Uuid,
    from: AuthorisationStatus,
    to: AuthorisationStatus,
) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "UPDATE payment_authorisations SET status = $4, updated_at = now() \
             WHERE tenant_id = $1 AND id = $2 AND status = $3",
            vec![
                tenant_of(scope),
                id.into(),
                from.as_str().into(),
                to.as_str().into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Voids an order's open authorisations, requested or pending (the order was paid
/// otherwise, or will never be); answers how many. A gateway's later answer about
/// one of them can no longer pay the order.
pub async fn void_authorisations(scope: &impl TenantScoped, order: Uuid) -> Result<u64, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "UPDATE payment_authorisations SET status = 'voided', updated_at = now() \
             WHERE tenant_id = $1 AND order_id = $2 AND status IN ('requested', 'pending')",
            vec![tenant_of(scope), order.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}

/// A shipment.
#[derive(Debug, Clone, FromQueryResult)]
pub struct FulfillmentRow {
    pub id: Uuid,
    pub carrier: String,
    pub tracking_number: String,
    pub lines: serde_json::Value,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// Records a shipment.
pub async fn insert_fulfillment(
    scope: &impl TenantScoped,
    order: Uuid,
    carrier: &str,
    tracking_number: &str,
    lines: &serde_json::Value,
    actor: &str,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO fulfillments (id, tenant_id, order_id, carrier, tracking_number, lines, actor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                id.into(),
                tenant_of(scope),
                order.into(),
                carrier.into(),
                tracking_number.into(),
                lines.clone().into(),
                actor.into(),
            ],
        ))
        .await?;
    Ok(id)
}

/// An order's shipments, oldest first.
pub async fn fulfillments(
    scope: &impl TenantScoped,
    order: Uuid,
) -> Result<Vec<FulfillmentRow>, DbErr> {
    FulfillmentRow::find_by_statement(statement(
        "SELECT id, carrier, tracking_number, lines, actor, created_at FROM fulfillments \
         WHERE tenant_id = $1 AND order_id = $2 ORDER BY created_at, id",
        vec![tenant_of(scope), order.into()],
    ))
    .all(scope.conn())
    .await
}

/// An entry of an order's timeline.
#[derive(Debug, Clone, FromQueryResult)]
pub struct TimelineRow {
    pub id: Uuid,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Notes who did what to an order.
pub async fn note(
    scope: &impl TenantScoped,
    order: Uuid,
    actor: &str,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO order_timeline (id, tenant_id, order_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Uuid::now_v7().into(),
                tenant_of(scope),
                order.into(),
                actor.into(),
                action.into(),
                detail.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// An order's timeline, oldest first.
pub async fn timeline(scope: &impl TenantScoped, order: Uuid) -> Result<Vec<TimelineRow>, DbErr> {
    TimelineRow::find_by_statement(statement(
        "SELECT id, actor, action, detail, created_at FROM order_timeline WHERE tenant_id = $1 AND order_id = $2 ORDER BY id",
        vec![tenant_of(scope), order.into()],
    ))
    .all(scope.conn())
    .await
}
