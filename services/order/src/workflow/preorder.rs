//! Harvest pre-orders (预售) in an order's life.
//!
//! - A checkout of a campaign's variant ([`offer`], then [`take_allocation`] in the
//!   order's transaction) holds no stock: it counts against the campaign's
//!   allocation, under the campaign's lock, so the allocation is never oversold.
//!   Its first payment takes the deposit (or all of it) and the order becomes
//!   `preordered` ([`preordered`]).
//! - The shop announces the harvest ([`announce`]): pre-orders paid in full move to
//!   fulfilment (`paid`, in order of purchase); the others are emailed a link to
//!   pay the balance by a deadline. A balance paid moves its order to fulfilment.
//! - Balances unpaid at the deadline cancel their orders under the shop's deposit
//!   policy, and a harvest called off cancels and refunds every pre-order
//!   ([`crate::sweep`]).

use super::{Locked, ShopContact};
use crate::domain::{Action, CampaignStatus, OrderStatus, preorder::deposit_in};
use crate::emails;
use crate::events;
use crate::store::{self, CampaignRow, CartLineRow, WAITING};
use caravan_shared::domain::{Currency, Money};
use caravan_shared::mail;
use caravan_shared::secrets;
use caravan_shared::tenancy::TenantScoped;
use caravan_shared::{ApiError, ErrorCode};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

/// Who moves and cancels pre-orders at the harvest, and when it is called off.
pub const HARVEST_ACTOR: &str = "harvest";

/// A pre-order a checkout may take, found before the order is written.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The campaign.
    pub campaign: Uuid,
    /// Its variant, the cart's one line.
    pub variant: Uuid,
    /// The deposit per unit in the cart's currency; `None`: paid in full.
    pub deposit: Option<Money>,
}

fn closed(detail: &str) -> ApiError {
    ApiError::conflict(ErrorCode::CampaignClosed, detail.to_owned())
        .with_field("preorder", detail.to_owned())
}

/// Why a campaign takes no pre-order now, if it does not.
fn not_open(campaign: &CampaignRow, now: DateTime<Utc>) -> Option<ApiError> {
    match campaign.status {
        CampaignStatus::Open if campaign.ends_at.is_some_and(|end| end <= now) => {
            Some(closed("pre-orders of this harvest have closed"))
        }
        CampaignStatus::Open => None,
        CampaignStatus::Harvested => Some(closed(
            "this harvest is in: buy it from stock instead of pre-ordering",
        )),
        CampaignStatus::CalledOff => Some(closed("this harvest was called off")),
    }
}

/// The pre-order a checkout of `cart_lines` in `currency` may take: the campaign
/// is the shop's and open, and the cart holds only its variant. Read without
/// locks; [`take_allocation`] decides under them.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), campaign = %campaign))]
pub async fn offer(
    scope: &impl TenantScoped,
    campaign: Uuid,
    cart_lines: &[CartLineRow],
    currency: Currency,
) -> Result<Offer, ApiError> {
    let campaign = store::campaign(scope, campaign, false)
        .await?
        .ok_or_else(|| ApiError::invalid_field("preorder.campaign_id", "no such campaign"))?;
    if let Some(refusal) = not_open(&campaign, Utc::now()) {
        return Err(refusal);
    }
    let one_line = matches!(cart_lines, [line] if line.variant_id == campaign.variant_id);
    if !one_line {
        return Err(ApiError::invalid_field(
            "cart_id",
            "a pre-order holds exactly one line: the campaign's variant",
        ));
    }
    let deposit = match deposits(&campaign) {
        None => None,
        Some(deposits) => Some(deposit_in(&deposits, currency).ok_or_else(|| {
            ApiError::invalid_field(
                "cart_id",
                format!("this pre-order takes no deposit in {currency}"),
            )
        })?),
    };
    Ok(Offer {
        campaign: campaign.id,
        variant: campaign.variant_id,
        deposit,
    })
}

/// A campaign's deposits per unit, if it takes deposits.
pub fn deposits(campaign: &CampaignRow) -> Option<Vec<Money>> {
    campaign
        .deposits
        .as_ref()
        .map(|d| serde_json::from_value(d.clone()).unwrap_or_default())
}

/// Takes `quantity` units of the campaign's allocation for an order, in the
/// order's transaction: locks the campaign and checks that it is still open with
/// the units left. Refusals are 409s.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), campaign = %offer.campaign, quantity = quantity))]
pub async fn take_allocation(
    scope: &impl TenantScoped,
    offer: &Offer,
    quantity: i32,
) -> Result<(), ApiError> {
    let campaign = store::campaign(scope, offer.campaign, true)
        .await?
        .ok_or_else(|| ApiError::not_found("no such campaign"))?;
    if let Some(refusal) = not_open(&campaign, Utc::now()) {
        return Err(refusal);
    }
    let sold = store::campaign_figures(scope, &[campaign.id])
        .await?
        .remove(&campaign.id)
        .unwrap_or_default()
        .sold;
    if sold + i64::from(quantity) > i64::from(campaign.allocation) {
        let left = (i64::from(campaign.allocation) - sold).max(0);
        return Err(ApiError::conflict(
            ErrorCode::AllocationSoldOut,
            format!("this harvest has {left} unit(s) left to pre-order; {quantity} asked"),
        )
        .with_field("quantity", format!("at most {left}")));
    }
    Ok(())
}

/// The first payment of a pre-order arrived (`preordered` now): `order.preordered`,
/// and if the harvest was announced meanwhile (it then paid in full), it moves to
/// fulfilment at once.
pub async fn preordered(
    scope: &impl TenantScoped,
    order: &Locked,
    actor: &str,
) -> Result<(), ApiError> {
    let (after, _) = super::current(scope, order.row.id).await?;
    events::publish(
        scope,
        "order.preordered",
        &after,
        &order.lines,
        json!({"preorder_campaign_id": after.preorder_campaign_id}),
    )
    .await?;
    if after.balance_due_at.is_some() && after.paid >= after.total {
        let now = Locked {
            row: after,
            lines: order.lines.clone(),
        };
        ship(scope, &now, actor).await?;
    }
    Ok(())
}

/// Moves a pre-order paid in full to fulfilment (`paid`, `order.paid`).
async fn ship(scope: &impl TenantScoped, order: &Locked, actor: &str) -> Result<(), ApiError> {
    let transition = super::advance(&order.row, Action::Harvest)?;
    store::set_status(scope, order.row.id, transition).await?;
    store::note(
        scope,
        order.row.id,
        actor,
        "harvested",
        json!({"preorder_campaign_id": order.row.preorder_campaign_id}),
    )
    .await?;
    let (after, _) = super::current(scope, order.row.id).await?;
    events::publish(
        scope,
        "order.paid",
        &after,
        &order.lines,
        json!({"provider": after.payment_provider, "preorder_campaign_id": after.preorder_campaign_id}),
    )
    .await?;
    Ok(())
}

/// What announcing a harvest came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Announced {
    /// Pre-orders paid in full, now in fulfilment.
    pub shipping: usize,
    /// Pre-orders emailed to pay their balance.
    pub balance_due: usize,
}

/// Announces the harvest of `campaign` (locked, open): its balances are due in
/// its `balance_days`; every pre-order waiting for it moves, in order of purchase.
/// The balance emails link to the order with a token of their own (`public_url`,
/// `shop` for the link).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), campaign = %campaign.id))]
pub async fn announce(
    scope: &impl TenantScoped,
    campaign: &CampaignRow,
    public_url: &str,
    shop: &str,
    actor: &str,
) -> Result<Announced, ApiError> {
    if campaign.status != CampaignStatus::Open {
        return Err(ApiError::conflict(
            ErrorCode::CampaignClosed,
            format!(
                "this harvest is {} already",
                campaign.status.as_str().replace('_', " ")
            ),
        ));
    }
    let due_at = Utc::now() + chrono::Duration::days(i64::from(campaign.balance_days));
    store::harvest_campaign(scope, campaign.id, due_at).await?;
    let contact = super::shop_contact(scope, store::settings(scope).await?).await?;
    let mut announced = Announced::default();
    for row in store::campaign_orders(scope, campaign.id, &WAITING).await? {
        let Some(order) = super::lock(scope, row.id).await? else {
            continue;
        };
        match order.row.status {
            // Not paid yet: when it is, it is paid in full and ships at once.
            OrderStatus::PendingPayment => {
                store::announce_harvest(scope, row.id, due_at, None, true).await?;
            }
            OrderStatus::Preordered if order.row.paid >= order.row.total => {
                store::announce_harvest(scope, row.id, due_at, None, false).await?;
                ship(scope, &order, actor).await?;
                let (_, view) = super::current(scope, row.id).await?;
                mail::enqueue(
                    scope.conn(),
                    &emails::harvest_shipping(&view, &contact.name),
                )
                .await?;
                announced.shipping += 1;
            }
            _ => {
                let token = secrets::generate();
                store::announce_harvest(scope, row.id, due_at, Some(&secrets::hash(&token)), false)
                    .await?;
                balance_email(scope, &contact, public_url, shop, row.id, &token).await?;
                announced.balance_due += 1;
            }
        }
    }
    let after = store::campaign(scope, campaign.id, false)
        .await?
        .unwrap_or_else(|| campaign.clone());
    publish(
        scope,
        "preorder.harvested",
        &after,
        json!({"shipping": announced.shipping, "balance_due": announced.balance_due}),
    )
    .await?;
    Ok(announced)
}

async fn balance_email(
    scope: &impl TenantScoped,
    contact: &ShopContact,
    public_url: &str,
    shop: &str,
    order: Uuid,
    token: &str,
) -> Result<(), ApiError> {
    let (_, view) = super::current(scope, order).await?;
    let page = emails::order_page(public_url, shop, &view, token);
    mail::enqueue(
        scope.conn(),
        &emails::balance_due(&view, &contact.name, &page),
    )
    .await?;
    Ok(())
}

/// Records `event_type` for `campaign` as it now stands.
pub async fn publish(
    scope: &impl TenantScoped,
    event_type: &str,
    campaign: &CampaignRow,
    extra: serde_json::Value,
) -> Result<(), ApiError> {
    let figures = store::campaign_figures(scope, &[campaign.id])
        .await?
        .remove(&campaign.id)
        .unwrap_or_default();
    events::publish_campaign(scope, event_type, campaign, figures, extra).await?;
    Ok(())
}
