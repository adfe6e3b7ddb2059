//! Webhook endpoints of a shop (owners, or apps with `webhooks:write`), their
//! delivery log, and manual retries.

use super::TenantState;
use crate::domain::webhooks::DeliveryStatus;
use crate::store;
use crate::store::webhooks::{Attempt, Delivery, Endpoint};
use crate::webhooks::destination::GuardedResolver;
use crate::webhooks::{EVENT_TYPES, check_destination, new_secret};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use caravan_shared::ErrorCode;
use caravan_shared::domain::{Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::{RequireScope, scopes::WebhooksWrite};
use caravan_shared::tenancy::TenantTx;
use caravan_shared::{ApiError, FieldError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

type Caller = RequireScope<WebhooksWrite>;

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0c1-d2e3-7f4a-8b5c-6d7e8f9a0b1c", "url": "https://erp.kashgar-logistics.cn/caravan/webhooks",
    "events": ["order.paid", "order.cancelled"], "enabled": true, "disabled_reason": null,
    "failing_since": null, "created_at": "2026-10-03T04:00:00Z"
}))]
pub struct EndpointView {
    /// Id.
    pub id: Uuid,
    /// Where events are posted.
    #[schema(example = "https://erp.kashgar-logistics.cn/caravan/webhooks")]
    pub url: String,
    /// Event types delivered (`*` for all).
    #[schema(example = json!(["order.paid", "order.cancelled"]))]
    pub events: Vec<String>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Since when every try has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<Endpoint> for EndpointView {
    fn from(endpoint: Endpoint) -> Self {
        Self {
            id: endpoint.id,
            url: endpoint.url,
            events: endpoint.events,
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason,
            failing_since: endpoint.failing_since,
            created_at: endpoint.created_at,
        }
    }
}

/// An endpoint with its signing secret (shown on creation and rotation only).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0c1-d2e3-7f4a-8b5c-6d7e8f9a0b1c", "url": "https://erp.kashgar-logistics.cn/caravan/webhooks",
    "events": ["order.paid", "order.cancelled"], "enabled": true, "disabled_reason": null,
    "failing_since": null, "created_at": "2026-10-03T04:00:00Z",
    "secret": "whsec_3f9Kq0b7mZxq3dPuVwB8v5b0q9T8QdJk"
}))]
pub struct EndpointWithSecret {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: EndpointView,
    /// Signing secret: verify `Caravan-Signature` with it.
    #[schema(example = "whsec_3f9Kq0b7mZxq3dPuVwB8v5b0q9T8QdJk")]
    pub secret: String,
}

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://erp.kashgar-logistics.cn/caravan/webhooks", "events": ["order.paid", "order.cancelled"]}))]
pub struct EndpointRequest {
    /// HTTPS URL (at most 2000 characters, without credentials); hosts that resolve
    /// to any internal address (loopback, private, shared, link-local, multicast,
    /// reserved, and their IPv6 and IPv4-in-IPv6 forms) are refused, as are such
    /// addresses written in the URL in any spelling. Every delivery resolves the
    /// host again and connects only to a public address.
    #[schema(
        max_length = 2000,
        pattern = r"^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(:[0-9]{1,4})?([/?#][!-~]*)?$"
    )]
    pub url: String,
    /// Event types to deliver (`*` for all).
    #[schema(schema_with = event_types_schema)]
    pub events: Vec<String>,
}

/// A change of an endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct EndpointPatch {
    /// New URL (as when registering).
    #[schema(
        max_length = 2000,
        pattern = r"^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(:[0-9]{1,4})?([/?#][!-~]*)?$"
    )]
    pub url: Option<String>,
    /// New event types.
    #[schema(schema_with = optional_event_types_schema)]
    pub events: Option<Vec<String>>,
    /// Enable (clears the failure record) or disable.
    pub enabled: Option<bool>,
}

/// `events` as documented: at least one of [`EVENT_TYPES`] (repeats are ignored).
fn event_types() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(super::one_of(EVENT_TYPES))
        .min_items(Some(1))
}

fn event_types_schema() -> Schema {
    event_types()
        .description(Some("Event types to deliver, at least one (`*` for all)."))
        .into()
}

fn optional_event_types_schema() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(event_types())
        .description(Some(
            "New event types, at least one (`*` for all); null or absent keeps them.",
        ))
        .into()
}

fn check_events(events: &[String]) -> Result<Vec<String>, FieldError> {
    if events.is_empty() {
        return Err(FieldError::new(
            "events",
            "name at least one event type, or *",
        ));
    }
    let mut checked = Vec::new();
    for (index, event) in events.iter().enumerate() {
        if !EVENT_TYPES.contains(&event.as_str()) {
            return Err(FieldError::new(
                format!("events[{index}]"),
                "is not a known event type",
            ));
        }
        if !checked.contains(event) {
            checked.push(event.clone());
        }
    }
    Ok(checked)
}

async fn checked_url(state: &TenantState, raw: &str) -> Result<String, FieldError> {
    let resolver = GuardedResolver::system(state.webhooks_allow_internal);
    check_destination(raw, &resolver)
        .await
        .map(|url| url.to_string())
}

fn not_found() -> ApiError {
    ApiError::not_found("no such webhook")
}

/// Registers a webhook endpoint for the caller's shop.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = ["webhooks:write"])),
    request_body = EndpointRequest,
    responses(
        (status = 201, description = "Registered; the secret is shown now", body = EndpointWithSecret),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No webhooks:write scope, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid or internal URL, unknown event type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/webhooks")]
pub async fn create(
    state: web::Data<TenantState>,
    caller: Caller,
    body: Json<EndpointRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let url = checked_url(&state, &body.url)
        .await
        .map_err(|e| errors.push(e))
        .ok();
    let events = check_events(&body.events).map_err(|e| errors.push(e)).ok();
    let (Some(url), Some(events)) = (url, events) else {
        return Err(ApiError::invalid_fields(errors));
    };
    let secret = new_secret();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let endpoint = store::webhooks::insert_endpoint(&tx, &url, &events, &secret).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(EndpointWithSecret {
        endpoint: endpoint.into(),
        secret,
    }))
}

/// The caller's shop's webhook endpoints, oldest first.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = ["webhooks:write"])),
    params(PageQuery),
    responses(
        (status = 200, description = "The endpoints (without secrets)", body = Page<EndpointView>),
        (status = 403, description = "No webhooks:write scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit outside 1 to 100 or a cursor this API did not issue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/webhooks")]
pub async fn list(
    state: web::Data<TenantState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<EndpointView>>, ApiError> {
    let page = PageRequest::from_query(query.into_inner())?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let endpoints = store::webhooks::endpoints(&tx, page.after()?, page.fetch_limit()).await?;
    tx.commit().await?;
    let endpoints = Page::from_rows(endpoints, page.limit(), |endpoint| endpoint.id);
    Ok(web::Json(endpoints.map(EndpointView::from)))
}

/// One webhook endpoint.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = ["webhooks:write"])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = EndpointView),
        (status = 404, description = "No such endpoint in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/webhooks/{id}")]
pub async fn show(
    state: web::Data<TenantState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<EndpointView>, ApiError> {
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let endpoint = store::webhooks::endpoint(&tx, id.into_inner())
        .await?
        .ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(web::Json(endpoint.into()))
}

/// Changes a webhook endpoint: URL, event types, enabled.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = ["webhooks:write"])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    request_body = EndpointPatch,
    responses(
        (status = 200, description = "Changed", body = EndpointView),
        (status = 404, description = "No such endpoint in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/webhooks/{id}")]
pub async fn update(
    state: web::Data<TenantState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<EndpointPatch>,
) -> Result<web::Json<EndpointView>, ApiError> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    let url = match &body.url {
        Some(raw) => checked_url(&state, raw)
            .await
            .map_err(|e| errors.push(e))
            .ok(),
        None => None,
    };
    let events = match &body.events {
        Some(events) => check_events(events).map_err(|e| errors.push(e)).ok(),
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let endpoint = store::webhooks::update_endpoint(
        &tx,
        id.into_inner(),
        url.as_deref(),
        events.as_deref(),
        body.enabled,
    )
    .await?
    .ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(web::Json(endpoint.into()))
}

/// Removes a webhook endpoint and its delivery log.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = ["webhooks:write"])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such endpoint in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/webhooks/{id}")]
pub async fn remove(
    state: web::Data<TenantState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let deleted = store::webhooks::delete_endpoint(&tx, id.into_inner()).await?;
    tx.commit().await?;
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(not_found())
    }
}

/// Replaces an endpoint's signing secret; the new one is shown once.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = ["webhooks:write"])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint with its new secret", body = EndpointWithSecret),
        (status = 404, description = "No such endpoint in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<TenantState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<EndpointWithSecret>, ApiError> {
    let id = id.into_inner();
    let secret = new_secret();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    if !store::webhooks::set_secret(&tx, id, &secret).await? {
        return Err(not_found());
    }
    let endpoint = store::webhooks::endpoint(&tx, id)
        .await?
        .ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(web::Json(EndpointWithSecret {
        endpoint: endpoint.into(),
        secret,
    }))
}

/// One try of a delivery.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"attempt": 1, "status_code": 503, "latency_ms": 212, "error": "answered 503", "at": "2026-11-28T09:20:01Z"}))]
pub struct AttemptView {
    /// 1 for the first try.
    pub attempt: i32,
    /// The receiver's status code, if it answered.
    pub status_code: Option<i32>,
    /// How long the try took.
    pub latency_ms: i32,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A delivery with its tries.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b2f5-1b00-7c2d-9e3f-4a5b6c7d8e9f", "event_id": "0193b2f5-1a30-7d4e-8f5a-6b7c8d9e0f1a",
    "event_type": "order.paid", "status": "delivered", "delivered_at": "2026-11-28T09:21:02Z",
    "created_at": "2026-11-28T09:20:00Z",
    "attempts": [
        {"attempt": 1, "status_code": 503, "latency_ms": 212, "error": "answered 503", "at": "2026-11-28T09:20:01Z"},
        {"attempt": 2, "status_code": 200, "latency_ms": 184, "error": null, "at": "2026-11-28T09:21:02Z"}
    ]
}))]
pub struct DeliveryView {
    /// Id (the `Caravan-Delivery-Id` header).
    pub id: Uuid,
    /// The event's id.
    pub event_id: Uuid,
    /// The event's type.
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Every try, in order.
    pub attempts: Vec<AttemptView>,
}

fn delivery_view(delivery: Delivery, attempts: &[Attempt]) -> DeliveryView {
    DeliveryView {
        attempts: attempts
            .iter()
            .filter(|attempt| attempt.delivery_id == delivery.id)
            .map(|attempt| AttemptView {
                attempt: attempt.attempt,
                status_code: attempt.status_code,
                latency_ms: attempt.latency_ms,
                error: attempt.error.clone(),
                at: attempt.created_at,
            })
            .collect(),
        id: delivery.id,
        event_id: delivery.event_id,
        event_type: delivery.event_type,
        status: delivery.status.as_str().to_owned(),
        delivered_at: delivery.delivered_at,
        created_at: delivery.created_at,
    }
}

/// Paging of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Page size: 1 to 100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(nullable = false, min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// An endpoint's delivery log, newest first: each delivery with every try.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = ["webhooks:write"])),
    params(("id" = Uuid, Path, description = "Endpoint id"), DeliveryQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<DeliveryView>),
        (status = 404, description = "No such endpoint in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<TenantState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<DeliveryQuery>,
) -> Result<web::Json<Page<DeliveryView>>, ApiError> {
    let query = query.into_inner();
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let before: Option<Uuid> = page.after()?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let endpoint = store::webhooks::endpoint(&tx, id.into_inner())
        .await?
        .ok_or_else(not_found)?;
    let rows = store::webhooks::deliveries(&tx, endpoint.id, page.fetch_limit(), before).await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let attempts = store::webhooks::attempts(&tx, &ids).await?;
    tx.commit().await?;
    let page =
        Page::from_rows(rows, page.limit(), |row| row.id).map(|row| delivery_view(row, &attempts));
    Ok(web::Json(page))
}

/// Queues a delivery to be sent again now (for example after fixing the receiver).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = ["webhooks:write"])),
    params(
        ("id" = Uuid, Path, description = "Endpoint id"),
        ("delivery_id" = Uuid, Path, description = "Delivery id"),
    ),
    responses(
        (status = 202, description = "Queued"),
        (status = 404, description = "No such delivery of this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The endpoint is disabled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry(
    state: web::Data<TenantState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (endpoint_id, delivery_id) = path.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let endpoint = store::webhooks::endpoint(&tx, endpoint_id)
        .await?
        .ok_or_else(not_found)?;
    let delivery = store::webhooks::delivery(&tx, delivery_id)
        .await?
        .filter(|delivery| delivery.endpoint_id == endpoint.id)
        .ok_or_else(|| ApiError::not_found("no such delivery"))?;
    if !endpoint.enabled {
        return Err(ApiError::conflict(
            ErrorCode::WebhookDisabled,
            "enable the webhook first",
        ));
    }
    // The job row first, as the sender locks it first: the same order, no deadlock.
    store::webhooks::queue(&tx, delivery.id, Utc::now()).await?;
    store::webhooks::settle(
        &tx,
        delivery.id,
        DeliveryStatus::Pending,
        delivery.attempts,
        Some(Utc::now()),
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Accepted().finish())
}
