//! Harvest pre-orders (预售): a shop sells a variant's next harvest ahead, paid in
//! full or by a deposit with the balance due once the harvest is announced. Staff
//! make campaigns, announce the harvest or call it off, and follow the pre-orders;
//! buyers see a product's open campaigns and pre-order at checkout
//! ([`CheckoutPreorder`]).

use crate::{Api, Caller, Failure, Localized, Money, Page, path_segment};
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A campaign as the shop's staff see it.
#[derive(Debug, Clone, Deserialize)]
pub struct Campaign {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub handle: String,
    pub sku: String,
    #[serde(default)]
    pub product_title: Localized,
    #[serde(default)]
    pub variant_title: Option<Localized>,
    /// The variant's prices: what a pre-order costs.
    #[serde(default)]
    pub prices: Vec<Money>,
    /// The deposit per unit in each currency; `None`: paid in full.
    pub deposits: Option<Vec<Money>>,
    pub allocation: i32,
    /// Units of live pre-orders.
    pub sold: i64,
    /// Units paid in full.
    pub paid: i64,
    /// Units shipped.
    pub shipped: i64,
    pub ships_from: NaiveDate,
    pub balance_days: i32,
    /// `forfeit` or `refund`.
    pub deposit_policy: String,
    /// `open`, `harvested` or `called_off`.
    pub status: String,
    pub ends_at: Option<DateTime<Utc>>,
    pub harvested_at: Option<DateTime<Utc>>,
    pub balance_due_at: Option<DateTime<Utc>>,
    pub called_off_at: Option<DateTime<Utc>>,
    pub call_off_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A new campaign.
#[derive(Debug, Clone, Serialize)]
pub struct NewCampaign {
    pub variant_id: Uuid,
    pub allocation: i32,
    pub ships_from: NaiveDate,
    /// `None`: pre-orders are paid in full.
    pub deposits: Option<Vec<Money>>,
    pub balance_days: i32,
    /// `forfeit` or `refund`.
    pub deposit_policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
}

/// A pre-order of a campaign, as staff see it.
#[derive(Debug, Clone, Deserialize)]
pub struct CampaignOrder {
    pub id: Uuid,
    pub number: i64,
    pub status: String,
    pub email: String,
    pub total: Money,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// An open campaign as buyers see it.
#[derive(Debug, Clone, Deserialize)]
pub struct PublicCampaign {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub handle: String,
    #[serde(default)]
    pub product_title: Localized,
    #[serde(default)]
    pub variant_title: Option<Localized>,
    #[serde(default)]
    pub prices: Vec<Money>,
    pub deposits: Option<Vec<Money>>,
    pub ships_from: NaiveDate,
    pub units_left: i64,
    pub balance_days: i32,
    /// `forfeit` or `refund`.
    pub deposit_policy: String,
}

/// What an order shows of its pre-order campaign.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderPreorder {
    pub campaign_id: Uuid,
    pub ships_from: NaiveDate,
    /// What the first payment takes, when it is a deposit.
    pub deposit: Option<Money>,
    /// What is left to pay (total − paid).
    pub balance: Money,
    /// When the balance is due, once the harvest is announced.
    pub balance_due_at: Option<DateTime<Utc>>,
    pub harvested: bool,
    pub called_off: bool,
    /// `forfeit` or `refund`.
    pub deposit_policy: String,
}

/// A checkout's pre-order: `{"campaign_id": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckoutPreorder {
    pub campaign_id: Uuid,
}

impl Api {
    // --- staff -------------------------------------------------------------------

    /// `GET /v1/preorder-campaigns`.
    pub async fn campaigns(
        &self,
        caller: Caller<'_>,
        cursor: Option<&str>,
    ) -> Result<Page<Campaign>, Failure> {
        let mut query = vec![("limit", "25")];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let path = Self::query("/v1/preorder-campaigns".to_owned(), &query);
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `GET /v1/preorder-campaigns/{id}` (404 for another shop's).
    pub async fn campaign(&self, caller: Caller<'_>, id: Uuid) -> Result<Campaign, Failure> {
        let path = format!("/v1/preorder-campaigns/{id}");
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `POST /v1/preorder-campaigns`.
    pub async fn create_campaign(
        &self,
        caller: Caller<'_>,
        campaign: &NewCampaign,
    ) -> Result<Campaign, Failure> {
        Self::send(
            self.request(Method::POST, "/v1/preorder-campaigns", caller)
                .json(campaign),
        )
        .await
    }

    /// `GET /v1/preorder-campaigns/{id}/orders`: its pre-orders in order of purchase.
    pub async fn campaign_orders(
        &self,
        caller: Caller<'_>,
        id: Uuid,
    ) -> Result<Vec<CampaignOrder>, Failure> {
        let path = format!("/v1/preorder-campaigns/{id}/orders");
        self.every(&path, &[], caller).await
    }

    /// `POST /v1/preorder-campaigns/{id}/harvest`: the harvest is in (409
    /// `campaign_closed` unless open).
    pub async fn announce_harvest(
        &self,
        caller: Caller<'_>,
        id: Uuid,
    ) -> Result<Campaign, Failure> {
        let path = format!("/v1/preorder-campaigns/{id}/harvest");
        Self::send(
            self.request(Method::POST, &path, caller)
                .json(&serde_json::json!({})),
        )
        .await
    }

    /// `POST /v1/preorder-campaigns/{id}/call-off`: every pre-order is cancelled and
    /// refunded in full (409 `campaign_closed` unless open).
    pub async fn call_off_harvest(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        reason: &str,
    ) -> Result<Campaign, Failure> {
        let path = format!("/v1/preorder-campaigns/{id}/call-off");
        Self::send(
            self.request(Method::POST, &path, caller)
                .json(&serde_json::json!({"reason": reason})),
        )
        .await
    }

    // --- buyers ------------------------------------------------------------------

    /// `GET /v1/shops/{slug}/preorder-campaigns?product_id=`: the product's open
    /// campaigns.
    pub async fn product_campaigns(
        &self,
        caller: Caller<'_>,
        slug: &str,
        product: Uuid,
    ) -> Result<Vec<PublicCampaign>, Failure> {
        #[derive(Deserialize)]
        struct Items {
            items: Vec<PublicCampaign>,
        }
        let path = format!(
            "/v1/shops/{}/preorder-campaigns?product_id={product}",
            path_segment(slug)
        );
        let answer: Items = Self::send(self.request(Method::GET, &path, caller)).await?;
        Ok(answer.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_campaign_paid_in_full_sends_null_deposits() {
        let campaign = NewCampaign {
            variant_id: Uuid::nil(),
            allocation: 10,
            ships_from: NaiveDate::from_ymd_opt(2027, 7, 20).unwrap_or_default(),
            deposits: None,
            balance_days: 7,
            deposit_policy: "forfeit".into(),
            ends_at: None,
        };
        let body = serde_json::to_value(&campaign).unwrap_or_default();
        assert_eq!(body["deposits"], serde_json::Value::Null);
        assert_eq!(body["ships_from"], "2027-07-20");
        assert!(body.get("ends_at").is_none());
    }
}
