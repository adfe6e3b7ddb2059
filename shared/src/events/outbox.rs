//! Appending events inside the caller's transaction.

use crate::tenancy::TenantId;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use uuid::Uuid;

/// Appends an event to the outbox on `conn` — the transaction making the state
/// change, so both commit or roll back together. Answers the event's id. Row-level
/// security admits an event of a shop from that shop's transaction (or platform
/// scope), and an event of no shop from any transaction that is not a shop's.
pub async fn append<C, T>(
    conn: &C,
    event_type: &str,
    tenant: Option<TenantId>,
    data: &T,
) -> Result<Uuid, DbErr>
where
    C: ConnectionTrait,
    T: serde::Serialize,
{
    let id = Uuid::now_v7();
    let data = serde_json::to_value(data)
        .map_err(|error| DbErr::Custom(format!("event data not serialisable: {error}")))?;
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO outbox (id, event_type, tenant_id, data) VALUES ($1, $2, $3, $4)",
        [
            id.into(),
            event_type.into(),
            tenant.map(TenantId::into_uuid).into(),
            data.into(),
        ],
    ))
    .await?;
    Ok(id)
}

/// Appends several events in one statement (bulk writes), in order.
pub async fn append_many<C, T>(
    conn: &C,
    events: &[(&str, Option<TenantId>, T)],
) -> Result<Vec<Uuid>, DbErr>
where
    C: ConnectionTrait,
    T: serde::Serialize,
{
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::with_capacity(events.len());
    let mut rows = Vec::with_capacity(events.len());
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(events.len() * 4);
    for (event_type, tenant, data) in events {
        let id = Uuid::now_v7();
        let data = serde_json::to_value(data)
            .map_err(|error| DbErr::Custom(format!("event data not serialisable: {error}")))?;
        let n = values.len();
        rows.push(format!("(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4));
        values.extend([
            id.into(),
            (*event_type).into(),
            tenant.map(TenantId::into_uuid).into(),
            data.into(),
        ]);
        ids.push(id);
    }
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "INSERT INTO outbox (id, event_type, tenant_id, data) VALUES {}",
            rows.join(", ")
        ),
        values,
    ))
    .await?;
    Ok(ids)
}
