//! Orders and their lines, order numbers and the monthly quota, and the writes
//! that move an order along (status, money, fulfilled quantities).

use super::entities::{order_lines, orders};
use super::{newest_first, tenant_of};
use crate::domain::{OrderStatus, Transition};
use caravan_shared::db::statement;
use caravan_shared::domain::Currency;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};
use uuid::Uuid;

/// An order.
pub type OrderRow = orders::Model;

/// An order line.
pub type OrderLineRow = order_lines::Model;

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
    /// The group of a group-deal order.
    pub group_id: Option<Uuid>,
    /// The campaign of a pre-order, and its deposit if it has one.
    pub preorder: Option<(Uuid, Option<i64>)>,
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

/// Stores an order and its lines; answers them as stored (one statement each, no
/// read-back).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order.id, number = order.number))]
pub async fn insert_order(
    scope: &impl TenantScoped,
    order: &NewOrder,
) -> Result<(OrderRow, Vec<OrderLineRow>), DbErr> {
    let tenant = tenant_of(scope);
    let row = orders::Entity::insert(orders::ActiveModel {
        id: Set(order.id),
        tenant_id: Set(tenant),
        number: Set(order.number),
        // Where every order starts.
        status: Set(OrderStatus::PendingPayment),
        currency: Set(order.currency.into()),
        locale: Set(order.locale.clone()),
        email: Set(order.email.clone()),
        phone: Set(order.phone.clone()),
        customer_id: Set(order.customer_id.clone()),
        cart_id: Set(order.cart_id),
        shipping_address: Set(order.shipping_address.clone()),
        shipping_rate: Set(order.shipping_rate.clone()),
        note: Set(order.note.clone()),
        subtotal: Set(order.subtotal),
        shipping: Set(order.shipping),
        total: Set(order.total),
        access_token_hash: Set(order.access_token_hash.clone()),
        expires_at: Set(order.expires_at),
        group_id: Set(order.group_id),
        preorder_campaign_id: Set(order.preorder.map(|(campaign, _)| campaign)),
        deposit: Set(order.preorder.and_then(|(_, deposit)| deposit)),
        ..Default::default()
    })
    .exec_with_returning(scope.conn())
    .await?;
    let lines = order
        .lines
        .iter()
        .enumerate()
        .map(|(position, line)| order_lines::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant),
            order_id: Set(order.id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            variant_id: Set(line.variant_id),
            product_id: Set(line.product_id),
            sku: Set(line.sku.clone()),
            product_title: Set(line.product_title.clone()),
            variant_title: Set(line.variant_title.clone()),
            unit_price: Set(line.unit_price),
            quantity: Set(line.quantity),
            line_total: Set(line.line_total),
            weight_grams: Set(line.weight_grams),
            ..Default::default()
        });
    let mut lines = order_lines::Entity::insert_many(lines)
        .exec_with_returning(scope.conn())
        .await?;
    lines.sort_by_key(|line| line.position);
    Ok((row, lines))
}

/// An order; `lock` holds it until the transaction ends (every change of status
/// locks first, so two changes of one order take turns).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %id, lock = lock))]
pub async fn order(
    scope: &impl TenantScoped,
    id: Uuid,
    lock: bool,
) -> Result<Option<OrderRow>, DbErr> {
    let query = orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tenant_of(scope)))
        .filter(orders::Column::Id.eq(id));
    let query = if lock { query.lock_exclusive() } else { query };
    query.one(scope.conn()).await
}

/// An order's lines.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn order_lines(
    scope: &impl TenantScoped,
    order: Uuid,
) -> Result<Vec<OrderLineRow>, DbErr> {
    order_lines::Entity::find()
        .filter(order_lines::Column::TenantId.eq(tenant_of(scope)))
        .filter(order_lines::Column::OrderId.eq(order))
        .order_by_asc(order_lines::Column::Position)
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
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), status = ?filter.status, limit = filter.limit))]
pub async fn list_orders(
    scope: &impl TenantScoped,
    filter: &OrderFilter,
) -> Result<Vec<OrderRow>, DbErr> {
    listing(tenant_of(scope), filter).all(scope.conn()).await
}

/// The query of [`list_orders`].
fn listing(tenant: Uuid, filter: &OrderFilter) -> sea_orm::Select<orders::Entity> {
    let text =
        filter
            .text
            .as_deref()
            .map(|text| match text.trim_start_matches('#').parse::<i64>() {
                Ok(number) => orders::Column::Number.eq(number),
                Err(_) => Expr::expr(Func::lower(Expr::col(orders::Column::Email)))
                    .like(caravan_shared::db::contains_pattern(&text.to_lowercase())),
            });
    let query = orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tenant))
        .apply_if(filter.status, |query, status| {
            query.filter(orders::Column::Status.eq(status))
        })
        .apply_if(filter.from, |query, from| {
            query.filter(orders::Column::CreatedAt.gte(from))
        })
        .apply_if(filter.to, |query, to| {
            query.filter(orders::Column::CreatedAt.lt(to))
        })
        .apply_if(filter.customer.as_deref(), |query, customer| {
            query.filter(orders::Column::CustomerId.eq(customer))
        })
        .apply_if(text, |query, text| query.filter(text));
    let columns = (orders::Column::CreatedAt, orders::Column::Id);
    newest_first(query, columns, filter.before, filter.limit)
}

/// Gives a new order its number, in one statement: takes the shop's next number
/// (creating its counter row at the first order; `last_number` starts at 1000, so
/// the first number is 1001) and writes it wherever the checkout wrote the order's
/// provisional number ($3, as text): the order, its timeline, its `order.created`
/// event ($4), its emails ($5) and the idempotent answer ($6, $7). $1 the shop, $2
/// the order. The counter row stays locked until the transaction ends.
const NUMBER_ORDER: &str = "WITH taken AS ( \
       INSERT INTO order_counters AS counter (tenant_id, last_number) VALUES ($1, 1001) \
       ON CONFLICT (tenant_id) DO UPDATE SET last_number = counter.last_number + 1 \
       RETURNING last_number::text AS number), \
     numbered AS ( \
       UPDATE orders SET number = taken.number::bigint FROM taken \
       WHERE orders.tenant_id = $1 AND orders.id = $2 RETURNING orders.number), \
     timeline AS ( \
       UPDATE order_timeline SET detail = replace(detail::text, $3, taken.number)::jsonb FROM taken \
       WHERE order_timeline.tenant_id = $1 AND order_timeline.order_id = $2 RETURNING 1), \
     event AS ( \
       UPDATE outbox SET data = replace(data::text, $3, taken.number)::jsonb FROM taken \
       WHERE outbox.id = $4 RETURNING 1), \
     mail AS ( \
       UPDATE mail_outbox SET subject = replace(subject, $3, taken.number), \
         body = replace(body, $3, taken.number) FROM taken \
       WHERE mail_outbox.id = ANY($5) RETURNING 1), \
     answer AS ( \
       UPDATE idempotency_keys SET response_body = replace(response_body::text, $3, taken.number)::jsonb \
       FROM taken WHERE scope = $6 AND key = $7 RETURNING 1) \
     SELECT number FROM numbered";

/// Where a checkout wrote an order's provisional number.
pub struct Provisional<'a> {
    /// The order.
    pub order: Uuid,
    /// The number it was written with: unique, negative, never shown.
    pub number: i64,
    /// Its `order.created` event.
    pub event: Uuid,
    /// Its emails.
    pub mails: Vec<Uuid>,
    /// The idempotent answer's key space and key.
    pub answer: (&'a str, &'a str),
}

/// Gives the order of `provisional` the shop's next number and answers it.
/// Numbers are handed out one at a time (the shop's counter row stays locked until
/// the transaction ends) and a rollback gives the number back: no gaps, no
/// duplicates. It is the checkout's last statement before its quota check and
/// commit, so other checkouts of the shop wait for as little as possible.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %provisional.order))]
pub async fn number_order(
    scope: &impl TenantScoped,
    provisional: &Provisional<'_>,
) -> Result<i64, DbErr> {
    let row = scope
        .conn()
        .query_one_raw(statement(
            NUMBER_ORDER,
            vec![
                tenant_of(scope).into(),
                provisional.order.into(),
                provisional.number.to_string().into(),
                provisional.event.into(),
                provisional.mails.clone().into(),
                provisional.answer.0.into(),
                provisional.answer.1.into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("order {}", provisional.order)))?;
    row.try_get("", "number")
}

/// The orders the shop placed since the start of the calendar month in UTC ($1 the
/// shop): what its plan's monthly quota counts.
const ORDERS_THIS_MONTH: &str = "SELECT count(*) AS placed FROM orders WHERE tenant_id = $1 \
     AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'";

/// Orders placed since the start of the current calendar month (UTC).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn orders_this_month(scope: &impl TenantScoped) -> Result<i64, DbErr> {
    let row = scope
        .conn()
        .query_one_raw(statement(ORDERS_THIS_MONTH, vec![tenant_of(scope).into()]))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("count".into()))?;
    row.try_get("", "placed")
}

/// Moves an order's status as the state machine allowed ([`Transition`], only made
/// by [`OrderStatus::apply`]). Only a row still in the move's `from` status changes
/// (one statement); anything else is an error and writes nothing.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order, from = transition.from().as_str(), to = transition.to().as_str()))]
pub async fn set_status(
    scope: &impl TenantScoped,
    order: Uuid,
    transition: Transition,
) -> Result<(), DbErr> {
    let (from, to) = (transition.from(), transition.to());
    let mut update = orders::Entity::update_many()
        .col_expr(orders::Column::Status, Expr::value(to))
        .col_expr(orders::Column::UpdatedAt, Expr::current_timestamp());
    if matches!(to, OrderStatus::Paid | OrderStatus::AwaitingGroup) {
        // A group order was paid when its money came, not when its group formed.
        update = update.col_expr(
            orders::Column::PaidAt,
            Expr::cust("coalesce(paid_at, now())"),
        );
    }
    if matches!(to, OrderStatus::Cancelled | OrderStatus::Expired) {
        update = update.col_expr(orders::Column::CancelledAt, Expr::current_timestamp());
    }
    let result = update
        .filter(orders::Column::TenantId.eq(tenant_of(scope)))
        .filter(orders::Column::Id.eq(order))
        .filter(orders::Column::Status.eq(from))
        .exec(scope.conn())
        .await?;
    if result.rows_affected != 1 {
        return Err(DbErr::Custom(format!(
            "order {order} was not {from}, so it was not moved to {to}"
        )));
    }
    Ok(())
}

/// Adds to the money an order has received and returned; `provider`, when given,
/// becomes the order's payment provider.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order, paid = paid, refunded = refunded))]
pub async fn add_money(
    scope: &impl TenantScoped,
    order: Uuid,
    paid: i64,
    refunded: i64,
    provider: Option<&str>,
) -> Result<(), DbErr> {
    let mut update = orders::Entity::update_many()
        .col_expr(
            orders::Column::Paid,
            Expr::col(orders::Column::Paid).add(paid),
        )
        .col_expr(
            orders::Column::Refunded,
            Expr::col(orders::Column::Refunded).add(refunded),
        )
        .col_expr(orders::Column::UpdatedAt, Expr::current_timestamp());
    if let Some(provider) = provider {
        update = update.col_expr(orders::Column::PaymentProvider, Expr::value(provider));
    }
    update
        .filter(orders::Column::TenantId.eq(tenant_of(scope)))
        .filter(orders::Column::Id.eq(order))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// Records why an order was cancelled.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn set_cancel_reason(
    scope: &impl TenantScoped,
    order: Uuid,
    reason: &str,
) -> Result<(), DbErr> {
    orders::Entity::update_many()
        .col_expr(orders::Column::CancelReason, Expr::value(reason))
        .filter(orders::Column::TenantId.eq(tenant_of(scope)))
        .filter(orders::Column::Id.eq(order))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// Adds shipped units to a line.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), line = %line, quantity = quantity))]
pub async fn fulfil_line(
    scope: &impl TenantScoped,
    line: Uuid,
    quantity: i32,
) -> Result<(), DbErr> {
    order_lines::Entity::update_many()
        .col_expr(
            order_lines::Column::FulfilledQuantity,
            Expr::col(order_lines::Column::FulfilledQuantity).add(quantity),
        )
        .filter(order_lines::Column::TenantId.eq(tenant_of(scope)))
        .filter(order_lines::Column::Id.eq(line))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// The orders with these ids, locked, leaving out any another transaction holds
/// (`SKIP LOCKED`): a background job takes what no request is changing.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), orders = ids.len()))]
pub async fn lock_orders_free(
    scope: &impl TenantScoped,
    ids: &[Uuid],
) -> Result<Vec<OrderRow>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tenant_of(scope)))
        .filter(orders::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(orders::Column::CreatedAt)
        .lock_with_behavior(
            sea_orm::sea_query::LockType::Update,
            sea_orm::sea_query::LockBehavior::SkipLocked,
        )
        .all(scope.conn())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;

    #[test]
    fn the_listing_names_the_shop_and_binds_every_filter() {
        let filter = OrderFilter {
            status: Some(OrderStatus::Paid),
            text: Some("50%_off".into()),
            before: Some((Utc::now(), Uuid::nil())),
            limit: 20,
            ..Default::default()
        };
        let sql = listing(Uuid::nil(), &filter).build(DbBackend::Postgres).sql;
        assert!(sql.contains(r#""orders"."tenant_id" = $1"#), "{sql}");
        assert!(sql.contains(r#""orders"."status" = $2"#), "{sql}");
        assert!(sql.contains(r#"LOWER("email") LIKE $3"#), "{sql}");
        assert!(sql.contains(r#"("created_at", "id") < ($4, $5)"#), "{sql}");
        assert!(sql.ends_with("LIMIT $6"), "{sql}");
    }

    #[test]
    fn a_number_is_looked_up_as_a_number() {
        let filter = OrderFilter {
            text: Some("#1001".into()),
            limit: 20,
            ..Default::default()
        };
        let built = listing(Uuid::nil(), &filter).build(DbBackend::Postgres);
        assert!(
            built.sql.contains(r#""orders"."number" = $2"#),
            "{}",
            built.sql
        );
    }
}
