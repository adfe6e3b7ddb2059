//! Group deals (拼团) in an order's life.
//!
//! - A checkout at the group price ([`offer`], then [`take_place`] in the order's
//!   transaction) opens a group of a live deal or joins a forming one. The deal's
//!   row is locked first, then the group's: the deal's units and the group's places
//!   are counted one checkout at a time, so no deal sells more units than it may
//!   and no group holds more orders than its size. Every order not cancelled or let
//!   expire holds a place, paid or not; an unpaid one gives its place back when its
//!   payment window passes and it expires.
//! - Its payment ([`paid_into`], in the payment's transaction with the order
//!   locked) makes the order `awaiting_group`, paid with its stock still held; the
//!   payment that makes the group's paid orders its size forms the group in that
//!   same transaction: every order of it becomes `paid` (`order.paid`, and the
//!   catalog commits its stock) and its buyer is emailed.
//! - A group still forming when its time runs out fails ([`crate::sweep`]):
//!   every order is cancelled, the paid ones refunded in full, stock released.
//!
//! Locks are taken in one order everywhere: an order, then its group (a payment),
//! or the deal, then the group (a checkout, which locks no existing order). The
//! sweep takes a group, then only the orders nobody else holds.

use crate::catalog::Sellable;
use crate::domain::{Action, DealStatus, GroupStatus, OrderStatus};
use crate::emails;
use crate::events;
use crate::store::{self, CartLineRow, DealRow, GroupRow, OrderRow, Places};
use crate::views::{OrderGroup, deal_prices};
use caravan_shared::domain::{Currency, Money};
use caravan_shared::mail;
use caravan_shared::tenancy::TenantScoped;
use caravan_shared::{ApiError, ErrorCode};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

/// Who cancels the orders of a group that did not form.
pub const GROUP_ACTOR: &str = "group";

/// What a checkout at the group price asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupAsk {
    /// Open a new group of this deal.
    Open(Uuid),
    /// Join this forming group.
    Join(Uuid),
}

/// The group price a checkout may use, found before the stock is reserved.
#[derive(Debug, Clone)]
pub struct Offer {
    /// What was asked.
    pub ask: GroupAsk,
    /// The deal.
    pub deal: Uuid,
    /// The deal's variant, the cart's one line.
    pub variant: Uuid,
    /// The group price in the cart's currency.
    pub price: Money,
}

/// The 409 for a group that formed or failed.
fn closed(group: &GroupRow) -> ApiError {
    let why = match group.status {
        GroupStatus::Formed => "this group has formed already",
        _ => "this group's time has run out",
    };
    ApiError::conflict(
        ErrorCode::GroupClosed,
        format!("{why}; open a new group of the deal instead"),
    )
    .with_field("deal_id", group.deal_id.to_string())
}

/// The 409 for a deal that is not open to new groups now.
fn not_live(deal: &DealRow, now: DateTime<Utc>) -> Option<ApiError> {
    let message = match DealStatus::at(now, deal.starts_at, deal.ends_at, deal.ended_at) {
        DealStatus::Live => return None,
        DealStatus::Scheduled => "this deal has not started yet",
        DealStatus::Ended => "this deal has ended",
    };
    Some(ApiError::conflict(ErrorCode::DealNotLive, message).with_field("group", message))
}

fn group_full(group: &GroupRow) -> ApiError {
    ApiError::conflict(
        ErrorCode::GroupFull,
        format!(
            "every place of this group of {} is taken; open a new group of the deal instead",
            group.group_size
        ),
    )
    .with_field("deal_id", group.deal_id.to_string())
}

/// The offer a group checkout of `cart_lines` in `currency` may use: the deal is
/// the shop's, the cart holds only its variant, the deal is priced in the currency,
/// and a group to join is still forming. Read without locks; [`take_place`]
/// decides under them.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), ask = ?ask))]
pub async fn offer(
    scope: &impl TenantScoped,
    ask: GroupAsk,
    cart_lines: &[CartLineRow],
    currency: Currency,
) -> Result<Offer, ApiError> {
    let now = Utc::now();
    let (deal, group) = match ask {
        GroupAsk::Open(deal) => {
            let deal = store::deal(scope, deal, false)
                .await?
                .ok_or_else(|| ApiError::invalid_field("group.deal_id", "no such deal"))?;
            (deal, None)
        }
        GroupAsk::Join(group) => {
            let group = store::group(scope, group, false)
                .await?
                .ok_or_else(|| ApiError::invalid_field("group.group_id", "no such group"))?;
            let deal = store::deal(scope, group.deal_id, false)
                .await?
                .ok_or_else(|| ApiError::not_found("no such deal"))?;
            (deal, Some(group))
        }
    };
    match &group {
        Some(group) if group.status != GroupStatus::Forming || group.expires_at <= now => {
            return Err(closed(group));
        }
        Some(_) => {}
        None => {
            if let Some(refusal) = not_live(&deal, now) {
                return Err(refusal);
            }
        }
    }
    let [line] = cart_lines else {
        return Err(ApiError::invalid_field(
            "cart_id",
            "a group checkout holds exactly one line: the deal's variant",
        ));
    };
    if line.variant_id != deal.variant_id {
        return Err(ApiError::invalid_field(
            "cart_id",
            "a group checkout holds exactly one line: the deal's variant",
        ));
    }
    let price = deal_prices(&deal)
        .into_iter()
        .find(|price| price.currency == currency)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "cart_id",
                format!("this deal has no group price in {currency}"),
            )
        })?;
    Ok(Offer {
        ask,
        deal: deal.id,
        variant: deal.variant_id,
        price,
    })
}

/// The unit price of a group line: the group price, or the normal price should the
/// catalog now sell it for less.
pub fn unit_price(offer: &Offer, sellable: &Sellable) -> Money {
    match sellable.price_in(offer.price.currency) {
        Some(regular) if regular.amount < offer.price.amount => regular,
        _ => offer.price,
    }
}

/// A place taken in a group by a checkout.
pub struct Place {
    /// The group, opened by this checkout or joined.
    pub group: GroupRow,
    /// Whether this checkout opened it.
    pub opened: bool,
}

/// Takes a place for an order of `quantity` units in the group of `offer`, in the
/// order's transaction: locks the deal, checks that it has the units (and, to open
/// a group, that it is live), then opens a group or locks the one to join and
/// checks that it is still forming with a place free. Refusals are 409s.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), deal = %offer.deal, quantity = quantity))]
pub async fn take_place(
    scope: &impl TenantScoped,
    offer: &Offer,
    quantity: i32,
) -> Result<Place, ApiError> {
    let now = Utc::now();
    let deal = store::deal(scope, offer.deal, true)
        .await?
        .ok_or_else(|| ApiError::not_found("no such deal"))?;
    let figures = store::deal_figures(scope, &[deal.id])
        .await?
        .remove(&deal.id)
        .unwrap_or_default();
    if figures.units + i64::from(quantity) > i64::from(deal.max_units) {
        let left = (i64::from(deal.max_units) - figures.units).max(0);
        return Err(ApiError::conflict(
            ErrorCode::DealSoldOut,
            format!("this deal has {left} unit(s) left; {quantity} asked"),
        )
        .with_field("quantity", format!("at most {left}")));
    }
    match offer.ask {
        GroupAsk::Open(_) => {
            if let Some(refusal) = not_live(&deal, now) {
                return Err(refusal);
            }
            let expires_at = now + chrono::Duration::hours(i64::from(deal.open_hours));
            let group = store::insert_group(scope, &deal, expires_at).await?;
            Ok(Place {
                group,
                opened: true,
            })
        }
        GroupAsk::Join(id) => {
            let group = store::group(scope, id, true)
                .await?
                .ok_or_else(|| ApiError::not_found("no such group"))?;
            if group.status != GroupStatus::Forming || group.expires_at <= now {
                return Err(closed(&group));
            }
            let places = places_of(scope, &group).await?;
            if places.held >= i64::from(group.group_size) {
                return Err(group_full(&group));
            }
            Ok(Place {
                group,
                opened: false,
            })
        }
    }
}

/// The places of `group` as they now stand.
pub async fn places_of(scope: &impl TenantScoped, group: &GroupRow) -> Result<Places, ApiError> {
    Ok(store::places(scope, &[group.id])
        .await?
        .remove(&group.id)
        .unwrap_or_default())
}

/// What an order shows of its group, as it now stands.
pub async fn order_group(
    scope: &impl TenantScoped,
    group: Uuid,
) -> Result<Option<OrderGroup>, sea_orm::DbErr> {
    let Some(row) = store::group(scope, group, false).await? else {
        return Ok(None);
    };
    let places = store::places(scope, &[group])
        .await?
        .remove(&group)
        .unwrap_or_default();
    Ok(Some(OrderGroup::new(&row, places)))
}

/// Records `event_type` for `group` as it now stands.
async fn publish(
    scope: &impl TenantScoped,
    event_type: &str,
    group: &GroupRow,
    extra: serde_json::Value,
) -> Result<(), ApiError> {
    let places = places_of(scope, group).await?;
    events::publish_group(scope, event_type, group, places, extra).await?;
    Ok(())
}

/// Records `event_type` for the group with `id` as its row now reads, after a
/// change of status.
async fn publish_changed(
    scope: &impl TenantScoped,
    event_type: &str,
    id: Uuid,
    extra: serde_json::Value,
) -> Result<(), ApiError> {
    let group = store::group(scope, id, false)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("group {id} vanished")))?;
    publish(scope, event_type, &group, extra).await
}

/// Announces a group opened by a checkout (`group.opened`).
pub async fn opened(
    scope: &impl TenantScoped,
    group: &GroupRow,
    order: Uuid,
) -> Result<(), ApiError> {
    publish(scope, "group.opened", group, json!({"order_id": order})).await
}

/// Puts the just-paid `order` (now `awaiting_group`) into its group: announces the
/// join (`group.joined`) and, if the group now has its size in paid orders and its
/// time has not run out, forms it.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order.id, group = %group))]
pub async fn paid_into(
    scope: &impl TenantScoped,
    order: &OrderRow,
    group: Uuid,
    actor: &str,
) -> Result<(), ApiError> {
    let group = store::group(scope, group, true).await?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("the group of order {} vanished", order.id))
    })?;
    let places = places_of(scope, &group).await?;
    let joined = json!({"order_id": order.id});
    events::publish_group(scope, "group.joined", &group, places, joined).await?;
    // A payment after the group's time ran out joins nothing: the sweep fails the
    // group and refunds it with the others.
    if group.status == GroupStatus::Forming
        && group.expires_at > Utc::now()
        && places.joined >= i64::from(group.group_size)
    {
        form(scope, &group, actor).await?;
    }
    Ok(())
}

/// Forms `group` (locked): every order waiting for it becomes `paid`, with its
/// `order.paid` and its email, then `group.formed`.
async fn form(scope: &impl TenantScoped, group: &GroupRow, actor: &str) -> Result<(), ApiError> {
    let waiting = store::lock_group_orders(scope, group.id, &[OrderStatus::AwaitingGroup]).await?;
    let shop = super::shop_contact(scope, store::settings(scope).await?).await?;
    for row in &waiting {
        let transition = row
            .status
            .apply(Action::FormGroup)
            .map_err(super::illegal)?;
        store::set_status(scope, row.id, transition).await?;
        store::note(
            scope,
            row.id,
            actor,
            "group_formed",
            json!({"group_id": group.id}),
        )
        .await?;
    }
    if !store::set_group_status(scope, group.id, GroupStatus::Forming, GroupStatus::Formed).await? {
        return Err(ApiError::internal(anyhow::anyhow!(
            "group {} was no longer forming",
            group.id
        )));
    }
    for row in &waiting {
        let (after, lines, view) = super::load(scope, row.id)
            .await?
            .ok_or_else(|| ApiError::not_found("no such order"))?;
        events::publish(
            scope,
            "order.paid",
            &after,
            &lines,
            json!({"provider": after.payment_provider, "group_id": group.id}),
        )
        .await?;
        mail::enqueue(scope.conn(), &emails::group_formed(&view, &shop.name)).await?;
    }
    let orders: Vec<Uuid> = waiting.iter().map(|row| row.id).collect();
    publish_changed(scope, "group.formed", group.id, json!({"orders": orders})).await?;
    tracing::info!(group = %group.id, orders = orders.len(), "group formed");
    Ok(())
}

/// Marks `group` (locked, forming, its time run out) failed, with `group.failed`
/// naming its orders, which are cancelled in the same transaction.
pub async fn failed(scope: &impl TenantScoped, group: &GroupRow) -> Result<(), ApiError> {
    if store::set_group_status(scope, group.id, GroupStatus::Forming, GroupStatus::Failed).await? {
        let orders: Vec<Uuid> = store::group_orders(scope, group.id)
            .await?
            .iter()
            .map(|row| row.id)
            .collect();
        publish_changed(scope, "group.failed", group.id, json!({"orders": orders})).await?;
        tracing::info!(group = %group.id, "group failed: its time ran out");
    }
    Ok(())
}
