//! The calls that run the platform itself: applying for a shop (anyone), and what
//! platform operators do — deciding applications, overseeing shops, parked events,
//! the services' state, signing keys and operator accounts.

use crate::{Api, Caller, Failure, Localized, Money, Page, path_segment};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The services an operator looks after, as the API names them.
pub const SERVICES: [&str; 4] = ["auth", "tenant", "catalog", "order"];

/// A plan and its limits (`None`: unlimited).
#[derive(Debug, Clone, Deserialize)]
pub struct Plan {
    pub code: String,
    pub name: String,
    pub max_products: Option<i32>,
    pub max_staff: Option<i32>,
    pub max_orders_per_month: Option<i32>,
    pub monthly_price: Money,
}

/// Whether a wished shop address is free, and free ones like it when it is not.
#[derive(Debug, Clone, Deserialize)]
pub struct SlugAvailability {
    pub slug: String,
    pub available: bool,
    #[serde(default)]
    pub choices: Vec<String>,
}

/// An application for a shop, as the form sends it.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationForm {
    pub shop_name: String,
    /// The name in the cooperative's other languages.
    pub names: BTreeMap<String, String>,
    pub slug: String,
    pub region: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub description: String,
    pub plan: Option<String>,
    /// The language of the emails the applicant gets.
    pub locale: String,
}

/// An application, as operators see it.
#[derive(Debug, Clone, Deserialize)]
pub struct Application {
    pub id: Uuid,
    pub shop_name: String,
    #[serde(default)]
    pub names: Localized,
    pub slug: String,
    pub region: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub description: String,
    pub status: String,
    pub reason: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    pub tenant_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A shop, as operators see it.
#[derive(Debug, Clone, Deserialize)]
pub struct Tenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub status: String,
    pub plan: String,
    pub region: String,
    pub owner_email: String,
    pub created_at: DateTime<Utc>,
}

/// One line of a shop's audit trail.
#[derive(Debug, Clone, Deserialize)]
pub struct AuditEntry {
    pub id: Uuid,
    pub actor: String,
    pub action: String,
    pub reason: Option<String>,
    #[serde(default)]
    pub details: Value,
    pub created_at: DateTime<Utc>,
}

/// An event a service could not handle and set aside.
#[derive(Debug, Clone, Deserialize)]
pub struct ParkedEvent {
    pub producer: String,
    pub seq: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub error: String,
    pub attempts: i32,
    pub parked_at: DateTime<Utc>,
}

/// A service's state, from its own checks and metrics.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceStatus {
    pub service: String,
    pub database: String,
    pub redis: String,
    #[serde(default)]
    pub parked: Option<i64>,
    pub relay: RelayStatus,
}

/// How a service's events reach the others.
#[derive(Debug, Clone, Deserialize)]
pub struct RelayStatus {
    pub published: u64,
    pub backlog: i64,
    pub lag_seconds_mean: Option<f64>,
    pub lag_seconds_p99: Option<f64>,
}

/// What a service counts of one shop (or of all shops) against the plans' quotas.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub counts: BTreeMap<String, i64>,
    #[serde(default)]
    pub sales: Vec<Money>,
}

/// The filters of the shop list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TenantQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    pub limit: u32,
}

/// What an operator does to a shop, with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopAction {
    Suspend,
    Reinstate,
    Close,
}

impl ShopAction {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "suspend" => Some(Self::Suspend),
            "reinstate" => Some(Self::Reinstate),
            "close" => Some(Self::Close),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
            Self::Close => "close",
        }
    }
}

impl Api {
    /// `GET /v1/plans`.
    pub async fn plans(&self, caller: Caller<'_>) -> Result<Vec<Plan>, Failure> {
        self.every("/v1/plans", &[], caller).await
    }

    /// `GET /v1/tenants/slug-availability`.
    pub async fn slug_availability(
        &self,
        caller: Caller<'_>,
        slug: &str,
    ) -> Result<SlugAvailability, Failure> {
        let path = Self::query(
            "/v1/tenants/slug-availability".to_owned(),
            &[("slug", slug)],
        );
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `POST /v1/tenants/applications`.
    pub async fn apply(
        &self,
        caller: Caller<'_>,
        form: &ApplicationForm,
    ) -> Result<Application, Failure> {
        Self::send(
            self.request(Method::POST, "/v1/tenants/applications", caller)
                .json(form),
        )
        .await
    }

    /// `GET /v1/tenants/applications`.
    pub async fn applications(
        &self,
        caller: Caller<'_>,
        status: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Page<Application>, Failure> {
        let mut query = vec![("limit", "50")];
        query.extend(status.map(|status| ("status", status)));
        query.extend(cursor.map(|cursor| ("cursor", cursor)));
        let path = Self::query("/v1/tenants/applications".to_owned(), &query);
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `GET /v1/tenants/applications/{id}`.
    pub async fn application(&self, caller: Caller<'_>, id: Uuid) -> Result<Application, Failure> {
        let path = format!("/v1/tenants/applications/{id}");
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `POST /v1/tenants/applications/{id}/approve`: the new shop.
    pub async fn approve_application(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        plan: &str,
    ) -> Result<Tenant, Failure> {
        let path = format!("/v1/tenants/applications/{id}/approve");
        Self::send(self.post(&path, caller, json!({"plan": plan}))).await
    }

    /// `POST /v1/tenants/applications/{id}/reject`.
    pub async fn reject_application(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        reason: &str,
    ) -> Result<Application, Failure> {
        let path = format!("/v1/tenants/applications/{id}/reject");
        Self::send(self.post(&path, caller, json!({"reason": reason}))).await
    }

    /// `GET /v1/tenants`.
    pub async fn tenants(
        &self,
        caller: Caller<'_>,
        query: &TenantQuery,
    ) -> Result<Page<Tenant>, Failure> {
        let path = Self::query("/v1/tenants".to_owned(), query);
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `GET /v1/tenants/{id}`.
    pub async fn tenant(&self, caller: Caller<'_>, id: Uuid) -> Result<Tenant, Failure> {
        Self::send(self.request(Method::GET, &format!("/v1/tenants/{id}"), caller)).await
    }

    /// `POST /v1/tenants`: a shop opened directly; its owner is invited by email.
    pub async fn create_tenant(
        &self,
        caller: Caller<'_>,
        name: &str,
        slug: &str,
        region: &str,
        owner_email: &str,
        plan: &str,
    ) -> Result<Tenant, Failure> {
        let body = json!({
            "name": name, "slug": slug, "region": region,
            "owner_email": owner_email, "plan": plan,
        });
        Self::send(self.post("/v1/tenants", caller, body)).await
    }

    /// `POST /v1/tenants/{id}/plan`.
    pub async fn change_plan(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        plan: &str,
    ) -> Result<Tenant, Failure> {
        let path = format!("/v1/tenants/{id}/plan");
        Self::send(self.post(&path, caller, json!({"plan": plan}))).await
    }

    /// `POST /v1/tenants/{id}/{suspend|reinstate|close}` with its reason.
    pub async fn act_on_tenant(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        action: ShopAction,
        reason: &str,
    ) -> Result<Tenant, Failure> {
        let path = format!("/v1/tenants/{id}/{}", action.as_str());
        Self::send(self.post(&path, caller, json!({"reason": reason}))).await
    }

    /// `GET /v1/tenants/{id}/audit`: newest entries last.
    pub async fn audit(
        &self,
        caller: Caller<'_>,
        id: Uuid,
        cursor: Option<&str>,
    ) -> Result<Page<AuditEntry>, Failure> {
        let mut query = vec![("limit", "100")];
        query.extend(cursor.map(|cursor| ("cursor", cursor)));
        let path = Self::query(format!("/v1/tenants/{id}/audit"), &query);
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `GET /v1/operations/{service}/parked-events`: every unresolved one, oldest
    /// first.
    pub async fn parked_events(
        &self,
        caller: Caller<'_>,
        service: &str,
    ) -> Result<Vec<ParkedEvent>, Failure> {
        let path = format!("/v1/operations/{}/parked-events", path_segment(service));
        self.every(&path, &[], caller).await
    }

    /// `POST /v1/operations/{service}/parked-events/{producer}/{seq}/retry`.
    pub async fn retry_parked_event(
        &self,
        caller: Caller<'_>,
        service: &str,
        producer: &str,
        seq: i64,
    ) -> Result<ParkedEvent, Failure> {
        let path = format!(
            "/v1/operations/{}/parked-events/{}/{seq}/retry",
            path_segment(service),
            path_segment(producer)
        );
        Self::send(self.request(Method::POST, &path, caller)).await
    }

    /// `GET /v1/operations/{service}/status`.
    pub async fn service_status(
        &self,
        caller: Caller<'_>,
        service: &str,
    ) -> Result<ServiceStatus, Failure> {
        let path = format!("/v1/operations/{}/status", path_segment(service));
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `GET /v1/operations/{service}/usage`: one shop's counts, or every shop's.
    pub async fn usage(
        &self,
        caller: Caller<'_>,
        service: &str,
        tenant: Option<Uuid>,
    ) -> Result<Usage, Failure> {
        let path = format!("/v1/operations/{}/usage", path_segment(service));
        let path = match tenant {
            Some(tenant) => Self::query(path, &[("tenant_id", tenant.to_string())]),
            None => path,
        };
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `POST /v1/auth/keys/rotate`: the new signing key's id.
    pub async fn rotate_signing_key(&self, caller: Caller<'_>) -> Result<String, Failure> {
        #[derive(Deserialize)]
        struct Rotated {
            kid: String,
        }
        let rotated: Rotated =
            Self::send(self.request(Method::POST, "/v1/auth/keys/rotate", caller)).await?;
        Ok(rotated.kid)
    }

    /// `POST /v1/auth/operators`: another platform operator.
    pub async fn create_operator(
        &self,
        caller: Caller<'_>,
        email: &str,
        password: &str,
    ) -> Result<(), Failure> {
        let body = json!({"email": email, "password": password});
        Self::no_content(self.post("/v1/auth/operators", caller, body)).await
    }
}
