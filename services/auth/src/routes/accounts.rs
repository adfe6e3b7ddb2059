//! Accounts: registration, email verification, the caller's profile, passwords.

use super::{AuthState, all_valid};
use crate::domain::password::NewPassword;
use crate::domain::{DisplayName, Email};
use crate::events::USER_REGISTERED;
use crate::store::{self, EmailPurpose, NewUser};
use actix_web::{HttpResponse, get, post, web};
use caravan_shared::ApiError;
use caravan_shared::ErrorCode;
use caravan_shared::error::Problem;
use caravan_shared::events::outbox;
use caravan_shared::http::Json;
use caravan_shared::identity::{Principal, Role};
use caravan_shared::mail::{self, Email as Mail};
use caravan_shared::secrets;
use chrono::Utc;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

const VERIFICATION_LIFETIME: chrono::Duration = chrono::Duration::hours(48);
const RESET_LIFETIME: chrono::Duration = chrono::Duration::minutes(30);

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ayse@hotan-jujube.cn", "password": "jujubes-from-hotan-2026", "display_name": "Ayşe Tursun"}))]
pub struct RegisterRequest {
    /// Email address; a verification link is sent to it.
    #[schema(value_type = caravan_shared::domain::Email)]
    pub email: String,
    /// 10 to 256 characters, not a common password.
    #[schema(schema_with = super::new_password_schema)]
    pub password: String,
    /// Name shown to others (1 to 100 characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\u0000\u0009-\u000D \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000]*$"
    )]
    pub display_name: String,
}

/// An account as its owner sees it after registering.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01935f6e-7a10-7c3e-9d0a-3f0b6c2d1e4f", "email": "ayse@hotan-jujube.cn", "email_verified": false}))]
pub struct Registered {
    /// The account id.
    pub id: Uuid,
    /// The normalised email.
    pub email: String,
    /// Whether the address is verified.
    pub email_verified: bool,
}

/// Registers an account and emails a verification link.
#[utoipa::path(
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered; verification email sent", body = Registered),
        (status = 409, description = "The email already has an account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email, password or name", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/register")]
pub async fn register(
    state: web::Data<AuthState>,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.email, "email");
    let password = NewPassword::parse(&body.password, "password");
    let name = DisplayName::parse(&body.display_name);
    all_valid(
        [
            email.as_ref().err(),
            password.as_ref().err(),
            name.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect(),
    )?;
    let (Ok(email), Ok(password), Ok(name)) = (email, password, name) else {
        return Err(ApiError::validation("invalid registration"));
    };
    let hash = state.hash_password(password.expose()).await?;

    let tx = state.context.db.begin().await?;
    let user = store::insert_user(
        &tx,
        NewUser {
            email: &email,
            display_name: name.as_str(),
            password_hash: Some(hash),
            verified: false,
            platform_admin: false,
        },
    )
    .await
    .map_err(|error| {
        if store::is_duplicate(&error) {
            ApiError::conflict(
                ErrorCode::EmailTaken,
                "an account with this email already exists",
            )
            .with_field("email", "is already registered")
        } else {
            error.into()
        }
    })?;
    let token = secrets::generate();
    store::insert_email_token(
        &tx,
        &secrets::hash(&token),
        EmailPurpose::VerifyEmail,
        user.id,
        Utc::now() + VERIFICATION_LIFETIME,
    )
    .await?;
    mail::enqueue(
        &tx,
        &Mail {
            to: email.as_str().to_owned(),
            subject: "Verify your email for Caravan".to_owned(),
            body: format!(
                "Welcome to Caravan, {name}.\n\nConfirm your email address here (valid for 48 hours):\n\
                 {}/verify-email?token={token}\n",
                state.context.settings.public_url,
                name = name.as_str()
            ),
        },
    )
    .await?;
    outbox::append(&tx, USER_REGISTERED, None, &json!({ "user_id": user.id })).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(Registered {
        id: user.id,
        email: user.email,
        email_verified: false,
    }))
}

/// A token from an email.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q8V3bXk0c2F1e9mZ7wR4tY6uI1oP5aS3dF8gH2jK4lQ"}))]
pub struct EmailTokenRequest {
    /// The token from the emailed link.
    #[schema(min_length = 43, max_length = 43, pattern = r"^[A-Za-z0-9_-]{43}$")]
    pub token: String,
}

fn invalid_token() -> ApiError {
    ApiError::invalid_field("token", "is invalid, expired or already used")
}

/// Verifies an email address with the emailed token (single use).
#[utoipa::path(
    tag = "accounts",
    request_body = EmailTokenRequest,
    responses(
        (status = 204, description = "Verified"),
        (status = 422, description = "Invalid, expired or used token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/verify-email")]
pub async fn verify_email(
    state: web::Data<AuthState>,
    body: Json<EmailTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.context.db.begin().await?;
    let user_id = store::use_email_token(
        &tx,
        &secrets::hash(body.token.trim()),
        EmailPurpose::VerifyEmail,
    )
    .await?
    .ok_or_else(invalid_token)?;
    store::mark_verified(&tx, user_id).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One of the caller's shops.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"tenant_id": "0193a7c4-1f00-7a3e-8b1d-2c4e6f8a0b11", "tenant_slug": "zhongning-goji", "role": "owner"}))]
pub struct MembershipOut {
    /// The shop's id.
    pub tenant_id: Uuid,
    /// The shop's slug.
    #[schema(example = "zhongning-goji")]
    pub tenant_slug: String,
    /// The caller's role there.
    #[schema(example = "owner")]
    pub role: String,
}

/// The caller's account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a7c4-2b30-7e4f-9a1b-3c5d7e9f1a2b", "email": "owner@zhongning-goji.example.cn",
    "display_name": "Ma Jun", "email_verified": true, "platform_admin": false,
    "memberships": [{"tenant_id": "0193a7c4-1f00-7a3e-8b1d-2c4e6f8a0b11", "tenant_slug": "zhongning-goji", "role": "owner"}]
}))]
pub struct Me {
    /// Account id.
    pub id: Uuid,
    /// Email.
    #[schema(example = "owner@zhongning-goji.cn")]
    pub email: String,
    /// Shown name.
    #[schema(example = "Ma Jun")]
    pub display_name: String,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// Whether the account is a platform operator.
    pub platform_admin: bool,
    /// The shops the account belongs to.
    pub memberships: Vec<MembershipOut>,
}

fn account_of(principal: &Principal) -> Result<Uuid, ApiError> {
    match principal.role {
        Role::App | Role::Service => Err(ApiError::forbidden("only people have accounts")),
        _ => principal
            .subject
            .parse()
            .map_err(|_| ApiError::unauthorized("the token's subject is not an account")),
    }
}

/// The caller's account and memberships.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = Me),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An app or service token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/auth/me")]
pub async fn me(
    state: web::Data<AuthState>,
    principal: Principal,
) -> Result<web::Json<Me>, ApiError> {
    let user_id = account_of(&principal)?;
    let db = &state.context.db;
    let user = store::user(db, user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the account no longer exists"))?;
    let memberships = store::memberships_of(db, user_id)
        .await?
        .into_iter()
        .map(|membership| MembershipOut {
            tenant_id: membership.tenant_id,
            tenant_slug: membership.tenant_slug,
            role: membership.role.as_str().to_owned(),
        })
        .collect();
    Ok(web::Json(Me {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        email_verified: user.email_verified_at.is_some(),
        platform_admin: user.platform_admin,
        memberships,
    }))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "goji-harvest-in-zhongning", "new_password": "melons-of-hami-ripen-in-july"}))]
pub struct ChangePasswordRequest {
    /// The password now.
    pub current_password: String,
    /// The new one (policy as at registration: 10 to 256 characters, not a common
    /// password).
    #[schema(schema_with = super::new_password_schema)]
    pub new_password: String,
}

/// Changes the caller's password; every session of the account ends.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; every session ended (its refresh and access tokens)"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password or weak new one", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/password/change")]
pub async fn change_password(
    state: web::Data<AuthState>,
    principal: Principal,
    body: Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let user_id = account_of(&principal)?;
    let new = NewPassword::parse(&body.new_password, "new_password")
        .map_err(|error| ApiError::invalid_fields(vec![error]))?;
    let db = &state.context.db;
    let user = store::user(db, user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the account no longer exists"))?;
    if !state
        .verify_password(&body.current_password, user.password_hash)
        .await?
    {
        return Err(ApiError::invalid_field("current_password", "is wrong"));
    }
    let hash = state.hash_password(new.expose()).await?;
    let tx = db.begin().await?;
    store::set_password(&tx, user_id, &hash).await?;
    end_every_session(&state, &tx, user_id).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends every session of a user: refresh tokens revoked, and the access tokens of
/// sessions recent enough to have live ones refused from now on. Recorded in Redis
/// before the caller commits, so that if Redis cannot take it nothing changes (503).
async fn end_every_session<C: sea_orm::ConnectionTrait>(
    state: &AuthState,
    conn: &C,
    user_id: Uuid,
) -> Result<(), ApiError> {
    let lookback = chrono::Duration::seconds(
        i64::try_from(caravan_shared::identity::sessions::ENDED_SESSION_TTL_SECS).unwrap_or(86_400),
    );
    let live = store::families_since(conn, user_id, Utc::now() - lookback).await?;
    store::revoke_user_sessions(conn, user_id).await?;
    state.end_sessions(&live).await
}

/// A forgotten password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ayse@hotan-jujube.cn"}))]
pub struct ForgotPasswordRequest {
    /// The account's email.
    #[schema(value_type = caravan_shared::domain::Email)]
    pub email: String,
}

/// Emails a password-reset link (valid 30 minutes, single use) when the account
/// exists. The answer is the same whether it does or not.
#[utoipa::path(
    tag = "accounts",
    request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "If the account exists, a reset link is on its way"),
        (status = 422, description = "Not an email address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/password/forgot")]
pub async fn forgot_password(
    state: web::Data<AuthState>,
    body: Json<ForgotPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let email =
        Email::parse(&body.email, "email").map_err(|e| ApiError::invalid_fields(vec![e]))?;
    let tx = state.context.db.begin().await?;
    if let Some(user) = store::user_by_email(&tx, &email).await? {
        let token = secrets::generate();
        store::insert_email_token(
            &tx,
            &secrets::hash(&token),
            EmailPurpose::ResetPassword,
            user.id,
            Utc::now() + RESET_LIFETIME,
        )
        .await?;
        mail::enqueue(
            &tx,
            &Mail {
                to: email.as_str().to_owned(),
                subject: "Reset your Caravan password".to_owned(),
                body: format!(
                    "Someone asked to reset the password of your Caravan account.\n\n\
                     Set a new password here (valid for 30 minutes, once):\n\
                     {}/reset-password?token={token}\n\n\
                     If it was not you, ignore this message; your password stays as it is.\n",
                    state.context.settings.public_url
                ),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(HttpResponse::Accepted().finish())
}

/// A password reset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q8V3bXk0c2F1e9mZ7wR4tY6uI1oP5aS3dF8gH2jK4lQ", "password": "melons-of-hami-ripen-in-july"}))]
pub struct ResetPasswordRequest {
    /// The token from the emailed link.
    #[schema(min_length = 43, max_length = 43, pattern = r"^[A-Za-z0-9_-]{43}$")]
    pub token: String,
    /// The new password (10 to 256 characters, not a common password).
    #[schema(schema_with = super::new_password_schema)]
    pub password: String,
}

/// Sets a new password with an emailed reset token; every session of the account ends.
#[utoipa::path(
    tag = "accounts",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password set"),
        (status = 422, description = "Invalid, expired or used token, or a weak password", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/password/reset")]
pub async fn reset_password(
    state: web::Data<AuthState>,
    body: Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = NewPassword::parse(&body.password, "password")
        .map_err(|error| ApiError::invalid_fields(vec![error]))?;
    let hash = state.hash_password(password.expose()).await?;
    let tx = state.context.db.begin().await?;
    let user_id = store::use_email_token(
        &tx,
        &secrets::hash(body.token.trim()),
        EmailPurpose::ResetPassword,
    )
    .await?
    .ok_or_else(invalid_token)?;
    store::set_password(&tx, user_id, &hash).await?;
    // Following the link proved the inbox too.
    store::mark_verified(&tx, user_id).await?;
    end_every_session(&state, &tx, user_id).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
