//! Stock reservations for orders: all lines or none, keyed by order, serialised by
//! the database. A line is reserved by one conditional UPDATE that only succeeds
//! while enough is available, so concurrent checkouts of a hot variant queue on its
//! row and can never oversell; the `stock_available` constraint is the backstop.

use super::entities::{reservations, variants};
use crate::domain::ReservationStatus;
use crate::store::{self, VariantRow};
use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A reserved line.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult, serde::Serialize, utoipa::ToSchema)]
pub struct ReservedLine {
    /// The variant.
    pub variant_id: Uuid,
    /// How many.
    pub quantity: i32,
    /// `held`, `committed`, `released` or `returned`.
    #[schema(value_type = String)]
    pub status: ReservationStatus,
}

/// A line that could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ShortLine {
    /// The variant.
    pub variant_id: Uuid,
    /// How many were asked for.
    pub requested: i32,
    /// How many are available (0 for an unknown variant).
    pub available: i32,
}

/// What a reservation came to.
#[derive(Debug)]
pub enum Reservation {
    /// Every line is held (now, or by an earlier call for the same order).
    Held(Vec<ReservedLine>),
    /// Some lines are short; nothing may be kept — roll back.
    Short(Vec<ShortLine>),
    /// A concurrent call for the same order got there first — roll back and read.
    Raced,
    /// The order's reservation was already committed or released.
    Settled(ReservationStatus),
}

/// The order's reservation lines, by variant.
fn lines(scope: &impl TenantScoped, order: Uuid) -> Select<reservations::Entity> {
    reservations::Entity::find()
        .select_only()
        .columns([
            reservations::Column::VariantId,
            reservations::Column::Quantity,
            reservations::Column::Status,
        ])
        .filter(reservations::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(reservations::Column::OrderId.eq(order))
        .order_by_asc(reservations::Column::VariantId)
}

/// The order's reservation lines, if any.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn lines_of(scope: &impl TenantScoped, order: Uuid) -> Result<Vec<ReservedLine>, DbErr> {
    lines(scope, order)
        .into_model::<ReservedLine>()
        .all(scope.conn())
        .await
}

/// Reserves every line of `order` or none.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn reserve(
    scope: &impl TenantScoped,
    order: Uuid,
    lines: &[(Uuid, i32)],
) -> Result<Reservation, DbErr> {
    // Calls for the same order take turns, so a repeat waits for the first and then
    // answers what it reserved instead of competing with it for the stock.
    scope
        .conn()
        .query_one_raw(statement(
            "SELECT pg_advisory_xact_lock(hashtext($1))::text AS locked",
            vec![format!("reservation:{}:{order}", scope.tenant()).into()],
        ))
        .await?;
    let existing = lines_of(scope, order).await?;
    if let Some(settled) = existing
        .iter()
        .find(|line| line.status != ReservationStatus::Held)
    {
        return Ok(Reservation::Settled(settled.status));
    }
    if !existing.is_empty() {
        return Ok(Reservation::Held(existing));
    }
    // Merge repeated variants; a fixed (sorted) order of row locks avoids deadlocks
    // between orders sharing variants.
    let mut merged: BTreeMap<Uuid, i32> = BTreeMap::new();
    for (variant, quantity) in lines {
        let total = merged.entry(*variant).or_default();
        *total = total.saturating_add(*quantity);
    }
    let tenant = scope.tenant().into_uuid();
    let mut short = Vec::new();
    for (variant, quantity) in &merged {
        let reserved = scope
            .conn()
            .query_one_raw(statement(
                "UPDATE variants SET reserved = reserved + $3, updated_at = now() \
                 WHERE tenant_id = $1 AND id = $2 AND (NOT track_stock OR on_hand - reserved >= $3) \
                 RETURNING id",
                vec![tenant.into(), (*variant).into(), (*quantity).into()],
            ))
            .await?;
        if reserved.is_none() {
            let available = store::variant(scope, *variant)
                .await?
                .map_or(0, |row| row.available());
            short.push(ShortLine {
                variant_id: *variant,
                requested: *quantity,
                available,
            });
        }
    }
    if !short.is_empty() {
        return Ok(Reservation::Short(short));
    }
    for (variant, quantity) in &merged {
        let inserted = scope
            .conn()
            .execute_raw(statement(
                "INSERT INTO reservations (tenant_id, order_id, variant_id, quantity, status) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                vec![
                    tenant.into(),
                    order.into(),
                    (*variant).into(),
                    (*quantity).into(),
                    ReservationStatus::Held.into(),
                ],
            ))
            .await?;
        if inserted.rows_affected() == 0 {
            return Ok(Reservation::Raced);
        }
    }
    // What was just written, in the order `lines_of` reads it (by variant).
    Ok(Reservation::Held(
        merged
            .into_iter()
            .map(|(variant_id, quantity)| ReservedLine {
                variant_id,
                quantity,
                status: ReservationStatus::Held,
            })
            .collect(),
    ))
}

/// What committing or releasing came to.
#[derive(Debug)]
pub enum Settled {
    /// Done now or before; the variants whose stock changed now.
    Done(Vec<VariantRow>),
    /// There is no reservation for the order.
    Unknown,
    /// It is already in the other final state.
    Conflict(ReservationStatus),
}

/// Takes held stock out of on hand (the order was paid).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn commit(scope: &impl TenantScoped, order: Uuid, actor: &str) -> Result<Settled, DbErr> {
    settle(
        scope,
        order,
        ReservationStatus::Held,
        ReservationStatus::Committed,
        actor,
    )
    .await
}

/// Puts a paid order's stock back on hand (it was cancelled before shipping).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn restock(
    scope: &impl TenantScoped,
    order: Uuid,
    actor: &str,
) -> Result<Settled, DbErr> {
    settle(
        scope,
        order,
        ReservationStatus::Committed,
        ReservationStatus::Returned,
        actor,
    )
    .await
}

/// Returns held stock to availability (the order was cancelled or expired).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn release(
    scope: &impl TenantScoped,
    order: Uuid,
    actor: &str,
) -> Result<Settled, DbErr> {
    settle(
        scope,
        order,
        ReservationStatus::Held,
        ReservationStatus::Released,
        actor,
    )
    .await
}

/// Moves every line of the order's reservation from `from` to `to`, with the stock
/// that goes with it: held → committed leaves on hand as a sale, held → released
/// frees the hold, committed → returned puts the units back on hand.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order, from = ?from, to = ?to))]
async fn settle(
    scope: &impl TenantScoped,
    order: Uuid,
    from: ReservationStatus,
    to: ReservationStatus,
    actor: &str,
) -> Result<Settled, DbErr> {
    let tenant = scope.tenant().into_uuid();
    // Lock the order's lines so a commit and a release cannot both act.
    let lines = lines(scope, order)
        .lock_exclusive()
        .into_model::<ReservedLine>()
        .all(scope.conn())
        .await?;
    if lines.is_empty() {
        return Ok(Settled::Unknown);
    }
    if lines.iter().all(|line| line.status == to) {
        return Ok(Settled::Done(Vec::new()));
    }
    if let Some(other) = lines.iter().find(|line| line.status != from) {
        return Ok(Settled::Conflict(other.status));
    }
    let mut changed = Vec::new();
    for line in &lines {
        let (sql, movement) = match to {
            ReservationStatus::Committed => (
                "UPDATE variants SET on_hand = CASE WHEN track_stock THEN on_hand - $3 ELSE on_hand END, \
                 reserved = reserved - $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *",
                Some(("sale", -line.quantity)),
            ),
            ReservationStatus::Returned => (
                "UPDATE variants SET on_hand = CASE WHEN track_stock THEN on_hand + $3 ELSE on_hand END, \
                 updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *",
                Some(("return", line.quantity)),
            ),
            _ => (
                "UPDATE variants SET reserved = reserved - $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *",
                None,
            ),
        };
        let row = variants::Entity::find()
            .from_raw_sql(statement(
                sql,
                vec![tenant.into(), line.variant_id.into(), line.quantity.into()],
            ))
            .one(scope.conn())
            .await?;
        if let Some(row) = row {
            if let (Some((reason, delta)), true) = (movement, row.track_stock) {
                store::record_movement(
                    scope,
                    row.id,
                    delta,
                    row.on_hand,
                    reason,
                    Some(&format!("order {order}")),
                    actor,
                )
                .await?;
            }
            changed.push(row);
        }
    }
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE reservations SET status = $3, updated_at = now() WHERE tenant_id = $1 AND order_id = $2",
            vec![tenant.into(), order.into(), to.into()],
        ))
        .await?;
    Ok(Settled::Done(changed))
}
