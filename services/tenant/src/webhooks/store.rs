//! Queries of webhook endpoints, deliveries and attempts. Every one runs in a shop's
//! scope, under row-level security, except the job queue's.

use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// A registered endpoint.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Endpoint {
    /// Id.
    pub id: Uuid,
    /// Its shop.
    pub tenant_id: Uuid,
    /// Where events go.
    pub url: String,
    /// Event types it wants (`*` for all).
    pub events: Vec<String>,
    /// Signing secret.
    pub secret: String,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Since when every try has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A delivery of one event to one endpoint.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Delivery {
    /// Id.
    pub id: Uuid,
    /// Its shop.
    pub tenant_id: Uuid,
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// The event's id.
    pub event_id: Uuid,
    /// The event's type.
    pub event_type: String,
    /// The envelope sent.
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Tries so far.
    pub attempts: i32,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// One try of a delivery.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Attempt {
    /// The delivery.
    pub delivery_id: Uuid,
    /// 1 for the first try.
    pub attempt: i32,
    /// The receiver's status code, if it answered.
    pub status_code: Option<i32>,
    /// How long the try took.
    pub latency_ms: i32,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

const ENDPOINT: &str =
    "id, tenant_id, url, events, secret, enabled, disabled_reason, failing_since, created_at";
const DELIVERY: &str = "id, tenant_id, endpoint_id, event_id, event_type, payload, status, attempts, delivered_at, created_at";

/// Registers an endpoint.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn insert_endpoint(
    scope: &impl TenantScoped,
    url: &str,
    events: &[String],
    secret: &str,
) -> Result<Endpoint, DbErr> {
    let row = Endpoint::find_by_statement(statement(
        &format!(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, events, secret) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {ENDPOINT}"
        ),
        vec![
            Uuid::now_v7().into(),
            scope.tenant().into_uuid().into(),
            url.into(),
            events.to_vec().into(),
            secret.into(),
        ],
    ))
    .one(scope.conn())
    .await?;
    row.ok_or_else(|| DbErr::RecordNotInserted)
}

/// The shop's endpoints, oldest first.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), after = ?after))]
pub async fn endpoints(
    scope: &impl TenantScoped,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Endpoint>, DbErr> {
    Endpoint::find_by_statement(statement(
        &format!(
            "SELECT {ENDPOINT} FROM webhook_endpoints \
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ),
        vec![
            scope.tenant().into_uuid().into(),
            after.into(),
            i64::try_from(limit).unwrap_or(i64::MAX).into(),
        ],
    ))
    .all(scope.conn())
    .await
}

/// One of the shop's endpoints.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn endpoint(scope: &impl TenantScoped, id: Uuid) -> Result<Option<Endpoint>, DbErr> {
    Endpoint::find_by_statement(statement(
        &format!("SELECT {ENDPOINT} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2"),
        vec![scope.tenant().into_uuid().into(), id.into()],
    ))
    .one(scope.conn())
    .await
}

/// Changes an endpoint; re-enabling clears its failure record.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn update_endpoint(
    scope: &impl TenantScoped,
    id: Uuid,
    url: Option<&str>,
    events: Option<&[String]>,
    enabled: Option<bool>,
) -> Result<Option<Endpoint>, DbErr> {
    Endpoint::find_by_statement(statement(
        &format!(
            "UPDATE webhook_endpoints SET url = coalesce($3, url), events = coalesce($4, events), \
             enabled = coalesce($5, enabled), \
             disabled_reason = CASE WHEN $5 THEN NULL ELSE disabled_reason END, \
             failing_since = CASE WHEN $5 THEN NULL ELSE failing_since END, updated_at = now() \
             WHERE tenant_id = $1 AND id = $2 RETURNING {ENDPOINT}"
        ),
        vec![
            scope.tenant().into_uuid().into(),
            id.into(),
            url.map(str::to_owned).into(),
            events.map(<[String]>::to_vec).into(),
            enabled.into(),
        ],
    ))
    .one(scope.conn())
    .await
}

/// Replaces an endpoint's secret.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn set_secret(scope: &impl TenantScoped, id: Uuid, secret: &str) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "UPDATE webhook_endpoints SET secret = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
            vec![scope.tenant().into_uuid().into(), id.into(), secret.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Removes an endpoint with its deliveries.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn delete_endpoint(scope: &impl TenantScoped, id: Uuid) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2",
            vec![scope.tenant().into_uuid().into(), id.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The shop's enabled endpoints that want `event_type`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn subscribed(
    scope: &impl TenantScoped,
    event_type: &str,
) -> Result<Vec<Endpoint>, DbErr> {
    Endpoint::find_by_statement(statement(
        &format!(
            "SELECT {ENDPOINT} FROM webhook_endpoints \
             WHERE tenant_id = $1 AND enabled AND ($2 = ANY(events) OR '*' = ANY(events))"
        ),
        vec![scope.tenant().into_uuid().into(), event_type.into()],
    ))
    .all(scope.conn())
    .await
}

/// Creates a delivery (once per endpoint and event) and queues it now.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), endpoint_id = %endpoint_id, event_id = %event_id))]
pub async fn insert_delivery(
    scope: &impl TenantScoped,
    endpoint_id: Uuid,
    event_id: Uuid,
    event_type: &str,
    payload: &serde_json::Value,
) -> Result<(), DbErr> {
    let id = Uuid::now_v7();
    let inserted = scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, payload, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending') ON CONFLICT (endpoint_id, event_id) DO NOTHING",
            vec![
                id.into(),
                scope.tenant().into_uuid().into(),
                endpoint_id.into(),
                event_id.into(),
                event_type.into(),
                payload.clone().into(),
            ],
        ))
        .await?;
    if inserted.rows_affected() == 1 {
        queue(scope.conn(), id, scope.tenant().into_uuid(), Utc::now()).await?;
    }
    Ok(())
}

/// Queues (or re-queues) a delivery for `due_at`, and wakes the sender.
#[tracing::instrument(skip_all, fields(delivery = %delivery, tenant = %tenant))]
pub async fn queue<C: ConnectionTrait>(
    conn: &C,
    delivery: Uuid,
    tenant: Uuid,
    due_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    conn.execute_raw(statement(
        "INSERT INTO webhook_jobs (delivery_id, tenant_id, due_at) VALUES ($1, $2, $3) \
         ON CONFLICT (delivery_id) DO UPDATE SET due_at = excluded.due_at",
        vec![delivery.into(), tenant.into(), due_at.into()],
    ))
    .await?;
    conn.execute_unprepared("SELECT pg_notify('caravan_webhooks', '')")
        .await?;
    Ok(())
}

/// One delivery of the shop.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn delivery(scope: &impl TenantScoped, id: Uuid) -> Result<Option<Delivery>, DbErr> {
    Delivery::find_by_statement(statement(
        &format!("SELECT {DELIVERY} FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2"),
        vec![scope.tenant().into_uuid().into(), id.into()],
    ))
    .one(scope.conn())
    .await
}

/// An endpoint's deliveries, newest first, before a cursor.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), endpoint_id = %endpoint_id, before = ?before))]
pub async fn deliveries(
    scope: &impl TenantScoped,
    endpoint_id: Uuid,
    limit: u64,
    before: Option<Uuid>,
) -> Result<Vec<Delivery>, DbErr> {
    Delivery::find_by_statement(statement(
        &format!(
            "SELECT {DELIVERY} FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 \
             AND ($3::uuid IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        ),
        vec![
            scope.tenant().into_uuid().into(),
            endpoint_id.into(),
            before.into(),
            i64::try_from(limit).unwrap_or(100).into(),
        ],
    ))
    .all(scope.conn())
    .await
}

/// The tries of some deliveries, in order.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn attempts(
    scope: &impl TenantScoped,
    deliveries: &[Uuid],
) -> Result<Vec<Attempt>, DbErr> {
    Attempt::find_by_statement(statement(
        "SELECT delivery_id, attempt, status_code, latency_ms, error, created_at FROM webhook_attempts \
         WHERE tenant_id = $1 AND delivery_id = ANY($2) ORDER BY delivery_id, attempt",
        vec![scope.tenant().into_uuid().into(), deliveries.to_vec().into()],
    ))
    .all(scope.conn())
    .await
}

/// Records a try.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), delivery = %delivery))]
pub async fn record_attempt(
    scope: &impl TenantScoped,
    delivery: Uuid,
    attempt: i32,
    status_code: Option<i32>,
    latency_ms: i32,
    error: Option<&str>,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO webhook_attempts (id, tenant_id, delivery_id, attempt, status_code, latency_ms, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                Uuid::now_v7().into(),
                scope.tenant().into_uuid().into(),
                delivery.into(),
                attempt.into(),
                status_code.into(),
                latency_ms.into(),
                error.map(str::to_owned).into(),
            ],
        ))
        .await?;
    Ok(())
}

/// Sets a delivery's status after a try.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), delivery = %delivery))]
pub async fn settle(
    scope: &impl TenantScoped,
    delivery: Uuid,
    status: &str,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE webhook_deliveries SET status = $3, attempts = $4, next_attempt_at = $5, \
             delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END \
             WHERE tenant_id = $1 AND id = $2",
            vec![
                scope.tenant().into_uuid().into(),
                delivery.into(),
                status.into(),
                attempts.into(),
                next_attempt_at.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// Marks an endpoint as answering again.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn endpoint_succeeded(scope: &impl TenantScoped, id: Uuid) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE tenant_id = $1 AND id = $2",
            vec![scope.tenant().into_uuid().into(), id.into()],
        ))
        .await?;
    Ok(())
}

/// Records a failure; answers since when the endpoint has been failing.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn endpoint_failed(
    scope: &impl TenantScoped,
    id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let row = scope
        .conn()
        .query_one_raw(statement(
            "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()) \
             WHERE tenant_id = $1 AND id = $2 RETURNING failing_since",
            vec![scope.tenant().into_uuid().into(), id.into()],
        ))
        .await?;
    row.map(|row| row.try_get("", "failing_since")).transpose()
}

/// Disables an endpoint.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn disable(scope: &impl TenantScoped, id: Uuid, reason: &str) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $3, updated_at = now() \
             WHERE tenant_id = $1 AND id = $2",
            vec![scope.tenant().into_uuid().into(), id.into(), reason.into()],
        ))
        .await?;
    Ok(())
}
