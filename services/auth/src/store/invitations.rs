//! Invitations to join a shop's staff.

use super::entities::invitations;
use super::*;
use crate::domain::{Email, MemberRole};
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

/// Stores an invitation to the transaction's shop.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), invited_by = ?invited_by))]
pub async fn insert_invitation(
    tx: &impl TenantScoped,
    email: &Email,
    role: MemberRole,
    token_hash: &str,
    invited_by: Option<Uuid>,
    expires_at: DateTime<Utc>,
) -> Result<invitations::Model, DbErr> {
    invitations::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tx.tenant().into_uuid()),
        email: Set(email.as_str().to_owned()),
        role: Set(role.as_str().to_owned()),
        token_hash: Set(token_hash.to_owned()),
        invited_by: Set(invited_by),
        expires_at: Set(expires_at.into()),
        ..Default::default()
    }
    .insert(tx.conn())
    .await
}

/// The open invitation a token stands for.
#[tracing::instrument(skip_all)]
pub async fn invitation_by_token(
    db: &DatabaseConnection,
    token_hash: &str,
) -> Result<Option<invitations::Model>, DbErr> {
    let tx = lookup_tx(db, Lookup::TokenHash(token_hash)).await?;
    let invitation = invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(token_hash))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::RevokedAt.is_null())
        .filter(invitations::Column::ExpiresAt.gt(Utc::now()))
        .one(&tx)
        .await?;
    tx.commit().await?;
    Ok(invitation)
}

/// Marks an invitation accepted; false when it already was (a concurrent accept) or
/// was revoked meanwhile.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), id = %id))]
pub async fn accept_invitation(tx: &impl TenantScoped, id: Uuid) -> Result<bool, DbErr> {
    let result = invitations::Entity::update_many()
        .col_expr(invitations::Column::AcceptedAt, Expr::current_timestamp())
        .filter(invitations::Column::Id.eq(id))
        .filter(invitations::Column::TenantId.eq(tx.tenant().into_uuid()))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::RevokedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// The shop's pending invitations (neither accepted, revoked nor expired), oldest
/// first.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant()))]
pub async fn pending_invitations(tx: &impl TenantScoped) -> Result<Vec<invitations::Model>, DbErr> {
    invitations::Entity::find()
        .filter(invitations::Column::TenantId.eq(tx.tenant().into_uuid()))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::RevokedAt.is_null())
        .filter(invitations::Column::ExpiresAt.gt(Utc::now()))
        .order_by_asc(invitations::Column::CreatedAt)
        .order_by_asc(invitations::Column::Id)
        .all(tx.conn())
        .await
}

/// Revokes one of the shop's pending invitations: answers it, or none when the shop
/// has no such pending invitation.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), id = %id))]
pub async fn revoke_invitation(
    tx: &impl TenantScoped,
    id: Uuid,
) -> Result<Option<invitations::Model>, DbErr> {
    let revoked = invitations::Entity::update_many()
        .col_expr(invitations::Column::RevokedAt, Expr::current_timestamp())
        .filter(invitations::Column::Id.eq(id))
        .filter(invitations::Column::TenantId.eq(tx.tenant().into_uuid()))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::RevokedAt.is_null())
        .filter(invitations::Column::ExpiresAt.gt(Utc::now()))
        .exec_with_returning(tx.conn())
        .await?;
    Ok(revoked.into_iter().next())
}
