//! Group deals, their groups, and what the orders of a group come to: the places
//! they hold, the units they take.

use super::entities::{group_deals, groups, orders};
use super::{locked_if, newest_first, tenant_of};
use crate::domain::{DealTerms, GroupStatus, OrderStatus};
use caravan_shared::db::statement;
use caravan_shared::tenancy::{PlatformScope, TenantScoped};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A group deal.
pub type DealRow = group_deals::Model;

/// A group.
pub type GroupRow = groups::Model;

/// Statuses of a group's orders that wait on it: unpaid, or paid and waiting for
/// it to form. A group that fails cancels these.
pub const HOLDING: [OrderStatus; 2] = [OrderStatus::PendingPayment, OrderStatus::AwaitingGroup];

/// Stores a new deal on `variant` of `product`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), variant = %variant))]
pub async fn insert_deal(
    scope: &impl TenantScoped,
    variant: Uuid,
    product: Uuid,
    terms: &DealTerms,
) -> Result<DealRow, DbErr> {
    group_deals::Entity::insert(group_deals::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_of(scope)),
        variant_id: Set(variant),
        product_id: Set(product),
        prices: Set(serde_json::to_value(&terms.prices).unwrap_or_default()),
        group_size: Set(terms.group_size),
        open_hours: Set(terms.open_hours),
        max_units: Set(terms.max_units),
        starts_at: Set(terms.starts_at),
        ends_at: Set(terms.ends_at),
        ..Default::default()
    })
    .exec_with_returning(scope.conn())
    .await
}

/// A deal; `lock` holds it until the transaction ends (every group that opens or
/// joins takes it first, so the deal's units are counted one checkout at a time).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), deal = %id, lock = lock))]
pub async fn deal(
    scope: &impl TenantScoped,
    id: Uuid,
    lock: bool,
) -> Result<Option<DealRow>, DbErr> {
    let query = group_deals::Entity::find()
        .filter(group_deals::Column::TenantId.eq(tenant_of(scope)))
        .filter(group_deals::Column::Id.eq(id));
    locked_if(query, lock).one(scope.conn()).await
}

/// Deals newest first, before `before` (created_at, id); of one product if named.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), limit = limit))]
pub async fn deals(
    scope: &impl TenantScoped,
    product: Option<Uuid>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<DealRow>, DbErr> {
    let query = group_deals::Entity::find()
        .filter(group_deals::Column::TenantId.eq(tenant_of(scope)))
        .apply_if(product, |query, product| {
            query.filter(group_deals::Column::ProductId.eq(product))
        });
    let columns = (group_deals::Column::CreatedAt, group_deals::Column::Id);
    newest_first(query, columns, before, limit)
        .all(scope.conn())
        .await
}

/// Writes a deal's new terms.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), deal = %id))]
pub async fn update_deal(
    scope: &impl TenantScoped,
    id: Uuid,
    terms: &DealTerms,
) -> Result<(), DbErr> {
    group_deals::Entity::update_many()
        .col_expr(
            group_deals::Column::Prices,
            Expr::value(serde_json::to_value(&terms.prices).unwrap_or_default()),
        )
        .col_expr(
            group_deals::Column::GroupSize,
            Expr::value(terms.group_size),
        )
        .col_expr(
            group_deals::Column::OpenHours,
            Expr::value(terms.open_hours),
        )
        .col_expr(group_deals::Column::MaxUnits, Expr::value(terms.max_units))
        .col_expr(group_deals::Column::StartsAt, Expr::value(terms.starts_at))
        .col_expr(group_deals::Column::EndsAt, Expr::value(terms.ends_at))
        .col_expr(group_deals::Column::UpdatedAt, Expr::current_timestamp())
        .filter(group_deals::Column::TenantId.eq(tenant_of(scope)))
        .filter(group_deals::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// Ends a deal now, unless it has ended already.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), deal = %id))]
pub async fn end_deal(scope: &impl TenantScoped, id: Uuid) -> Result<(), DbErr> {
    group_deals::Entity::update_many()
        .col_expr(group_deals::Column::EndedAt, Expr::current_timestamp())
        .col_expr(group_deals::Column::UpdatedAt, Expr::current_timestamp())
        .filter(group_deals::Column::TenantId.eq(tenant_of(scope)))
        .filter(group_deals::Column::Id.eq(id))
        .filter(group_deals::Column::EndedAt.is_null())
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// The groups of each deal by status, and the units each deal's live orders
/// hold or bought (every order of its groups that was not cancelled or let expire).
/// $1 the shop, $2 the deals.
const DEAL_FIGURES: &str = "SELECT d.id AS deal_id, \
       (SELECT count(*) FROM groups g WHERE g.tenant_id = $1 AND g.deal_id = d.id AND g.status = 'forming') AS forming, \
       (SELECT count(*) FROM groups g WHERE g.tenant_id = $1 AND g.deal_id = d.id AND g.status = 'formed') AS formed, \
       (SELECT count(*) FROM groups g WHERE g.tenant_id = $1 AND g.deal_id = d.id AND g.status = 'failed') AS failed, \
       (SELECT coalesce(sum(l.quantity), 0)::bigint FROM groups g \
          JOIN orders o ON o.tenant_id = $1 AND o.group_id = g.id \
          JOIN order_lines l ON l.tenant_id = $1 AND l.order_id = o.id \
        WHERE g.tenant_id = $1 AND g.deal_id = d.id AND o.status NOT IN ('cancelled', 'expired')) AS units \
     FROM group_deals d WHERE d.tenant_id = $1 AND d.id = ANY($2)";

/// What a deal has come to so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DealFigures {
    /// Groups still forming.
    pub forming: i64,
    /// Groups formed.
    pub formed: i64,
    /// Groups failed.
    pub failed: i64,
    /// Units held or bought by the deal's live orders.
    pub units: i64,
}

impl DealFigures {
    /// Whether any group has opened on the deal.
    pub fn opened(&self) -> bool {
        self.forming + self.formed + self.failed > 0
    }
}

/// The figures of each of `deals`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), deals = deals.len()))]
pub async fn deal_figures(
    scope: &impl TenantScoped,
    deals: &[Uuid],
) -> Result<HashMap<Uuid, DealFigures>, DbErr> {
    let rows = scope
        .conn()
        .query_all_raw(statement(
            DEAL_FIGURES,
            vec![tenant_of(scope).into(), deals.to_vec().into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                row.try_get("", "deal_id")?,
                DealFigures {
                    forming: row.try_get("", "forming")?,
                    formed: row.try_get("", "formed")?,
                    failed: row.try_get("", "failed")?,
                    units: row.try_get("", "units")?,
                },
            ))
        })
        .collect()
}

/// Opens a group of `deal`, forming until `expires_at`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), deal = %deal.id))]
pub async fn insert_group(
    scope: &impl TenantScoped,
    deal: &DealRow,
    expires_at: DateTime<Utc>,
) -> Result<GroupRow, DbErr> {
    groups::Entity::insert(groups::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_of(scope)),
        deal_id: Set(deal.id),
        status: Set(GroupStatus::Forming),
        group_size: Set(deal.group_size),
        expires_at: Set(expires_at),
        ..Default::default()
    })
    .exec_with_returning(scope.conn())
    .await
}

/// A group; `lock` holds it until the transaction ends (a join, a payment into
/// it and its failure each take it first, so its places are counted one at a time).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), group = %id, lock = lock))]
pub async fn group(
    scope: &impl TenantScoped,
    id: Uuid,
    lock: bool,
) -> Result<Option<GroupRow>, DbErr> {
    let query = groups::Entity::find()
        .filter(groups::Column::TenantId.eq(tenant_of(scope)))
        .filter(groups::Column::Id.eq(id));
    locked_if(query, lock).one(scope.conn()).await
}

/// A deal's groups, newest first, before `before` (created_at, id); of one status
/// if named.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), deal = %deal, limit = limit))]
pub async fn groups_of_deal(
    scope: &impl TenantScoped,
    deal: Uuid,
    status: Option<GroupStatus>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<GroupRow>, DbErr> {
    let query = groups::Entity::find()
        .filter(groups::Column::TenantId.eq(tenant_of(scope)))
        .filter(groups::Column::DealId.eq(deal))
        .apply_if(status, |query, status| {
            query.filter(groups::Column::Status.eq(status))
        });
    let columns = (groups::Column::CreatedAt, groups::Column::Id);
    newest_first(query, columns, before, limit)
        .all(scope.conn())
        .await
}

/// Moves a group from `from` to `to`, stamping when it formed or failed; false
/// when it was not `from` (nothing is written).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), group = %id, to = to.as_str()))]
pub async fn set_group_status(
    scope: &impl TenantScoped,
    id: Uuid,
    from: GroupStatus,
    to: GroupStatus,
) -> Result<bool, DbErr> {
    let mut update = groups::Entity::update_many()
        .col_expr(groups::Column::Status, Expr::value(to))
        .col_expr(groups::Column::UpdatedAt, Expr::current_timestamp());
    update = match to {
        GroupStatus::Formed => update.col_expr(groups::Column::FormedAt, Expr::current_timestamp()),
        GroupStatus::Failed => update.col_expr(groups::Column::FailedAt, Expr::current_timestamp()),
        GroupStatus::Forming => update,
    };
    let result = update
        .filter(groups::Column::TenantId.eq(tenant_of(scope)))
        .filter(groups::Column::Id.eq(id))
        .filter(groups::Column::Status.eq(from))
        .exec(scope.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// The orders of a group, oldest first.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), group = %group))]
pub async fn group_orders(
    scope: &impl TenantScoped,
    group: Uuid,
) -> Result<Vec<super::OrderRow>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tenant_of(scope)))
        .filter(orders::Column::GroupId.eq(group))
        .order_by_asc(orders::Column::CreatedAt)
        .order_by_asc(orders::Column::Id)
        .all(scope.conn())
        .await
}

/// The orders of `group` in `status`, locked, oldest first.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), group = %group, status = ?statuses))]
pub async fn lock_group_orders(
    scope: &impl TenantScoped,
    group: Uuid,
    statuses: &[OrderStatus],
) -> Result<Vec<super::OrderRow>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tenant_of(scope)))
        .filter(orders::Column::GroupId.eq(group))
        .filter(orders::Column::Status.is_in(statuses.iter().copied()))
        .order_by_asc(orders::Column::CreatedAt)
        .order_by_asc(orders::Column::Id)
        .lock_exclusive()
        .all(scope.conn())
        .await
}

/// How many of each group's orders hold a place (every order not cancelled or let
/// expire: paid, or waiting for payment) and how many of those are paid. $1 the
/// shop, $2 the groups.
const GROUP_PLACES: &str = "SELECT g.id AS group_id, \
       count(o.id) FILTER (WHERE o.status NOT IN ('cancelled', 'expired')) AS held, \
       count(o.id) FILTER (WHERE o.status NOT IN ('pending_payment', 'cancelled', 'expired')) AS joined \
     FROM groups g LEFT JOIN orders o ON o.tenant_id = $1 AND o.group_id = g.id \
     WHERE g.tenant_id = $1 AND g.id = ANY($2) GROUP BY g.id";

/// The places of a group: held by orders paid or waiting for payment, and joined
/// by orders paid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Places {
    /// Orders holding a place.
    pub held: i64,
    /// Orders paid.
    pub joined: i64,
}

/// The places of each of `groups`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), groups = groups.len()))]
pub async fn places(
    scope: &impl TenantScoped,
    groups: &[Uuid],
) -> Result<HashMap<Uuid, Places>, DbErr> {
    let rows = scope
        .conn()
        .query_all_raw(statement(
            GROUP_PLACES,
            vec![tenant_of(scope).into(), groups.to_vec().into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                row.try_get("", "group_id")?,
                Places {
                    held: row.try_get("", "held")?,
                    joined: row.try_get("", "joined")?,
                },
            ))
        })
        .collect()
}

/// Groups of any shop with work for the sweep: forming past their time, or failed
/// with orders not yet all cancelled and refunded. At most $1, the longest due
/// first.
const GROUPS_DUE: &str = "(SELECT id, tenant_id, expires_at AS due FROM groups \
       WHERE status = 'forming' AND expires_at <= now() ORDER BY expires_at LIMIT $1) \
     UNION ALL \
     (SELECT id, tenant_id, failed_at AS due FROM groups \
       WHERE status = 'failed' AND settled_at IS NULL ORDER BY failed_at LIMIT $1) \
     ORDER BY due LIMIT $1";

/// Marks a failed group settled: every order of it is cancelled and refunded.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), group = %id))]
pub async fn settle_group(scope: &impl TenantScoped, id: Uuid) -> Result<(), DbErr> {
    groups::Entity::update_many()
        .col_expr(groups::Column::SettledAt, Expr::current_timestamp())
        .filter(groups::Column::TenantId.eq(tenant_of(scope)))
        .filter(groups::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// A group the sweep has work for.
#[derive(Debug, Clone, Copy)]
pub struct DueGroup {
    /// The group.
    pub id: Uuid,
    /// Its shop.
    pub tenant_id: Uuid,
}

/// Groups due for the sweep, of every shop (platform scope).
#[tracing::instrument(skip_all)]
pub async fn groups_due(scope: &PlatformScope<'_>, limit: i64) -> Result<Vec<DueGroup>, DbErr> {
    let rows = scope
        .conn()
        .query_all_raw(statement(GROUPS_DUE, vec![limit.into()]))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(DueGroup {
                id: row.try_get("", "id")?,
                tenant_id: row.try_get("", "tenant_id")?,
            })
        })
        .collect()
}
