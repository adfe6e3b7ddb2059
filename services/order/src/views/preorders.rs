//! Harvest pre-order campaigns, as staff and buyers see them, and what a
//! pre-order shows of its campaign.

use super::money;
use crate::catalog::Sellable;
use crate::domain::{CampaignStatus, DepositPolicy};
use crate::store::{CampaignFigures, CampaignRow, OrderRow};
use crate::workflow::preorder::deposits;
use caravan_shared::domain::Money;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A pre-order campaign as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193c2e0-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f",
    "product_id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d", "handle": "hami-melon-2027", "sku": "HAMI-2PC",
    "product_title": {"zh-CN": "哈密瓜（2027 新季）"}, "variant_title": {"zh-CN": "两只装"},
    "prices": [{"amount": 12800, "currency": "CNY"}], "deposits": [{"amount": 3000, "currency": "CNY"}],
    "allocation": 500, "sold": 212, "paid": 40, "shipped": 0, "ships_from": "2027-07-20",
    "balance_days": 7, "deposit_policy": "forfeit", "status": "open", "ends_at": null,
    "harvested_at": null, "balance_due_at": null, "called_off_at": null, "call_off_reason": null,
    "created_at": "2026-12-01T08:00:00Z"
}))]
pub struct CampaignView {
    /// The campaign.
    pub id: Uuid,
    /// The variant it pre-sells.
    pub variant_id: Uuid,
    /// The variant's product.
    pub product_id: Uuid,
    /// The product's handle (empty if the catalog no longer has it).
    pub handle: String,
    /// The variant's SKU.
    pub sku: String,
    /// The product's title in every language it has.
    #[schema(value_type = Object)]
    pub product_title: serde_json::Value,
    /// The variant's title in every language it has.
    #[schema(value_type = Object)]
    pub variant_title: serde_json::Value,
    /// The variant's prices: what a pre-order costs.
    pub prices: Vec<Money>,
    /// The deposit per unit in each currency; `null`: pre-orders are paid in full.
    pub deposits: Option<Vec<Money>>,
    /// Units the harvest is promised to.
    pub allocation: i32,
    /// Units pre-ordered (every pre-order not cancelled or let expire).
    pub sold: i64,
    /// Units paid in full.
    pub paid: i64,
    /// Units shipped.
    pub shipped: i64,
    /// The day the harvest ships from.
    pub ships_from: NaiveDate,
    /// Days to pay the balance once the harvest is announced.
    pub balance_days: i32,
    /// What an unpaid balance costs the buyer.
    pub deposit_policy: DepositPolicy,
    /// Where it stands.
    pub status: CampaignStatus,
    /// When pre-orders close, if before the harvest.
    pub ends_at: Option<DateTime<Utc>>,
    /// When the harvest was announced.
    pub harvested_at: Option<DateTime<Utc>>,
    /// When balances are due.
    pub balance_due_at: Option<DateTime<Utc>>,
    /// When the harvest was called off.
    pub called_off_at: Option<DateTime<Utc>>,
    /// Why.
    pub call_off_reason: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl CampaignView {
    /// The view of `campaign` with what it came to and its variant as the catalog
    /// has it.
    pub fn new(
        campaign: &CampaignRow,
        figures: CampaignFigures,
        sellable: Option<&Sellable>,
    ) -> Self {
        Self {
            id: campaign.id,
            variant_id: campaign.variant_id,
            product_id: campaign.product_id,
            handle: sellable.map(|s| s.handle.clone()).unwrap_or_default(),
            sku: sellable.map(|s| s.sku.clone()).unwrap_or_default(),
            product_title: sellable
                .map(|s| s.product_title.clone())
                .unwrap_or_else(|| serde_json::json!({})),
            variant_title: sellable
                .map(|s| s.title.clone())
                .unwrap_or_else(|| serde_json::json!({})),
            prices: sellable.map(|s| s.prices.clone()).unwrap_or_default(),
            deposits: deposits(campaign),
            allocation: campaign.allocation,
            sold: figures.sold,
            paid: figures.paid,
            shipped: figures.shipped,
            ships_from: campaign.ships_from,
            balance_days: campaign.balance_days,
            deposit_policy: campaign.deposit_policy,
            status: campaign.status,
            ends_at: campaign.ends_at,
            harvested_at: campaign.harvested_at,
            balance_due_at: campaign.balance_due_at,
            called_off_at: campaign.called_off_at,
            call_off_reason: campaign.call_off_reason.clone(),
            created_at: campaign.created_at,
        }
    }
}

/// A page of campaigns.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [super::example_of::<CampaignView>()], "next_cursor": null}))]
pub struct CampaignList {
    /// The campaigns, newest first.
    pub items: Vec<CampaignView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// An open campaign as buyers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193c2e0-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f",
    "product_id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d", "handle": "hami-melon-2027",
    "product_title": {"zh-CN": "哈密瓜（2027 新季）"}, "variant_title": {"zh-CN": "两只装"}, "image": null,
    "prices": [{"amount": 12800, "currency": "CNY"}], "deposits": [{"amount": 3000, "currency": "CNY"}],
    "ships_from": "2027-07-20", "units_left": 288, "balance_days": 7, "deposit_policy": "forfeit",
    "ends_at": null
}))]
pub struct PublicCampaign {
    /// The campaign.
    pub id: Uuid,
    /// The variant it pre-sells.
    pub variant_id: Uuid,
    /// The variant's product.
    pub product_id: Uuid,
    /// The product's handle, for its page.
    pub handle: String,
    /// The product's title in every language it has.
    #[schema(value_type = Object)]
    pub product_title: serde_json::Value,
    /// The variant's title in every language it has.
    #[schema(value_type = Object)]
    pub variant_title: serde_json::Value,
    /// The product's main image, if it has one (`{url, alt}`).
    #[schema(value_type = Option<Object>)]
    pub image: Option<serde_json::Value>,
    /// What a unit costs in each currency.
    pub prices: Vec<Money>,
    /// The deposit per unit in each currency; `null`: paid in full at checkout.
    pub deposits: Option<Vec<Money>>,
    /// The day the harvest ships from.
    pub ships_from: NaiveDate,
    /// Units still to pre-order.
    pub units_left: i64,
    /// Days buyers have to pay the balance once the harvest is announced.
    pub balance_days: i32,
    /// What an unpaid balance costs.
    pub deposit_policy: DepositPolicy,
    /// When pre-orders close, if before the harvest.
    pub ends_at: Option<DateTime<Utc>>,
}

impl PublicCampaign {
    /// The buyer's view of `campaign`, whose variant the catalog sells as `sellable`.
    pub fn new(campaign: &CampaignRow, figures: CampaignFigures, sellable: &Sellable) -> Self {
        Self {
            id: campaign.id,
            variant_id: campaign.variant_id,
            product_id: campaign.product_id,
            handle: sellable.handle.clone(),
            product_title: sellable.product_title.clone(),
            variant_title: sellable.title.clone(),
            image: sellable.image.clone(),
            prices: sellable.prices.clone(),
            deposits: deposits(campaign),
            ships_from: campaign.ships_from,
            units_left: (i64::from(campaign.allocation) - figures.sold).max(0),
            balance_days: campaign.balance_days,
            deposit_policy: campaign.deposit_policy,
            ends_at: campaign.ends_at,
        }
    }
}

/// The open campaigns of a product.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [super::example_of::<PublicCampaign>()]}))]
pub struct PublicCampaignList {
    /// The campaigns.
    pub items: Vec<PublicCampaign>,
}

/// What a pre-order shows of its campaign.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"campaign_id": "0193c2e0-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "ships_from": "2027-07-20",
    "deposit": {"amount": 3000, "currency": "CNY"}, "balance": {"amount": 11000, "currency": "CNY"},
    "balance_due_at": null, "harvested": false, "called_off": false, "deposit_policy": "forfeit"}))]
pub struct OrderPreorder {
    /// The campaign.
    pub campaign_id: Uuid,
    /// The day the harvest ships from.
    pub ships_from: NaiveDate,
    /// What the first payment takes, when it is a deposit.
    pub deposit: Option<Money>,
    /// What is left to pay.
    pub balance: Money,
    /// When the balance is due, once the harvest is announced.
    pub balance_due_at: Option<DateTime<Utc>>,
    /// Whether the harvest is announced.
    pub harvested: bool,
    /// Whether the harvest was called off.
    pub called_off: bool,
    /// What an unpaid balance costs.
    pub deposit_policy: DepositPolicy,
}

impl OrderPreorder {
    /// What `order` shows of its `campaign`.
    pub fn new(order: &OrderRow, campaign: &CampaignRow) -> Self {
        Self {
            campaign_id: campaign.id,
            ships_from: campaign.ships_from,
            deposit: order.deposit.map(|d| money(d, order.currency)),
            balance: money(order.total - order.paid, order.currency),
            balance_due_at: order.balance_due_at,
            harvested: campaign.status == CampaignStatus::Harvested,
            called_off: campaign.status == CampaignStatus::CalledOff,
            deposit_policy: campaign.deposit_policy,
        }
    }
}

/// The pre-orders of a campaign, in order of purchase.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [super::example_of::<super::OrderBrief>()], "next_cursor": null}))]
pub struct CampaignOrders {
    /// The orders, the first placed first.
    pub items: Vec<super::OrderBrief>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}
