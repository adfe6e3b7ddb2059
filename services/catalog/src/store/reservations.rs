//! Stock reservations for orders: all lines or none, keyed by order, serialised by
//! the database. A reservation is one statement (`caravan_reserve`, in the
//! migrations) that locks its variants' rows in a fixed order and holds every line
//! only while enough is available, so concurrent checkouts of a hot variant queue on
//! its row and can never oversell; the `stock_available` constraint is the backstop.

use super::entities::{reservations, variants};
use crate::domain::ReservationStatus;
use crate::store::{self, VariantRow};
use caravan_shared::db::{sqlstate, statement};
use caravan_shared::tenancy::{TenantId, TenantScoped};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
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

/// A line of what `caravan_reserve` answers (see its migration).
#[derive(Debug, FromQueryResult)]
struct ReserveRow {
    outcome: String,
    variant_id: Uuid,
    quantity: i32,
    available: Option<i32>,
    status: Option<ReservationStatus>,
}

/// Reserves every line of `order` or none, in one statement of its own (no
/// transaction around it): the shop's scope, the order's turn and the variants' row
/// locks last only while it runs, so a hot variant is locked for the shortest time a
/// reservation can take. Repeated variants are merged.
#[tracing::instrument(skip_all, fields(tenant = %tenant, order = %order))]
pub async fn reserve(
    db: &DatabaseConnection,
    tenant: TenantId,
    order: Uuid,
    lines: &[(Uuid, i32)],
) -> Result<Reservation, DbErr> {
    let (variants, quantities): (Vec<Uuid>, Vec<i32>) = lines.iter().copied().unzip();
    let rows = match db
        .query_all_raw(statement(
            "SELECT outcome, variant_id, quantity, available, status \
             FROM caravan_reserve($1, $2, $3, $4)",
            vec![
                tenant.into_uuid().into(),
                order.into(),
                variants.into(),
                quantities.into(),
            ],
        ))
        .await
    {
        Ok(rows) => rows,
        Err(error) if sqlstate(&error).as_deref() == Some(SERIALIZATION_FAILURE) => {
            return Ok(Reservation::Raced);
        }
        Err(error) => return Err(error),
    };
    let rows = rows
        .iter()
        .map(|row| ReserveRow::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(first) = rows.first() else {
        return Err(DbErr::Custom(format!(
            "the reservation of order {order} answered nothing"
        )));
    };
    let status = |row: &ReserveRow| {
        row.status.ok_or_else(|| {
            DbErr::Custom(format!("reservation line {} has no status", row.variant_id))
        })
    };
    Ok(match first.outcome.as_str() {
        "short" => Reservation::Short(
            rows.iter()
                .map(|row| ShortLine {
                    variant_id: row.variant_id,
                    requested: row.quantity,
                    available: row.available.unwrap_or(0),
                })
                .collect(),
        ),
        "held" | "earlier" => {
            let held = rows
                .iter()
                .map(|row| {
                    Ok(ReservedLine {
                        variant_id: row.variant_id,
                        quantity: row.quantity,
                        status: status(row)?,
                    })
                })
                .collect::<Result<Vec<_>, DbErr>>()?;
            match held
                .iter()
                .find(|line| line.status != ReservationStatus::Held)
            {
                Some(settled) => Reservation::Settled(settled.status),
                None => Reservation::Held(held),
            }
        }
        other => {
            return Err(DbErr::Custom(format!(
                "the reservation of order {order} answered {other:?}"
            )));
        }
    })
}

/// PostgreSQL's SQLSTATE for a serialization failure: what `caravan_reserve` raises
/// when the order's reservation was written concurrently, having undone its own.
const SERIALIZATION_FAILURE: &str = "40001";

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
