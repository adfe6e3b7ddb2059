//! `GET /internal/v1/events?after=SEQ&limit=N`: a producer's numbered events, in
//! order, for services catching up.

use super::Envelope;
use crate::error::ApiError;
use crate::identity::ServiceCaller;
use crate::service::ServiceContext;
use crate::tenancy::PlatformTx;
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Query of the feed.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// Answer events with a sequence number above this one (0 for the start).
    #[param(minimum = 0)]
    pub after: i64,
    /// How many events at most (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// A page of the feed.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Feed {
    /// Events in sequence order.
    pub items: Vec<Envelope>,
}

/// The most events one feed page answers.
pub const MAX_FEED_LIMIT: i64 = 1000;

/// Reads numbered events after `after`, oldest first: every shop's, in platform
/// scope (the feed is for services, which get every event).
pub async fn events_after(
    db: &DatabaseConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<Envelope>, sea_orm::DbErr> {
    let tx = PlatformTx::begin(db, "the event feed serves every shop's events").await?;
    let rows = tx
        .conn()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT seq, id, event_type, tenant_id, occurred_at, data FROM outbox \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            [after.into(), limit.into()],
        ))
        .await?;
    tx.commit().await?;
    rows.into_iter()
        .map(|row| {
            Ok(Envelope {
                seq: row.try_get("", "seq")?,
                id: row.try_get::<Uuid>("", "id")?,
                event_type: row.try_get("", "event_type")?,
                tenant_id: row.try_get("", "tenant_id")?,
                occurred_at: row.try_get::<DateTime<Utc>>("", "occurred_at")?,
                data: row.try_get("", "data")?,
            })
        })
        .collect()
}

/// This service's events after a sequence number, for other services catching up.
#[utoipa::path(
    tag = "internal",
    params(FeedQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Events in sequence order", body = Feed),
        (status = 401, description = "No valid token", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 403, description = "Not a service token", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "Bad `after` or `limit`", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/internal/v1/events")]
pub async fn feed(
    _caller: ServiceCaller,
    context: web::Data<ServiceContext>,
    query: web::Query<FeedQuery>,
) -> Result<web::Json<Feed>, ApiError> {
    if query.after < 0 {
        return Err(ApiError::invalid_field("after", "must be 0 or more"));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_FEED_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            "must be between 1 and 1000",
        ));
    }
    let items = events_after(&context.db, query.after, limit).await?;
    Ok(web::Json(Feed { items }))
}
