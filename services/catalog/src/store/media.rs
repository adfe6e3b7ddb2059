//! Uploaded media.

use super::entities::media;
use crate::domain::media::RenditionFormat;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// An upload's row.
pub type MediaRow = media::Model;

/// An upload to record.
pub struct MediaValues {
    pub id: Uuid,
    pub content_type: RenditionFormat,
    pub width: i32,
    pub height: i32,
    pub renditions: serde_json::Value,
    pub bytes: i64,
}

/// Records an upload whose renditions are stored.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %m.id))]
pub async fn insert_media(scope: &impl TenantScoped, m: &MediaValues) -> Result<MediaRow, DbErr> {
    media::ActiveModel {
        id: Set(m.id),
        tenant_id: Set(scope.tenant().into_uuid()),
        content_type: Set(m.content_type),
        width: Set(m.width),
        height: Set(m.height),
        renditions: Set(m.renditions.clone()),
        bytes: Set(m.bytes),
        ..Default::default()
    }
    .insert(scope.conn())
    .await
}

/// The shop's uploads among `ids`; unknown ids (and other shops') are left out.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn media(scope: &impl TenantScoped, ids: &[Uuid]) -> Result<Vec<MediaRow>, DbErr> {
    media::Entity::find()
        .filter(media::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .all(scope.conn())
        .await
}
