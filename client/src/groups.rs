//! Group deals (拼团): a shop offers a variant at a group price to buyers who
//! together fill a group of a given size within a few hours. Staff set deals up and
//! follow their groups; buyers see a product's live deals and a group's progress,
//! and open or join a group at checkout ([`crate::CheckoutGroup`]).

use crate::{Api, Caller, Failure, Localized, Money, Page, path_segment};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How many groups of a deal are in each state.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct GroupCounts {
    #[serde(default)]
    pub forming: i64,
    #[serde(default)]
    pub formed: i64,
    #[serde(default)]
    pub failed: i64,
}

/// A group deal as the shop's staff see it.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupDeal {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub handle: String,
    pub sku: String,
    #[serde(default)]
    pub product_title: Localized,
    #[serde(default)]
    pub variant_title: Option<Localized>,
    /// The group prices.
    pub prices: Vec<Money>,
    /// The variant's normal prices.
    #[serde(default)]
    pub regular_prices: Vec<Money>,
    pub group_size: i32,
    pub open_hours: i32,
    pub max_units: i32,
    /// Units held or sold by live group orders.
    pub units_taken: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `scheduled`, `live` or `ended`.
    pub status: String,
    #[serde(default)]
    pub groups: GroupCounts,
    /// Whether it can still be changed (until its first group opens).
    pub editable: bool,
    pub created_at: DateTime<Utc>,
}

/// A new deal.
#[derive(Debug, Clone, Serialize)]
pub struct NewGroupDeal {
    pub variant_id: Uuid,
    pub prices: Vec<Money>,
    pub group_size: i32,
    pub open_hours: i32,
    pub max_units: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
}

/// What a change to a deal sets (the fields left out stay).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupDealChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prices: Option<Vec<Money>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_size: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_hours: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_units: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
}

/// An order of a group, as staff see it.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupOrder {
    pub id: Uuid,
    pub number: i64,
    pub status: String,
    pub email: String,
    pub total: Money,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// A group of a deal, as staff see it.
#[derive(Debug, Clone, Deserialize)]
pub struct Group {
    pub id: Uuid,
    pub deal_id: Uuid,
    /// `forming`, `formed` or `failed`.
    pub status: String,
    pub group_size: i32,
    /// Paid members.
    pub joined: i64,
    /// Paid members and unpaid ones holding a place.
    pub held: i64,
    pub places_left: i64,
    pub expires_at: DateTime<Utc>,
    pub formed_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Its orders (in the single group's answer).
    #[serde(default)]
    pub orders: Vec<GroupOrder>,
}

/// A live deal as buyers see it.
#[derive(Debug, Clone, Deserialize)]
pub struct PublicDeal {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub handle: String,
    #[serde(default)]
    pub product_title: Localized,
    #[serde(default)]
    pub variant_title: Option<Localized>,
    /// The product's main image, when the API gives it.
    #[serde(default)]
    pub image: Option<crate::Image>,
    pub prices: Vec<Money>,
    #[serde(default)]
    pub regular_prices: Vec<Money>,
    pub group_size: i32,
    pub open_hours: i32,
    pub ends_at: DateTime<Utc>,
    /// Whether a new group can open now, when the API says.
    #[serde(default)]
    pub live: Option<bool>,
    pub units_left: i64,
}

/// A group as buyers (and whoever they share it with) see it.
#[derive(Debug, Clone, Deserialize)]
pub struct PublicGroup {
    pub id: Uuid,
    pub status: String,
    pub group_size: i32,
    pub joined: i64,
    pub held: i64,
    pub places_left: i64,
    pub expires_at: DateTime<Utc>,
    pub formed_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub deal: PublicDeal,
}

/// The group an order belongs to.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderGroup {
    pub id: Uuid,
    pub deal_id: Uuid,
    pub status: String,
    pub group_size: i32,
    pub joined: i64,
    pub expires_at: DateTime<Utc>,
}

/// Which group a checkout is for: a new one of a deal, or one that is forming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutGroup {
    /// `{"deal_id": …}`: opens a new group of the deal.
    DealId(Uuid),
    /// `{"group_id": …}`: joins a forming group.
    GroupId(Uuid),
}

impl Api {
    // --- staff -------------------------------------------------------------------

    /// `GET /v1/group-deals`.
    pub async fn group_deals(
        &self,
        caller: Caller<'_>,
        cursor: Option<&str>,
    ) -> Result<Page<GroupDeal>, Failure> {
        let mut query = vec![("limit", "25")];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let path = Self::query("/v1/group-deals".to_owned(), &query);
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `GET /v1/group-deals/{id}` (404 for another shop's).
    pub async fn group_deal(&self, caller: Caller<'_>, id: Uuid) -> Result<GroupDeal, Failure> {
        let path = format!("/v1/group-deals/{id}");
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `POST /v1/group-deals`.
    pub async fn create_group_deal(
        &self,
        caller: Caller<'_>,
        deal: &NewGroupDeal,
    ) -> Result<GroupDeal, Failure> {
        Self::send(
            self.request(Method::POST, "/v1/group-deals", caller)
                .json(deal),
        )
        .await
    }

    /// `PATCH /v1/group-deals/{id}`: refused (409 `deal_locked`) once a group opened.
    pub async fn update_group_deal(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        changes: &GroupDealChanges,
    ) -> Result<GroupDeal, Failure> {
        let path = format!("/v1/group-deals/{id}");
        Self::send(self.request(Method::PATCH, &path, caller).json(changes)).await
    }

    /// `POST /v1/group-deals/{id}/end`: no new groups open; forming ones run their time.
    pub async fn end_group_deal(&self, caller: Caller<'_>, id: Uuid) -> Result<GroupDeal, Failure> {
        let path = format!("/v1/group-deals/{id}/end");
        Self::send(
            self.request(Method::POST, &path, caller)
                .json(&serde_json::json!({})),
        )
        .await
    }

    /// `GET /v1/group-deals/{id}/groups?status=`: a page of the deal's groups.
    pub async fn deal_groups(
        &self,
        caller: Caller<'_>,
        deal: Uuid,
        status: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Page<Group>, Failure> {
        let mut query = vec![("limit", "20")];
        if let Some(status) = status {
            query.push(("status", status));
        }
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let path = Self::query(format!("/v1/group-deals/{deal}/groups"), &query);
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `GET /v1/groups/{id}`: a group with its orders.
    pub async fn group(&self, caller: Caller<'_>, id: Uuid) -> Result<Group, Failure> {
        let path = format!("/v1/groups/{id}");
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    // --- buyers ------------------------------------------------------------------

    /// `GET /v1/shops/{slug}/group-deals?product_id=`: the product's live deals.
    pub async fn product_group_deals(
        &self,
        caller: Caller<'_>,
        slug: &str,
        product: Uuid,
    ) -> Result<Vec<PublicDeal>, Failure> {
        #[derive(Deserialize)]
        struct Items {
            items: Vec<PublicDeal>,
        }
        let path = format!(
            "/v1/shops/{}/group-deals?product_id={product}",
            path_segment(slug)
        );
        let answer: Items = Self::send(self.request(Method::GET, &path, caller)).await?;
        Ok(answer.items)
    }

    /// `GET /v1/shops/{slug}/groups/{id}` (404 when it is not this shop's).
    pub async fn shop_group(
        &self,
        caller: Caller<'_>,
        slug: &str,
        id: Uuid,
    ) -> Result<PublicGroup, Failure> {
        let path = format!("/v1/shops/{}/groups/{id}", path_segment(slug));
        Self::send(self.request(Method::GET, &path, caller)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkout_names_the_deal_or_the_group() {
        let id = Uuid::nil();
        assert_eq!(
            serde_json::to_value(CheckoutGroup::DealId(id)).ok(),
            Some(serde_json::json!({"deal_id": id}))
        );
        assert_eq!(
            serde_json::to_value(CheckoutGroup::GroupId(id)).ok(),
            Some(serde_json::json!({"group_id": id}))
        );
    }
}
