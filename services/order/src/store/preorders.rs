//! Harvest pre-order campaigns, and what their pre-orders come to.

use super::entities::{orders, preorder_campaigns};
use super::{locked_if, newest_first, oldest_first, tenant_of};
use crate::domain::{CampaignStatus, CampaignTerms, OrderStatus};
use caravan_shared::db::statement;
use caravan_shared::tenancy::{PlatformScope, TenantScoped};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A pre-order campaign.
pub type CampaignRow = preorder_campaigns::Model;

/// Statuses of the pre-orders a campaign still answers for: unpaid, or paid (in
/// part or full) and waiting for the harvest.
pub const WAITING: [OrderStatus; 2] = [OrderStatus::PendingPayment, OrderStatus::Preordered];

/// Stores a new campaign on `variant` of `product`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), variant = %variant))]
pub async fn insert_campaign(
    scope: &impl TenantScoped,
    variant: Uuid,
    product: Uuid,
    terms: &CampaignTerms,
) -> Result<CampaignRow, DbErr> {
    preorder_campaigns::Entity::insert(preorder_campaigns::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_of(scope)),
        variant_id: Set(variant),
        product_id: Set(product),
        allocation: Set(terms.allocation),
        ships_from: Set(terms.ships_from),
        deposits: Set(terms
            .deposits
            .as_ref()
            .map(|d| serde_json::to_value(d).unwrap_or_default())),
        balance_days: Set(terms.balance_days),
        deposit_policy: Set(terms.deposit_policy),
        status: Set(CampaignStatus::Open),
        ends_at: Set(terms.ends_at),
        ..Default::default()
    })
    .exec_with_returning(scope.conn())
    .await
}

/// A campaign; `lock` holds it until the transaction ends (every pre-order taken
/// locks it first, so its allocation is counted one checkout at a time; the
/// harvest and calling it off lock it too).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), campaign = %id, lock = lock))]
pub async fn campaign(
    scope: &impl TenantScoped,
    id: Uuid,
    lock: bool,
) -> Result<Option<CampaignRow>, DbErr> {
    let query = preorder_campaigns::Entity::find()
        .filter(preorder_campaigns::Column::TenantId.eq(tenant_of(scope)))
        .filter(preorder_campaigns::Column::Id.eq(id));
    locked_if(query, lock).one(scope.conn()).await
}

/// Campaigns newest first, before `before` (created_at, id); of one product if
/// named.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), limit = limit))]
pub async fn campaigns(
    scope: &impl TenantScoped,
    product: Option<Uuid>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<CampaignRow>, DbErr> {
    let query = preorder_campaigns::Entity::find()
        .filter(preorder_campaigns::Column::TenantId.eq(tenant_of(scope)))
        .apply_if(product, |query, product| {
            query.filter(preorder_campaigns::Column::ProductId.eq(product))
        });
    let columns = (
        preorder_campaigns::Column::CreatedAt,
        preorder_campaigns::Column::Id,
    );
    newest_first(query, columns, before, limit)
        .all(scope.conn())
        .await
}

/// Announces a campaign's harvest: balances are due `balance_due_at`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), campaign = %id))]
pub async fn harvest_campaign(
    scope: &impl TenantScoped,
    id: Uuid,
    balance_due_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    preorder_campaigns::Entity::update_many()
        .col_expr(
            preorder_campaigns::Column::Status,
            Expr::value(CampaignStatus::Harvested),
        )
        .col_expr(
            preorder_campaigns::Column::HarvestedAt,
            Expr::current_timestamp(),
        )
        .col_expr(
            preorder_campaigns::Column::BalanceDueAt,
            Expr::value(balance_due_at),
        )
        .col_expr(
            preorder_campaigns::Column::UpdatedAt,
            Expr::current_timestamp(),
        )
        .filter(preorder_campaigns::Column::TenantId.eq(tenant_of(scope)))
        .filter(preorder_campaigns::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// Calls a campaign's harvest off, for `reason`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), campaign = %id))]
pub async fn call_off_campaign(
    scope: &impl TenantScoped,
    id: Uuid,
    reason: &str,
) -> Result<(), DbErr> {
    preorder_campaigns::Entity::update_many()
        .col_expr(
            preorder_campaigns::Column::Status,
            Expr::value(CampaignStatus::CalledOff),
        )
        .col_expr(
            preorder_campaigns::Column::CalledOffAt,
            Expr::current_timestamp(),
        )
        .col_expr(
            preorder_campaigns::Column::CallOffReason,
            Expr::value(reason),
        )
        .col_expr(
            preorder_campaigns::Column::UpdatedAt,
            Expr::current_timestamp(),
        )
        .filter(preorder_campaigns::Column::TenantId.eq(tenant_of(scope)))
        .filter(preorder_campaigns::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// What the pre-orders of each campaign come to, in units: taken (every pre-order
/// not cancelled or let expire), paid in full, shipped. $1 the shop, $2 the
/// campaigns.
const CAMPAIGN_FIGURES: &str = "SELECT c.id AS campaign_id, \
       coalesce(sum(l.quantity) FILTER (WHERE o.status NOT IN ('cancelled', 'expired')), 0)::bigint AS sold, \
       coalesce(sum(l.quantity) FILTER (WHERE o.status NOT IN ('cancelled', 'expired') \
         AND o.paid >= o.total AND o.total > 0), 0)::bigint AS paid, \
       coalesce(sum(l.fulfilled_quantity), 0)::bigint AS shipped \
     FROM preorder_campaigns c \
     LEFT JOIN orders o ON o.tenant_id = $1 AND o.preorder_campaign_id = c.id \
     LEFT JOIN order_lines l ON l.tenant_id = $1 AND l.order_id = o.id \
     WHERE c.tenant_id = $1 AND c.id = ANY($2) GROUP BY c.id";

/// What a campaign's pre-orders come to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CampaignFigures {
    /// Units of every live pre-order: what counts against the allocation.
    pub sold: i64,
    /// Units paid in full.
    pub paid: i64,
    /// Units shipped.
    pub shipped: i64,
}

/// The figures of each of `campaigns`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), campaigns = campaigns.len()))]
pub async fn campaign_figures(
    scope: &impl TenantScoped,
    campaigns: &[Uuid],
) -> Result<HashMap<Uuid, CampaignFigures>, DbErr> {
    let rows = scope
        .conn()
        .query_all_raw(statement(
            CAMPAIGN_FIGURES,
            vec![tenant_of(scope).into(), campaigns.to_vec().into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                row.try_get("", "campaign_id")?,
                CampaignFigures {
                    sold: row.try_get("", "sold")?,
                    paid: row.try_get("", "paid")?,
                    shipped: row.try_get("", "shipped")?,
                },
            ))
        })
        .collect()
}

/// The pre-orders of a campaign in `statuses` (all when empty), in order of
/// purchase (placed first, first).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), campaign = %campaign))]
pub async fn campaign_orders(
    scope: &impl TenantScoped,
    campaign: Uuid,
    statuses: &[OrderStatus],
) -> Result<Vec<super::OrderRow>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tenant_of(scope)))
        .filter(orders::Column::PreorderCampaignId.eq(campaign))
        .apply_if((!statuses.is_empty()).then_some(()), |query, ()| {
            query.filter(orders::Column::Status.is_in(statuses.iter().copied()))
        })
        .order_by_asc(orders::Column::CreatedAt)
        .order_by_asc(orders::Column::Id)
        .all(scope.conn())
        .await
}

/// A page of a campaign's pre-orders in order of purchase, after `after` (created_at,
/// id of the last one seen).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), campaign = %campaign))]
pub async fn campaign_orders_page(
    scope: &impl TenantScoped,
    campaign: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<super::OrderRow>, DbErr> {
    let query = orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tenant_of(scope)))
        .filter(orders::Column::PreorderCampaignId.eq(campaign));
    let columns = (orders::Column::CreatedAt, orders::Column::Id);
    oldest_first(query, columns, after, limit)
        .all(scope.conn())
        .await
}

/// Writes the harvest's announcement on a pre-order: its balance is due at
/// `due_at`, its balance-payment link opens it with the token hashed as
/// `token_hash`, and one not paid yet (`in_full`) is paid in full rather than by
/// deposit.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn announce_harvest(
    scope: &impl TenantScoped,
    order: Uuid,
    due_at: DateTime<Utc>,
    token_hash: Option<&str>,
    in_full: bool,
) -> Result<(), DbErr> {
    let mut update = orders::Entity::update_many()
        .col_expr(orders::Column::BalanceDueAt, Expr::value(due_at))
        .col_expr(orders::Column::UpdatedAt, Expr::current_timestamp());
    if let Some(hash) = token_hash {
        update = update.col_expr(orders::Column::BalanceTokenHash, Expr::value(hash));
    }
    if in_full {
        update = update.col_expr(orders::Column::Deposit, Expr::value(Option::<i64>::None));
    }
    update
        .filter(orders::Column::TenantId.eq(tenant_of(scope)))
        .filter(orders::Column::Id.eq(order))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// Campaigns of any shop with pre-orders to settle: harvests whose balances are
/// past due, and harvests called off, not yet settled. At most $1 of each.
const CAMPAIGNS_DUE: &str = "(SELECT id, tenant_id FROM preorder_campaigns \
       WHERE status = 'harvested' AND settled_at IS NULL AND balance_due_at <= now() \
       ORDER BY balance_due_at LIMIT $1) \
     UNION ALL \
     (SELECT id, tenant_id FROM preorder_campaigns \
       WHERE status = 'called_off' AND settled_at IS NULL ORDER BY called_off_at LIMIT $1)";

/// Marks a campaign settled: nothing of it is left for the sweep.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), campaign = %id))]
pub async fn settle_campaign(scope: &impl TenantScoped, id: Uuid) -> Result<(), DbErr> {
    preorder_campaigns::Entity::update_many()
        .col_expr(
            preorder_campaigns::Column::SettledAt,
            Expr::current_timestamp(),
        )
        .filter(preorder_campaigns::Column::TenantId.eq(tenant_of(scope)))
        .filter(preorder_campaigns::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// A campaign the sweep looks at, and its shop.
#[derive(Debug, Clone, Copy)]
pub struct DueCampaign {
    /// The campaign.
    pub id: Uuid,
    /// Its shop.
    pub tenant_id: Uuid,
}

/// Campaigns whose pre-orders the sweep may have to settle, of every shop
/// (platform scope).
#[tracing::instrument(skip_all)]
pub async fn campaigns_due(
    scope: &PlatformScope<'_>,
    limit: i64,
) -> Result<Vec<DueCampaign>, DbErr> {
    let rows = scope
        .conn()
        .query_all_raw(statement(CAMPAIGNS_DUE, vec![limit.into()]))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(DueCampaign {
                id: row.try_get("", "id")?,
                tenant_id: row.try_get("", "tenant_id")?,
            })
        })
        .collect()
}
