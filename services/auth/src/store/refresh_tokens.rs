//! Refresh tokens: a session's renewals, rotated on use and revoked by family.

use super::entities::refresh_tokens;
use super::*;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    Statement,
};
use uuid::Uuid;

/// A refresh token to store.
pub struct NewRefresh<'a> {
    /// Hash of the token.
    pub token_hash: &'a str,
    /// Its family (one per login).
    pub family_id: Uuid,
    /// Whose.
    pub user_id: Uuid,
    /// For which shop.
    pub tenant_id: Option<Uuid>,
    /// With which role.
    pub role: &'a str,
    /// With which scopes.
    pub scope: &'a str,
    /// Until when.
    pub expires_at: DateTime<Utc>,
}

/// Stores a refresh token, on a transaction of its shop or one acting for its user.
#[tracing::instrument(skip_all)]
pub async fn insert_refresh<C: ConnectionTrait>(
    conn: &C,
    new: NewRefresh<'_>,
) -> Result<(), DbErr> {
    refresh_tokens::ActiveModel {
        token_hash: Set(new.token_hash.to_owned()),
        family_id: Set(new.family_id),
        user_id: Set(new.user_id),
        tenant_id: Set(new.tenant_id),
        role: Set(new.role.to_owned()),
        scope: Set(new.scope.to_owned()),
        expires_at: Set(new.expires_at.into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// What presenting a refresh token amounts to.
pub enum Presented {
    /// Valid and now rotated: issue the next one in its family.
    Fresh(refresh_tokens::Model),
    /// Already rotated: someone replays it. Its family (named) is now revoked.
    Reused(Uuid),
    /// Revoked: its session was ended (logout, password change, reuse, a suspended
    /// shop).
    Ended,
    /// Unknown or expired.
    Invalid,
}

/// Rotates a presented refresh token atomically: of two concurrent uses, one wins
/// and the other counts as reuse. `conn` is a transaction: it presents the token to
/// the row policy, and once the token is found acts for its user (to issue the next
/// token of the session, or revoke the family).
#[tracing::instrument(skip_all)]
pub async fn present_refresh<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
) -> Result<Presented, DbErr> {
    present_token(conn, token_hash).await?;
    let fresh = refresh_tokens::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE refresh_tokens SET rotated_at = now() \
             WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now() \
             RETURNING *",
            [token_hash.into()],
        ))
        .one(conn)
        .await?;
    if let Some(token) = fresh {
        act_for_user(conn, token.user_id).await?;
        return Ok(Presented::Fresh(token));
    }
    let known = refresh_tokens::Entity::find_by_id(token_hash.to_owned())
        .one(conn)
        .await?;
    match known {
        Some(token) if token.revoked_at.is_some() => Ok(Presented::Ended),
        Some(token) if token.rotated_at.is_some() => {
            act_for_user(conn, token.user_id).await?;
            revoke_family(conn, token.family_id).await?;
            Ok(Presented::Reused(token.family_id))
        }
        _ => Ok(Presented::Invalid),
    }
}

/// The families of a user's sessions with a token issued after `since`: those whose
/// access tokens may still be unexpired. `conn`, a transaction, acts for the user.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn families_since<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    act_for_user(conn, user_id).await?;
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1 AND created_at > $2",
            [user_id.into(), since.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<Uuid>("", "family_id"))
        .collect()
}

/// The family of a presented refresh token, if the token is known. `conn`, a
/// transaction, presents the token to the row policy and then acts for its user, so
/// the family can be revoked.
#[tracing::instrument(skip_all)]
pub async fn family_of<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
) -> Result<Option<Uuid>, DbErr> {
    present_token(conn, token_hash).await?;
    let token = refresh_tokens::Entity::find_by_id(token_hash.to_owned())
        .one(conn)
        .await?;
    if let Some(token) = &token {
        act_for_user(conn, token.user_id).await?;
    }
    Ok(token.map(|token| token.family_id))
}

/// Revokes the matching tokens, repeating until a pass finds none left. A refresh
/// running at the same moment holds its token's row lock and inserts the session's
/// next token before it commits; the first pass waits for that lock, but (read
/// committed) cannot see the new row, which only a later statement does. Without the
/// second pass, a refresh racing a logout would leave the session a live token.
async fn revoke_where<C: ConnectionTrait>(
    conn: &C,
    filter: sea_orm::Condition,
) -> Result<u64, DbErr> {
    let mut revoked = 0;
    for _ in 0..8 {
        let result = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::current_timestamp())
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .filter(filter.clone())
            .exec(conn)
            .await?;
        revoked += result.rows_affected;
        if result.rows_affected == 0 {
            break;
        }
    }
    Ok(revoked)
}

/// Revokes every token of a family.
#[tracing::instrument(skip_all, fields(family_id = %family_id))]
pub async fn revoke_family<C: ConnectionTrait>(conn: &C, family_id: Uuid) -> Result<u64, DbErr> {
    revoke_where(
        conn,
        sea_orm::Condition::all().add(refresh_tokens::Column::FamilyId.eq(family_id)),
    )
    .await
}

/// Revokes every refresh token of a user (after a password change or reset), in
/// every shop. `conn`, a transaction, acts for the user.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn revoke_user_sessions<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
) -> Result<u64, DbErr> {
    act_for_user(conn, user_id).await?;
    revoke_where(
        conn,
        sea_orm::Condition::all().add(refresh_tokens::Column::UserId.eq(user_id)),
    )
    .await
}

/// Revokes every refresh token for the scope's shop (suspension, closure).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn revoke_tenant_sessions(scope: &impl TenantScoped) -> Result<u64, DbErr> {
    revoke_where(
        scope.conn(),
        sea_orm::Condition::all()
            .add(refresh_tokens::Column::TenantId.eq(scope.tenant().into_uuid())),
    )
    .await
}

/// Ends a user's sessions in the scope's shop, after their membership is removed, and
/// answers them (their access tokens are to be ended too). A session is in the shop
/// when its live refresh token is, or when it issued a token for the shop since `since`
/// (an access token of it may still act there, though the session has since switched
/// shop): such a session is revoked whole, in every shop, since ending it ends all its
/// access tokens anyway. Sessions that left the shop before `since` go on elsewhere.
/// `scope` acts for the user from here on (to reach the sessions in other shops).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), user_id = %user_id))]
pub async fn revoke_member_sessions(
    scope: &impl TenantScoped,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    let tenant = scope.tenant().into_uuid();
    let conn = scope.conn();
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT DISTINCT family_id FROM refresh_tokens \
             WHERE tenant_id = $1 AND user_id = $2 AND (revoked_at IS NULL OR created_at > $3)",
            [tenant.into(), user_id.into(), since.into()],
        ))
        .await?;
    let families = rows
        .iter()
        .map(|row| row.try_get::<Uuid>("", "family_id"))
        .collect::<Result<Vec<_>, _>>()?;
    act_for_user(conn, user_id).await?;
    for family in &families {
        // Waits for a refresh of the family running now, then revokes what it issued.
        revoke_family(conn, *family).await?;
    }
    // The rest of their tokens here are spent (rotated or expired): revoke them too.
    revoke_where(
        conn,
        sea_orm::Condition::all()
            .add(refresh_tokens::Column::TenantId.eq(tenant))
            .add(refresh_tokens::Column::UserId.eq(user_id)),
    )
    .await?;
    Ok(families)
}
