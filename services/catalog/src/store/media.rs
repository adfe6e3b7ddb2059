//! Uploaded media.

use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::{DbErr, FromQueryResult};
use uuid::Uuid;

/// An upload's row.
#[derive(Debug, Clone, FromQueryResult)]
pub struct MediaRow {
    pub id: Uuid,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    /// `[{width, height, bytes}]`, smallest first.
    pub renditions: serde_json::Value,
    pub bytes: i64,
    pub created_at: DateTime<Utc>,
}

/// An upload to record.
pub struct MediaValues {
    pub id: Uuid,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub renditions: serde_json::Value,
    pub bytes: i64,
}

/// Records an upload whose renditions are stored.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %m.id))]
pub async fn insert_media(scope: &impl TenantScoped, m: &MediaValues) -> Result<MediaRow, DbErr> {
    let row = MediaRow::find_by_statement(statement(
        "INSERT INTO media (id, tenant_id, content_type, width, height, renditions, bytes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         RETURNING id, content_type, width, height, renditions, bytes, created_at",
        vec![
            m.id.into(),
            scope.tenant().into_uuid().into(),
            m.content_type.clone().into(),
            m.width.into(),
            m.height.into(),
            m.renditions.clone().into(),
            m.bytes.into(),
        ],
    ))
    .one(scope.conn())
    .await?;
    row.ok_or(DbErr::RecordNotInserted)
}

/// The shop's uploads among `ids`; unknown ids (and other shops') are left out.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn media(scope: &impl TenantScoped, ids: &[Uuid]) -> Result<Vec<MediaRow>, DbErr> {
    MediaRow::find_by_statement(statement(
        "SELECT id, content_type, width, height, renditions, bytes, created_at FROM media \
         WHERE tenant_id = $1 AND id = ANY($2)",
        vec![scope.tenant().into_uuid().into(), ids.to_vec().into()],
    ))
    .all(scope.conn())
    .await
}
