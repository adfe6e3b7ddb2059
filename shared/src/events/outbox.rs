//! Appending events inside the caller's transaction.

use crate::tenancy::TenantId;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use uuid::Uuid;

/// Appends an event to the outbox on `conn` — the transaction making the state
/// change, so both commit or roll back together. Answers the event's id.
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
