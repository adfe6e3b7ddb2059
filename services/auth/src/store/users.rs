//! Accounts: who someone is, their password and verification.

use super::entities::users;
use super::*;
use crate::domain::Email;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// The user with this email.
#[tracing::instrument(skip_all)]
pub async fn user_by_email<C: ConnectionTrait>(
    conn: &C,
    email: &Email,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(conn)
        .await
}

/// The user with this id.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn user<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find_by_id(id).one(conn).await
}

/// A new user.
pub struct NewUser<'a> {
    /// Normalised email.
    pub email: &'a Email,
    /// Shown name.
    pub display_name: &'a str,
    /// PHC hash, or none for an invited owner who has yet to set one.
    pub password_hash: Option<String>,
    /// Whether the address is already proven.
    pub verified: bool,
    /// Whether this is a platform operator.
    pub platform_admin: bool,
}

/// Inserts a user; a taken email is a duplicate error ([`is_duplicate`]).
#[tracing::instrument(skip_all)]
pub async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    new: NewUser<'_>,
) -> Result<users::Model, DbErr> {
    users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email.as_str().to_owned()),
        display_name: Set(new.display_name.to_owned()),
        password_hash: Set(new.password_hash),
        email_verified_at: Set(new.verified.then(|| Utc::now().into())),
        platform_admin: Set(new.platform_admin),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// Replaces a user's password hash.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn set_password<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    hash: &str,
) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(hash))
        .col_expr(users::Column::UpdatedAt, Expr::current_timestamp())
        .filter(users::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Removes a user's password (and so their sessions' renewal).
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn clear_password<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(
            users::Column::PasswordHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(users::Column::UpdatedAt, Expr::current_timestamp())
        .filter(users::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    revoke_user_sessions(conn, user_id).await?;
    Ok(())
}

/// Marks a user's email as verified (once).
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn mark_verified<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::EmailVerifiedAt, Expr::current_timestamp())
        .col_expr(users::Column::UpdatedAt, Expr::current_timestamp())
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::EmailVerifiedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Makes a user a platform operator.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn make_platform_admin<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::PlatformAdmin, Expr::value(true))
        .filter(users::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}
