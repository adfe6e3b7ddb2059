//! Orders and their lines, order numbers and the monthly quota, and the writes
//! that move an order along (status, money, fulfilled quantities).

use super::{StoredCurrency, tenant_of};
use crate::domain::{OrderStatus, Transition};
use caravan_shared::db::statement;
use caravan_shared::domain::Currency;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use uuid::Uuid;

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
