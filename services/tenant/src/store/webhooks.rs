//! Webhook endpoints, their deliveries and tries, and the sender's queue. Every query
//! of a shop's rows runs in its scope (row-level security shows that shop's rows) and
//! filters on its `tenant_id` too; only picking the next due job crosses shops, in
//! platform scope.

use super::entities::{webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_jobs};
use crate::domain::webhooks::DeliveryStatus;
use caravan_shared::db::statement;
use caravan_shared::tenancy::{PlatformScope, TenantScoped};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

// A delivery's status is read into its type: a row holding a status this code does
// not know fails to read (the request answers 500 and the cause is logged).
caravan_shared::stored_as_text!(
    DeliveryStatus,
    "delivery status",
    DeliveryStatus::parse,
    DeliveryStatus::as_str
);

/// A registered endpoint (with its signing secret: never logged, shown only on
/// creation and rotation).
pub type Endpoint = webhook_endpoints::Model;

/// A delivery of one event to one endpoint.
pub type Delivery = webhook_deliveries::Model;

/// One try of a delivery.
pub type Attempt = webhook_attempts::Model;

/// A due delivery in the sender's queue.
pub type Job = webhook_jobs::Model;

/// The scope's shop, as the value of a query's `tenant_id` filter.
fn tenant_of(scope: &impl TenantScoped) -> Uuid {
    scope.tenant().into_uuid()
}

/// The shop's endpoints, filtered further by the caller.
fn shop_endpoints(scope: &impl TenantScoped) -> Select<webhook_endpoints::Entity> {
    webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::TenantId.eq(tenant_of(scope)))
}

// ---- endpoints ----

/// Registers an endpoint.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = tracing::field::Empty))]
pub async fn insert_endpoint(
    scope: &impl TenantScoped,
    url: &str,
    events: &[String],
    secret: &str,
) -> Result<Endpoint, DbErr> {
    let id = Uuid::now_v7();
    tracing::Span::current().record("id", tracing::field::display(id));
    webhook_endpoints::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_of(scope)),
        url: Set(url.to_owned()),
        events: Set(events.to_vec()),
        secret: Set(secret.to_owned()),
        ..Default::default()
    }
    .insert(scope.conn())
    .await
}

/// The shop's endpoints, oldest first, after a cursor.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), after = ?after))]
pub async fn endpoints(
    scope: &impl TenantScoped,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Endpoint>, DbErr> {
    let mut query = shop_endpoints(scope).order_by_asc(webhook_endpoints::Column::Id);
    if let Some(after) = after {
        query = query.filter(webhook_endpoints::Column::Id.gt(after));
    }
    query.limit(limit).all(scope.conn()).await
}

/// One of the shop's endpoints.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn endpoint(scope: &impl TenantScoped, id: Uuid) -> Result<Option<Endpoint>, DbErr> {
    shop_endpoints(scope)
        .filter(webhook_endpoints::Column::Id.eq(id))
        .one(scope.conn())
        .await
}

/// Changes an endpoint (what is `None` stays); re-enabling clears its failure
/// record. Answers the endpoint as it now is.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn update_endpoint(
    scope: &impl TenantScoped,
    id: Uuid,
    url: Option<&str>,
    events: Option<&[String]>,
    enabled: Option<bool>,
) -> Result<Option<Endpoint>, DbErr> {
    use webhook_endpoints::Column;
    let mut update = webhook_endpoints::Entity::update_many()
        .col_expr(Column::UpdatedAt, Expr::current_timestamp());
    if let Some(url) = url {
        update = update.col_expr(Column::Url, Expr::value(url));
    }
    if let Some(events) = events {
        update = update.col_expr(Column::Events, Expr::value(events.to_vec()));
    }
    if let Some(enabled) = enabled {
        update = update.col_expr(Column::Enabled, Expr::value(enabled));
        if enabled {
            update = update
                .col_expr(Column::DisabledReason, Expr::value(Option::<String>::None))
                .col_expr(
                    Column::FailingSince,
                    Expr::value(Option::<DateTime<Utc>>::None),
                );
        }
    }
    let changed = update
        .filter(Column::TenantId.eq(tenant_of(scope)))
        .filter(Column::Id.eq(id))
        .exec_with_returning(scope.conn())
        .await?;
    Ok(changed.into_iter().next())
}

/// Replaces an endpoint's secret; answers whether the shop has that endpoint.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn set_secret(scope: &impl TenantScoped, id: Uuid, secret: &str) -> Result<bool, DbErr> {
    let result = webhook_endpoints::Entity::update_many()
        .col_expr(webhook_endpoints::Column::Secret, Expr::value(secret))
        .col_expr(
            webhook_endpoints::Column::UpdatedAt,
            Expr::current_timestamp(),
        )
        .filter(webhook_endpoints::Column::TenantId.eq(tenant_of(scope)))
        .filter(webhook_endpoints::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Removes an endpoint with its deliveries and their tries (the foreign keys
/// cascade); answers whether the shop had it.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn delete_endpoint(scope: &impl TenantScoped, id: Uuid) -> Result<bool, DbErr> {
    let result = webhook_endpoints::Entity::delete_many()
        .filter(webhook_endpoints::Column::TenantId.eq(tenant_of(scope)))
        .filter(webhook_endpoints::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// The shop's enabled endpoints that want `event_type` (or every type, `*`).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn subscribed(
    scope: &impl TenantScoped,
    event_type: &str,
) -> Result<Vec<Endpoint>, DbErr> {
    let events = || PgFunc::any(Expr::col(webhook_endpoints::Column::Events));
    shop_endpoints(scope)
        .filter(webhook_endpoints::Column::Enabled.eq(true))
        .filter(
            Condition::any()
                .add(Expr::val(event_type).eq(events()))
                .add(Expr::val("*").eq(events())),
        )
        .all(scope.conn())
        .await
}

/// Marks an endpoint as answering again.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn endpoint_succeeded(scope: &impl TenantScoped, id: Uuid) -> Result<(), DbErr> {
    webhook_endpoints::Entity::update_many()
        .col_expr(
            webhook_endpoints::Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook_endpoints::Column::TenantId.eq(tenant_of(scope)))
        .filter(webhook_endpoints::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// Records a failure (the first of a run starts the clock); answers since when the
/// endpoint has been failing.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn endpoint_failed(
    scope: &impl TenantScoped,
    id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    use webhook_endpoints::Column;
    let changed = webhook_endpoints::Entity::update_many()
        .col_expr(
            Column::FailingSince,
            Func::coalesce([Expr::col(Column::FailingSince), Expr::current_timestamp()]).into(),
        )
        .filter(Column::TenantId.eq(tenant_of(scope)))
        .filter(Column::Id.eq(id))
        .exec_with_returning(scope.conn())
        .await?;
    Ok(changed
        .into_iter()
        .next()
        .and_then(|endpoint| endpoint.failing_since))
}

/// Disables an endpoint, saying why.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn disable(scope: &impl TenantScoped, id: Uuid, reason: &str) -> Result<(), DbErr> {
    webhook_endpoints::Entity::update_many()
        .col_expr(webhook_endpoints::Column::Enabled, Expr::value(false))
        .col_expr(
            webhook_endpoints::Column::DisabledReason,
            Expr::value(reason),
        )
        .col_expr(
            webhook_endpoints::Column::UpdatedAt,
            Expr::current_timestamp(),
        )
        .filter(webhook_endpoints::Column::TenantId.eq(tenant_of(scope)))
        .filter(webhook_endpoints::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}

// ---- deliveries and their tries ----

/// Creates a delivery of an event to an endpoint and queues it now, once: the
/// deliveries' unique key (endpoint, event) makes a second fan-out of the same event
/// (a redelivered event, a retried batch) insert and queue nothing.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), endpoint_id = %endpoint_id, event_id = %event_id))]
pub async fn insert_delivery(
    scope: &impl TenantScoped,
    endpoint_id: Uuid,
    event_id: Uuid,
    event_type: &str,
    payload: &serde_json::Value,
) -> Result<(), DbErr> {
    let id = Uuid::now_v7();
    let inserted = webhook_deliveries::Entity::insert(webhook_deliveries::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_of(scope)),
        endpoint_id: Set(endpoint_id),
        event_id: Set(event_id),
        event_type: Set(event_type.to_owned()),
        payload: Set(payload.clone()),
        status: Set(DeliveryStatus::Pending),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            webhook_deliveries::Column::EndpointId,
            webhook_deliveries::Column::EventId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(scope.conn())
    .await?;
    if inserted == 1 {
        queue(scope, id, Utc::now()).await?;
    }
    Ok(())
}

/// One delivery of the shop.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn delivery(scope: &impl TenantScoped, id: Uuid) -> Result<Option<Delivery>, DbErr> {
    webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::TenantId.eq(tenant_of(scope)))
        .filter(webhook_deliveries::Column::Id.eq(id))
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
    let mut query = webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::TenantId.eq(tenant_of(scope)))
        .filter(webhook_deliveries::Column::EndpointId.eq(endpoint_id))
        .order_by_desc(webhook_deliveries::Column::Id);
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::Column::Id.lt(before));
    }
    query.limit(limit).all(scope.conn()).await
}

/// Sets a delivery's status and tries after a try (or a manual retry); a delivered
/// one records when.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %delivery, status = status.as_str()))]
pub async fn settle(
    scope: &impl TenantScoped,
    delivery: Uuid,
    status: DeliveryStatus,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    use webhook_deliveries::Column;
    let mut update = webhook_deliveries::Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::NextAttemptAt, Expr::value(next_attempt_at));
    if status == DeliveryStatus::Delivered {
        update = update.col_expr(Column::DeliveredAt, Expr::current_timestamp());
    }
    update
        .filter(Column::TenantId.eq(tenant_of(scope)))
        .filter(Column::Id.eq(delivery))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// The tries of some of the shop's deliveries, by delivery, in order.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn attempts(
    scope: &impl TenantScoped,
    deliveries: &[Uuid],
) -> Result<Vec<Attempt>, DbErr> {
    webhook_attempts::Entity::find()
        .filter(webhook_attempts::Column::TenantId.eq(tenant_of(scope)))
        .filter(webhook_attempts::Column::DeliveryId.is_in(deliveries.iter().copied()))
        .order_by_asc(webhook_attempts::Column::DeliveryId)
        .order_by_asc(webhook_attempts::Column::Attempt)
        .all(scope.conn())
        .await
}

/// Records a try.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %delivery, attempt = attempt))]
pub async fn record_attempt(
    scope: &impl TenantScoped,
    delivery: Uuid,
    attempt: i32,
    status_code: Option<i32>,
    latency_ms: i32,
    error: Option<&str>,
) -> Result<(), DbErr> {
    webhook_attempts::Entity::insert(webhook_attempts::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_of(scope)),
        delivery_id: Set(delivery),
        attempt: Set(attempt),
        status_code: Set(status_code),
        latency_ms: Set(latency_ms),
        error: Set(error.map(str::to_owned)),
        ..Default::default()
    })
    .exec_without_returning(scope.conn())
    .await?;
    Ok(())
}

// ---- the sender's queue ----

/// Queues a delivery ($1) of a shop ($2) for `due_at` ($3), or moves the due time of
/// its job if it is queued already. SQL because it is an upsert: a manual retry and
/// the sender's re-queueing never make two jobs of one delivery.
const QUEUE_DELIVERY: &str = "INSERT INTO webhook_jobs (delivery_id, tenant_id, due_at) \
     VALUES ($1, $2, $3) ON CONFLICT (delivery_id) DO UPDATE SET due_at = excluded.due_at";

/// Wakes the senders listening on `caravan_webhooks`. SQL because a notification is
/// the point: PostgreSQL delivers it at commit, when the job becomes visible.
const WAKE_SENDERS: &str = "SELECT pg_notify('caravan_webhooks', '')";

/// Queues (or re-queues) one of the shop's deliveries for `due_at`, and wakes the
/// sender.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %delivery))]
pub async fn queue(
    scope: &impl TenantScoped,
    delivery: Uuid,
    due_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            QUEUE_DELIVERY,
            vec![delivery.into(), tenant_of(scope).into(), due_at.into()],
        ))
        .await?;
    scope.conn().execute_unprepared(WAKE_SENDERS).await?;
    Ok(())
}

/// The next due job of any shop, locked. SQL because the lock is the point: `FOR
/// UPDATE SKIP LOCKED` keeps the row locked while its delivery is sent, so no other
/// sender takes it, and lets senders pass each other's jobs rather than wait; a
/// crash rolls back and leaves the job due.
const NEXT_DUE_JOB: &str = "SELECT delivery_id, tenant_id, due_at FROM webhook_jobs \
     WHERE due_at <= now() ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED";

/// Takes the next due job of any shop, locked until the transaction ends: the one
/// query that crosses shops, in platform scope. The sender then enters the job's
/// shop's scope for everything else.
#[tracing::instrument(skip_all, fields(tenant = tracing::field::Empty, id = tracing::field::Empty))]
pub async fn next_due_job(platform: &PlatformScope<'_>) -> Result<Option<Job>, DbErr> {
    let job = webhook_jobs::Entity::find()
        .from_raw_sql(statement(NEXT_DUE_JOB, vec![]))
        .one(platform.conn())
        .await?;
    if let Some(job) = &job {
        let span = tracing::Span::current();
        span.record("tenant", tracing::field::display(job.tenant_id));
        span.record("id", tracing::field::display(job.delivery_id));
    }
    Ok(job)
}

/// Takes one of the shop's deliveries off the queue (delivered, failed, or gone).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %delivery))]
pub async fn dequeue(scope: &impl TenantScoped, delivery: Uuid) -> Result<(), DbErr> {
    webhook_jobs::Entity::delete_many()
        .filter(webhook_jobs::Column::TenantId.eq(tenant_of(scope)))
        .filter(webhook_jobs::Column::DeliveryId.eq(delivery))
        .exec(scope.conn())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Value;
    use sea_orm::sea_query::ValueType;

    #[test]
    fn delivery_statuses_are_written_as_their_text_and_unknown_text_is_refused() {
        let delivered = Value::from(DeliveryStatus::Delivered);
        assert_eq!(delivered, Value::String(Some("delivered".into())));
        assert_eq!(
            <DeliveryStatus as ValueType>::try_from(delivered).ok(),
            Some(DeliveryStatus::Delivered)
        );
        let bounced = Value::String(Some("bounced".into()));
        assert!(<DeliveryStatus as ValueType>::try_from(bounced).is_err());
        assert!(<DeliveryStatus as ValueType>::try_from(Value::String(None)).is_err());
    }
}
