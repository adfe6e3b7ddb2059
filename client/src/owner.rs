//! The calls that set a shop up: its profile, theme and order settings, shipping
//! zones, categories, its people (staff and invitations), app clients and
//! webhooks. Most are the owner's alone; the API refuses anyone else.

use crate::{Api, Caller, Failure, Localized, Money, Page};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// A shop's settings as its owner edits them.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopSettings {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: Localized,
    pub logo_url: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub base_currency: String,
    #[serde(default)]
    pub currencies: Vec<String>,
    pub default_locale: String,
    #[serde(default)]
    pub locales: Vec<String>,
    #[serde(default)]
    pub ship_to: Vec<String>,
    #[serde(default)]
    pub theme: Option<Theme>,
}

/// A shop's look.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Theme {
    pub brand_color: Option<String>,
    pub accent_color: Option<String>,
    pub banner_url: Option<String>,
    #[serde(default)]
    pub sections: Vec<String>,
}

/// How a shop takes orders.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderSettings {
    pub payment_window_minutes: i32,
    pub bank_transfer_details: Option<String>,
    pub notify_email: Option<String>,
}

/// Where a shop ships and what it costs.
#[derive(Debug, Clone, Deserialize)]
pub struct ShippingZone {
    pub id: Uuid,
    pub name: String,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub provinces: Vec<String>,
    pub currency: String,
    pub free_shipping_threshold: Option<Money>,
    #[serde(default)]
    pub rates: Vec<ShippingRate>,
}

/// One weight band of a zone.
#[derive(Debug, Clone, Deserialize)]
pub struct ShippingRate {
    pub name: String,
    pub min_weight_grams: i32,
    pub max_weight_grams: Option<i32>,
    pub price: Money,
}

/// A person working in the shop.
#[derive(Debug, Clone, Deserialize)]
pub struct StaffMember {
    pub account_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

/// An invitation not yet accepted.
#[derive(Debug, Clone, Deserialize)]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub invited_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An app client of the shop (its secret is shown once, when made).
#[derive(Debug, Clone, Deserialize)]
pub struct AppClient {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new app client and its secret.
#[derive(Debug, Clone, Deserialize)]
pub struct NewAppClient {
    pub client: AppClient,
    pub client_secret: String,
}

/// A webhook endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    #[serde(default)]
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A webhook endpoint and its signing secret (shown when made or rotated).
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSecret {
    pub endpoint: Webhook,
    pub secret: String,
}

/// One event sent (or being sent) to an endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct Delivery {
    pub id: Uuid,
    pub event_type: String,
    pub status: String,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
}

/// One try of a delivery.
#[derive(Debug, Clone, Deserialize)]
pub struct Attempt {
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

impl Api {
    async fn with_body<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        caller: Caller<'_>,
        body: &Value,
    ) -> Result<T, Failure> {
        Self::send(self.request(method, path, caller).json(body)).await
    }

    async fn gone(&self, method: Method, path: &str, caller: Caller<'_>) -> Result<(), Failure> {
        Self::no_content(self.request(method, path, caller)).await
    }

    /// `GET /v1/tenants/{id}`.
    pub async fn shop_settings(
        &self,
        caller: Caller<'_>,
        shop: Uuid,
    ) -> Result<ShopSettings, Failure> {
        Self::send(self.request(Method::GET, &format!("/v1/tenants/{shop}"), caller)).await
    }

    /// `PATCH /v1/tenants/{id}`.
    pub async fn update_shop(
        &self,
        caller: Caller<'_>,
        shop: Uuid,
        body: &Value,
    ) -> Result<ShopSettings, Failure> {
        self.with_body(Method::PATCH, &format!("/v1/tenants/{shop}"), caller, body)
            .await
    }

    /// `GET /v1/orders/settings`.
    pub async fn order_settings(&self, caller: Caller<'_>) -> Result<OrderSettings, Failure> {
        Self::send(self.request(Method::GET, "/v1/orders/settings", caller)).await
    }

    /// `PATCH /v1/orders/settings`.
    pub async fn update_order_settings(
        &self,
        caller: Caller<'_>,
        body: &Value,
    ) -> Result<OrderSettings, Failure> {
        self.with_body(Method::PATCH, "/v1/orders/settings", caller, body)
            .await
    }

    /// `GET /v1/shipping-zones`.
    pub async fn shipping_zones(&self, caller: Caller<'_>) -> Result<Vec<ShippingZone>, Failure> {
        self.every("/v1/shipping-zones", &[], caller).await
    }

    /// `POST /v1/shipping-zones` (no `id`) or `PUT /v1/shipping-zones/{id}`.
    pub async fn save_shipping_zone(
        &self,
        caller: Caller<'_>,
        id: Option<Uuid>,
        body: &Value,
    ) -> Result<ShippingZone, Failure> {
        match id {
            Some(id) => {
                let path = format!("/v1/shipping-zones/{id}");
                self.with_body(Method::PUT, &path, caller, body).await
            }
            None => {
                self.with_body(Method::POST, "/v1/shipping-zones", caller, body)
                    .await
            }
        }
    }

    /// `DELETE /v1/shipping-zones/{id}`.
    pub async fn delete_shipping_zone(&self, caller: Caller<'_>, id: Uuid) -> Result<(), Failure> {
        self.gone(Method::DELETE, &format!("/v1/shipping-zones/{id}"), caller)
            .await
    }

    /// `GET /v1/auth/staff`.
    pub async fn staff(&self, caller: Caller<'_>) -> Result<Vec<StaffMember>, Failure> {
        self.every("/v1/auth/staff", &[], caller).await
    }

    /// `DELETE /v1/auth/staff/{account}`.
    pub async fn remove_staff(&self, caller: Caller<'_>, account: Uuid) -> Result<(), Failure> {
        self.gone(Method::DELETE, &format!("/v1/auth/staff/{account}"), caller)
            .await
    }

    /// `GET /v1/auth/invitations`: those not yet accepted.
    pub async fn invitations(&self, caller: Caller<'_>) -> Result<Vec<Invitation>, Failure> {
        self.every("/v1/auth/invitations", &[], caller).await
    }

    /// `POST /v1/auth/invitations`: the invitation is emailed.
    pub async fn invite(
        &self,
        caller: Caller<'_>,
        email: &str,
        role: &str,
    ) -> Result<Value, Failure> {
        let body = serde_json::json!({"email": email, "role": role});
        self.with_body(Method::POST, "/v1/auth/invitations", caller, &body)
            .await
    }

    /// `DELETE /v1/auth/invitations/{id}`.
    pub async fn revoke_invitation(&self, caller: Caller<'_>, id: Uuid) -> Result<(), Failure> {
        self.gone(
            Method::DELETE,
            &format!("/v1/auth/invitations/{id}"),
            caller,
        )
        .await
    }

    /// `GET /v1/auth/clients`.
    pub async fn app_clients(&self, caller: Caller<'_>) -> Result<Vec<AppClient>, Failure> {
        self.every("/v1/auth/clients", &[], caller).await
    }

    /// `POST /v1/auth/clients`: the secret is in this answer only.
    pub async fn create_app_client(
        &self,
        caller: Caller<'_>,
        name: &str,
        scopes: &[String],
    ) -> Result<NewAppClient, Failure> {
        let body = serde_json::json!({"name": name, "scopes": scopes});
        self.with_body(Method::POST, "/v1/auth/clients", caller, &body)
            .await
    }

    /// `DELETE /v1/auth/clients/{id}`.
    pub async fn revoke_app_client(&self, caller: Caller<'_>, id: Uuid) -> Result<(), Failure> {
        self.gone(Method::DELETE, &format!("/v1/auth/clients/{id}"), caller)
            .await
    }

    /// `GET /v1/webhooks`.
    pub async fn webhooks(&self, caller: Caller<'_>) -> Result<Vec<Webhook>, Failure> {
        self.every("/v1/webhooks", &[], caller).await
    }

    /// `GET /v1/webhooks/{id}`.
    pub async fn webhook(&self, caller: Caller<'_>, id: Uuid) -> Result<Webhook, Failure> {
        Self::send(self.request(Method::GET, &format!("/v1/webhooks/{id}"), caller)).await
    }

    /// `POST /v1/webhooks`: the signing secret is in this answer only.
    pub async fn create_webhook(
        &self,
        caller: Caller<'_>,
        url: &str,
        events: &[String],
    ) -> Result<WebhookSecret, Failure> {
        let body = serde_json::json!({"url": url, "events": events});
        self.with_body(Method::POST, "/v1/webhooks", caller, &body)
            .await
    }

    /// `POST /v1/webhooks/{id}/rotate-secret`.
    pub async fn rotate_webhook_secret(
        &self,
        caller: Caller<'_>,
        id: Uuid,
    ) -> Result<WebhookSecret, Failure> {
        let path = format!("/v1/webhooks/{id}/rotate-secret");
        self.with_body(Method::POST, &path, caller, &serde_json::json!({}))
            .await
    }

    /// `DELETE /v1/webhooks/{id}`.
    pub async fn delete_webhook(&self, caller: Caller<'_>, id: Uuid) -> Result<(), Failure> {
        self.gone(Method::DELETE, &format!("/v1/webhooks/{id}"), caller)
            .await
    }

    /// `GET /v1/webhooks/{id}/deliveries`, newest first.
    pub async fn deliveries(
        &self,
        caller: Caller<'_>,
        id: Uuid,
    ) -> Result<Page<Delivery>, Failure> {
        let path = format!("/v1/webhooks/{id}/deliveries?limit=50");
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `POST /v1/webhooks/{id}/deliveries/{delivery}/retry`.
    pub async fn retry_delivery(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        delivery: Uuid,
    ) -> Result<Value, Failure> {
        let path = format!("/v1/webhooks/{id}/deliveries/{delivery}/retry");
        self.with_body(Method::POST, &path, caller, &serde_json::json!({}))
            .await
    }
}
