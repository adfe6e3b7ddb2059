//! Group deals and their groups, as staff and buyers see them.

use super::money;
use crate::catalog::Sellable;
use crate::domain::{DealStatus, GroupStatus, OrderStatus};
use crate::store::{DealFigures, DealRow, GroupRow, OrderRow, Places};
use caravan_shared::domain::Money;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A deal's group prices, as stored.
pub fn deal_prices(deal: &DealRow) -> Vec<Money> {
    serde_json::from_value(deal.prices.clone()).unwrap_or_default()
}

/// The groups of a deal, by status.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(example = json!({"forming": 1, "formed": 2, "failed": 0}))]
pub struct GroupCounts {
    /// Open, waiting for buyers.
    pub forming: i64,
    /// Formed: their orders ship.
    pub formed: i64,
    /// Failed: their orders were refunded.
    pub failed: i64,
}

/// A group deal as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193c1d0-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f",
    "product_id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d", "handle": "ningxia-goji-dried", "sku": "GOJI-500G",
    "product_title": {"zh-CN": "宁夏中宁枸杞", "en": "Zhongning goji berries"}, "variant_title": {"zh-CN": "500克"},
    "prices": [{"amount": 5900, "currency": "CNY"}], "regular_prices": [{"amount": 6800, "currency": "CNY"}],
    "group_size": 3, "open_hours": 24, "max_units": 200, "units_taken": 7,
    "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-31T00:00:00Z", "ended_at": null,
    "status": "live", "groups": {"forming": 1, "formed": 2, "failed": 0}, "editable": false,
    "created_at": "2026-11-30T08:00:00Z"
}))]
pub struct DealView {
    /// The deal.
    pub id: Uuid,
    /// The variant it sells.
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
    /// The group price in each currency.
    pub prices: Vec<Money>,
    /// The variant's normal prices, as the catalog sells it now.
    pub regular_prices: Vec<Money>,
    /// Paid orders a group needs to form.
    pub group_size: i32,
    /// Hours a group stays open.
    pub open_hours: i32,
    /// Units the deal may sell in all.
    pub max_units: i32,
    /// Units held or bought by its live orders.
    pub units_taken: i64,
    /// When groups may first open.
    pub starts_at: DateTime<Utc>,
    /// When groups may no longer open.
    pub ends_at: DateTime<Utc>,
    /// When staff ended it early.
    pub ended_at: Option<DateTime<Utc>>,
    /// Where it stands now.
    pub status: DealStatus,
    /// Its groups by status.
    pub groups: GroupCounts,
    /// Whether its terms may still change: until its first group opens.
    pub editable: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl DealView {
    /// The view of `deal` with what it came to and its variant as the catalog has
    /// it, at `now`.
    pub fn new(
        deal: &DealRow,
        figures: DealFigures,
        sellable: Option<&Sellable>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: deal.id,
            variant_id: deal.variant_id,
            product_id: deal.product_id,
            handle: sellable.map(|s| s.handle.clone()).unwrap_or_default(),
            sku: sellable.map(|s| s.sku.clone()).unwrap_or_default(),
            product_title: sellable
                .map(|s| s.product_title.clone())
                .unwrap_or_else(|| serde_json::json!({})),
            variant_title: sellable
                .map(|s| s.title.clone())
                .unwrap_or_else(|| serde_json::json!({})),
            prices: deal_prices(deal),
            regular_prices: sellable.map(|s| s.prices.clone()).unwrap_or_default(),
            group_size: deal.group_size,
            open_hours: deal.open_hours,
            max_units: deal.max_units,
            units_taken: figures.units,
            starts_at: deal.starts_at,
            ends_at: deal.ends_at,
            ended_at: deal.ended_at,
            status: DealStatus::at(now, deal.starts_at, deal.ends_at, deal.ended_at),
            groups: GroupCounts {
                forming: figures.forming,
                formed: figures.formed,
                failed: figures.failed,
            },
            editable: !figures.opened(),
            created_at: deal.created_at,
        }
    }
}

/// A page of deals.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [example_of::<DealView>()], "next_cursor": null}))]
pub struct DealList {
    /// The deals, newest first.
    pub items: Vec<DealView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A live deal as buyers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193c1d0-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f",
    "product_id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d", "handle": "ningxia-goji-dried",
    "product_title": {"zh-CN": "宁夏中宁枸杞"}, "variant_title": {"zh-CN": "500克"}, "image": null,
    "prices": [{"amount": 5900, "currency": "CNY"}], "regular_prices": [{"amount": 6800, "currency": "CNY"}],
    "group_size": 3, "open_hours": 24, "ends_at": "2026-12-31T00:00:00Z", "live": true, "units_left": 193
}))]
pub struct PublicDeal {
    /// The deal.
    pub id: Uuid,
    /// The variant it sells.
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
    /// The group price in each currency.
    pub prices: Vec<Money>,
    /// The normal price in each currency.
    pub regular_prices: Vec<Money>,
    /// Paid orders a group needs.
    pub group_size: i32,
    /// Hours a new group stays open.
    pub open_hours: i32,
    /// When new groups can no longer open.
    pub ends_at: DateTime<Utc>,
    /// Whether a new group can open now.
    pub live: bool,
    /// Units the deal can still sell.
    pub units_left: i64,
}

impl PublicDeal {
    /// The buyer's view of `deal`, whose variant the catalog sells as `sellable`.
    pub fn new(
        deal: &DealRow,
        figures: DealFigures,
        sellable: &Sellable,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: deal.id,
            variant_id: deal.variant_id,
            product_id: deal.product_id,
            handle: sellable.handle.clone(),
            product_title: sellable.product_title.clone(),
            variant_title: sellable.title.clone(),
            image: sellable.image.clone(),
            prices: deal_prices(deal),
            regular_prices: sellable.prices.clone(),
            group_size: deal.group_size,
            open_hours: deal.open_hours,
            ends_at: deal.ends_at,
            live: DealStatus::at(now, deal.starts_at, deal.ends_at, deal.ended_at)
                == DealStatus::Live,
            units_left: (i64::from(deal.max_units) - figures.units).max(0),
        }
    }
}

/// The live deals of a product.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [example_of::<PublicDeal>()]}))]
pub struct PublicDealList {
    /// The deals.
    pub items: Vec<PublicDeal>,
}

/// A group as its share page shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193c1d2-0000-7000-8000-00000000a001", "status": "forming", "group_size": 3, "joined": 2,
    "held": 2, "places_left": 1, "expires_at": "2026-12-02T08:00:00Z", "formed_at": null, "failed_at": null,
    "deal": example_of::<PublicDeal>()
}))]
pub struct PublicGroup {
    /// The group.
    pub id: Uuid,
    /// Where it stands.
    pub status: GroupStatus,
    /// Paid orders it needs.
    pub group_size: i32,
    /// Paid orders in it.
    pub joined: i64,
    /// Orders holding a place: paid, or waiting for payment.
    pub held: i64,
    /// Places still free.
    pub places_left: i64,
    /// When it fails if it has not formed.
    pub expires_at: DateTime<Utc>,
    /// When it formed.
    pub formed_at: Option<DateTime<Utc>>,
    /// When it failed.
    pub failed_at: Option<DateTime<Utc>>,
    /// Its deal.
    pub deal: PublicDeal,
}

/// The documented example of schema `T`, to show inside another's.
pub(crate) fn example_of<T: utoipa::PartialSchema>() -> serde_json::Value {
    serde_json::to_value(T::schema())
        .ok()
        .and_then(|schema| schema.get("example").cloned())
        .unwrap_or_default()
}

impl PublicGroup {
    /// The share page's view of `group` with its `places`.
    pub fn new(group: &GroupRow, places: Places, deal: PublicDeal) -> Self {
        Self {
            id: group.id,
            status: group.status,
            group_size: group.group_size,
            joined: places.joined,
            held: places.held,
            places_left: (i64::from(group.group_size) - places.held).max(0),
            expires_at: group.expires_at,
            formed_at: group.formed_at,
            failed_at: group.failed_at,
            deal,
        }
    }
}

/// An order in brief, as staff see it in a group or a campaign.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193c1d2-1111-7000-8000-00000000b001", "number": 1042, "status": "awaiting_group",
    "email": "wang.fang@example.cn", "total": {"amount": 6700, "currency": "CNY"},
    "paid": {"amount": 6700, "currency": "CNY"},
    "created_at": "2026-12-01T08:00:00Z", "paid_at": "2026-12-01T08:01:00Z"}))]
pub struct OrderBrief {
    /// The order.
    pub id: Uuid,
    /// Its number.
    pub number: i64,
    /// Where it stands.
    pub status: OrderStatus,
    /// The buyer's email.
    pub email: String,
    /// What the buyer pays.
    pub total: Money,
    /// What the buyer has paid so far (a pre-order's deposit, say).
    pub paid: Money,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When it was paid.
    pub paid_at: Option<DateTime<Utc>>,
}

impl From<&OrderRow> for OrderBrief {
    fn from(row: &OrderRow) -> Self {
        Self {
            id: row.id,
            number: row.number,
            status: row.status,
            email: row.email.clone(),
            total: money(row.total, row.currency),
            paid: money(row.paid, row.currency),
            created_at: row.created_at,
            paid_at: row.paid_at,
        }
    }
}

/// A group as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193c1d2-0000-7000-8000-00000000a001", "deal_id": "0193c1d0-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "status": "formed", "group_size": 2, "joined": 2, "held": 2, "places_left": 0,
    "expires_at": "2026-12-02T08:00:00Z", "formed_at": "2026-12-01T09:12:00Z", "failed_at": null,
    "created_at": "2026-12-01T08:00:00Z",
    "orders": [{"id": "0193c1d2-1111-7000-8000-00000000b001", "number": 1042, "status": "paid",
        "email": "wang.fang@example.cn", "total": {"amount": 6700, "currency": "CNY"},
        "paid": {"amount": 6700, "currency": "CNY"},
        "created_at": "2026-12-01T08:00:00Z", "paid_at": "2026-12-01T08:01:00Z"}]
}))]
pub struct GroupView {
    /// The group.
    pub id: Uuid,
    /// Its deal.
    pub deal_id: Uuid,
    /// Where it stands.
    pub status: GroupStatus,
    /// Paid orders it needs.
    pub group_size: i32,
    /// Paid orders in it.
    pub joined: i64,
    /// Orders holding a place: paid and waiting for the group, or waiting for payment.
    pub held: i64,
    /// Places still free.
    pub places_left: i64,
    /// When it fails if it has not formed.
    pub expires_at: DateTime<Utc>,
    /// When it formed.
    pub formed_at: Option<DateTime<Utc>>,
    /// When it failed.
    pub failed_at: Option<DateTime<Utc>>,
    /// When it opened.
    pub created_at: DateTime<Utc>,
    /// Its orders, oldest first (in lists: empty).
    pub orders: Vec<OrderBrief>,
}

impl GroupView {
    /// The staff view of `group` with its `places` and `orders`.
    pub fn new(group: &GroupRow, places: Places, orders: &[OrderRow]) -> Self {
        Self {
            id: group.id,
            deal_id: group.deal_id,
            status: group.status,
            group_size: group.group_size,
            joined: places.joined,
            held: places.held,
            places_left: (i64::from(group.group_size) - places.held).max(0),
            expires_at: group.expires_at,
            formed_at: group.formed_at,
            failed_at: group.failed_at,
            created_at: group.created_at,
            orders: orders.iter().map(OrderBrief::from).collect(),
        }
    }
}

/// A page of groups.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{
    "id": "0193c1d2-0000-7000-8000-00000000a001", "deal_id": "0193c1d0-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "status": "forming", "group_size": 3, "joined": 1, "held": 2, "places_left": 1,
    "expires_at": "2026-12-02T08:00:00Z", "formed_at": null, "failed_at": null,
    "created_at": "2026-12-01T08:00:00Z", "orders": []
}], "next_cursor": null}))]
pub struct GroupList {
    /// The groups, newest first.
    pub items: Vec<GroupView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The group of an order, as the order shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193c1d2-0000-7000-8000-00000000a001", "deal_id": "0193c1d0-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "status": "forming", "group_size": 3, "joined": 1, "places_left": 1, "expires_at": "2026-12-02T08:00:00Z"}))]
pub struct OrderGroup {
    /// The group: its share page is `/s/{shop}/{lang}/g/{id}`.
    pub id: Uuid,
    /// Its deal.
    pub deal_id: Uuid,
    /// Where it stands.
    pub status: GroupStatus,
    /// Paid orders it needs.
    pub group_size: i32,
    /// Paid orders in it.
    pub joined: i64,
    /// Places still free.
    pub places_left: i64,
    /// When it fails if it has not formed.
    pub expires_at: DateTime<Utc>,
}

impl OrderGroup {
    /// What an order shows of its `group`.
    pub fn new(group: &GroupRow, places: Places) -> Self {
        Self {
            id: group.id,
            deal_id: group.deal_id,
            status: group.status,
            group_size: group.group_size,
            joined: places.joined,
            places_left: (i64::from(group.group_size) - places.held).max(0),
            expires_at: group.expires_at,
        }
    }
}
