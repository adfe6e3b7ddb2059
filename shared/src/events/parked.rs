//! Parked events for platform operators: list what a service could not handle, and
//! handle one again once the cause is fixed (`/v1/operations/{service}/…`).

use super::Envelope;
use crate::domain::{Page, PageQuery, PageRequest};
use crate::error::ErrorCode;
use crate::error::{ApiError, Problem};
use crate::identity::Operator;
use crate::service::ServiceContext;
use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, TransactionTrait};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// An event a service's handler kept failing on.
#[derive(Debug, Serialize, FromQueryResult, ToSchema)]
#[schema(example = json!({
    "producer": "order", "seq": 1187, "event_id": "0193b3f0-2d61-7a8c-9b4e-5f6a7b8c9d0e",
    "event_type": "order.cancelled",
    "error": "error returned from database: deadlock detected",
    "attempts": 5, "parked_at": "2026-11-28T10:42:17Z"
}))]
pub struct ParkedEvent {
    /// The service that published it.
    pub producer: String,
    /// Its place in the producer's sequence.
    pub seq: i64,
    /// The event's id.
    pub event_id: Uuid,
    /// Its type.
    pub event_type: String,
    /// The last error.
    pub error: String,
    /// How often it was tried.
    pub attempts: i32,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
}

fn this_service(context: &ServiceContext, service: &str) -> Result<(), ApiError> {
    if context.settings.service.as_str() == service {
        Ok(())
    } else {
        Err(ApiError::not_found("no such service here"))
    }
}

/// Events this service parked and has not handled since.
#[utoipa::path(
    tag = "operations",
    security(("bearer" = [])),
    params(
        ("service" = String, Path, description = "This service's name (`auth`, `tenant`, `catalog`, `order`)", pattern = "^(auth|tenant|catalog|order)$"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "Unresolved parked events, oldest first", body = Page<ParkedEvent>),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit outside 1 to 100 or a cursor this API did not issue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/operations/{service}/parked-events")]
pub async fn list(
    context: web::Data<ServiceContext>,
    _operator: Operator,
    service: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<ParkedEvent>>, ApiError> {
    this_service(&context, &service)?;
    let page = PageRequest::from_query(query.into_inner())?;
    let after: Option<(DateTime<Utc>, String, i64)> = page.after()?;
    let (parked_at, producer, seq) = match after {
        Some((parked_at, producer, seq)) => (Some(parked_at), Some(producer), Some(seq)),
        None => (None, None, None),
    };
    let rows = ParkedEvent::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT producer, seq, event_id, event_type, error, attempts, parked_at FROM parked_events \
         WHERE resolved_at IS NULL \
           AND ($1::timestamptz IS NULL OR (parked_at, producer, seq) > ($1, $2, $3)) \
         ORDER BY parked_at, producer, seq LIMIT $4",
        [
            parked_at.into(),
            producer.into(),
            seq.into(),
            i64::try_from(page.fetch_limit()).unwrap_or(i64::MAX).into(),
        ],
    ))
    .all(&context.db)
    .await?;
    Ok(web::Json(Page::from_rows(rows, page.limit(), |event| {
        (event.parked_at, event.producer.clone(), event.seq)
    })))
}

/// Handles a parked event again with the service's current handler; on success it
/// is marked resolved, on failure the error is answered and it stays parked.
#[utoipa::path(
    tag = "operations",
    security(("bearer" = [])),
    params(
        ("service" = String, Path, description = "This service's name", pattern = "^(auth|tenant|catalog|order)$"),
        ("producer" = String, Path, description = "The service that published the event"),
        ("seq" = i64, Path, description = "The event's sequence number"),
    ),
    responses(
        (status = 200, description = "Handled", body = ParkedEvent),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such unresolved parked event", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The handler failed again (the error is in `detail`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/operations/{service}/parked-events/{producer}/{seq}/retry")]
pub async fn retry(
    context: web::Data<ServiceContext>,
    operator: Operator,
    path: web::Path<(String, String, i64)>,
) -> Result<web::Json<ParkedEvent>, ApiError> {
    let (service, producer, seq) = path.into_inner();
    this_service(&context, &service)?;
    let handler = context
        .handler_for(&producer)
        .ok_or_else(|| ApiError::not_found("this service does not consume that producer"))?;
    let tx = context.db.begin().await?;
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT envelope FROM parked_events WHERE producer = $1 AND seq = $2 AND resolved_at IS NULL FOR UPDATE",
            [producer.clone().into(), seq.into()],
        ))
        .await?
        .ok_or_else(|| ApiError::not_found("no such unresolved parked event"))?;
    let envelope: serde_json::Value = row.try_get("", "envelope")?;
    let envelope: Envelope = serde_json::from_value(envelope)
        .map_err(|error| ApiError::internal(anyhow::Error::from(error)))?;
    let savepoint = tx.begin().await?;
    if let Err(error) = handler.handle(&savepoint, &envelope).await {
        savepoint.rollback().await?;
        tx.rollback().await?;
        return Err(ApiError::conflict(
            ErrorCode::HandlerFailed,
            format!("the handler failed again: {error:#}"),
        ));
    }
    savepoint.commit().await?;
    let resolved = ParkedEvent::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE parked_events SET resolved_at = now() WHERE producer = $1 AND seq = $2 \
         RETURNING producer, seq, event_id, event_type, error, attempts, parked_at",
        [producer.into(), seq.into()],
    ))
    .one(&tx)
    .await?
    .ok_or_else(|| ApiError::not_found("no such unresolved parked event"))?;
    tx.commit().await?;
    tracing::info!(operator = %operator.0.describe(), producer = %resolved.producer, seq, "parked event handled again");
    Ok(web::Json(resolved))
}
