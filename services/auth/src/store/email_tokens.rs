//! One-time email tokens: verification and password reset.

use super::entities::email_tokens;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, Statement};
use uuid::Uuid;

/// What an email token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailPurpose {
    /// Proves an address.
    VerifyEmail,
    /// Sets a new password.
    ResetPassword,
}

impl EmailPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

/// Stores an email token.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn insert_email_token<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
    purpose: EmailPurpose,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    email_tokens::ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        purpose: Set(purpose.as_str().to_owned()),
        user_id: Set(user_id),
        expires_at: Set(expires_at.into()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Uses an email token once: answers its user if it was unused and unexpired.
#[tracing::instrument(skip_all)]
pub async fn use_email_token<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
    purpose: EmailPurpose,
) -> Result<Option<Uuid>, DbErr> {
    let used = email_tokens::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE email_tokens SET used_at = now() \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now() \
             RETURNING *",
            [token_hash.into(), purpose.as_str().into()],
        ))
        .one(conn)
        .await?;
    Ok(used.map(|token| token.user_id))
}
