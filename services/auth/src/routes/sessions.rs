//! Login, refresh, switching shop and logout.

use super::AuthState;
use crate::domain::{Email, MemberRole};
use crate::store::entities::{refresh_tokens, users};
use crate::store::{self, NewRefresh, Presented};
use actix_web::{HttpRequest, HttpResponse, post, web};
use caravan_shared::ErrorCode;
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::Role;
use caravan_shared::secrets;
use caravan_shared::tenancy::{TenantScope, TenantScoped};
use caravan_shared::tenant_status;
use caravan_shared::{ApiError, TenantId};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Refresh tokens live 30 days.
const REFRESH_LIFETIME: chrono::Duration = chrono::Duration::days(30);

/// An access token and the refresh token that renews it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6IkM1Z3...", "token_type": "Bearer",
    "expires_in": 900, "refresh_token": "mF3t0Qy1o2JrXQ0b7mZxq3dPuVwB8v5b0q9T8QdJk1E",
    "scope": "catalog:read catalog:write"
}))]
pub struct TokenPair {
    /// JWT (EdDSA) for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque; exchange at `/v1/auth/refresh` for a new pair. Single use.
    pub refresh_token: String,
    /// Space-separated scopes of the access token.
    pub scope: String,
}

/// Who a session is for.
pub(crate) struct SessionFor {
    pub user_id: Uuid,
    pub tenant: Option<TenantId>,
    pub role: Role,
    pub scopes: Vec<String>,
}

impl SessionFor {
    pub(crate) fn member(user_id: Uuid, tenant: TenantId, role: MemberRole) -> Self {
        Self {
            user_id,
            tenant: Some(tenant),
            role: role.role(),
            scopes: role.scopes().iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn without_shop(user: &users::Model) -> Self {
        Self {
            user_id: user.id,
            tenant: None,
            role: if user.platform_admin {
                Role::PlatformAdmin
            } else {
                Role::Customer
            },
            scopes: Vec::new(),
        }
    }
}

/// Signs an access token and stores a new refresh token in `family` (a new family for
/// a new login).
pub(crate) async fn issue<C: ConnectionTrait>(
    state: &AuthState,
    conn: &C,
    session: &SessionFor,
    family: Option<Uuid>,
) -> Result<TokenPair, ApiError> {
    let signer = state.keys.signer().await;
    let scope_refs: Vec<&str> = session.scopes.iter().map(String::as_str).collect();
    // The family is the session: ending it ends the access tokens it issued.
    let family_id = family.unwrap_or_else(Uuid::now_v7);
    let claims = signer.session_claims(
        family_id,
        &session.user_id.to_string(),
        session.tenant.map(TenantId::into_uuid),
        session.role,
        &scope_refs,
    );
    let access_token = signer.sign(&claims)?;
    let refresh_token = secrets::generate();
    let scope = scope_refs.join(" ");
    store::insert_refresh(
        conn,
        NewRefresh {
            token_hash: &secrets::hash(&refresh_token),
            family_id,
            user_id: session.user_id,
            tenant_id: session.tenant.map(TenantId::into_uuid),
            role: session.role.as_str(),
            scope: &scope,
            expires_at: Utc::now() + REFRESH_LIFETIME,
        },
    )
    .await?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: signer.ttl_secs(),
        refresh_token,
        scope,
    })
}

/// Login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "owner@zhongning-goji.cn", "password": "goji-harvest-in-zhongning", "tenant": "zhongning-goji"}))]
pub struct LoginRequest {
    /// The account's email.
    #[schema(value_type = caravan_shared::domain::Email)]
    pub email: String,
    /// Its password.
    pub password: String,
    /// Slug of the shop to act in; optional when the account belongs to one shop.
    #[serde(default)]
    #[schema(pattern = r"^[^\u0000]*$")]
    pub tenant: Option<String>,
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("the email or password is wrong")
}

/// Logs in with email and password and answers tokens for one shop (or, for platform
/// operators, for the platform). Failures are throttled per account and address.
#[utoipa::path(
    tag = "sessions",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 401, description = "Wrong email or password (the same answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Email not verified, no membership in that shop, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, or several shops and none chosen", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/login")]
pub async fn login(
    request: HttpRequest,
    state: web::Data<AuthState>,
    body: Json<LoginRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    let body = body.into_inner();
    let email =
        Email::parse(&body.email, "email").map_err(|e| ApiError::invalid_fields(vec![e]))?;
    let address = state.client_address(&request);
    let attempt = state
        .throttle
        .attempt(email.as_str(), &address)
        .await
        .map_err(ApiError::too_many_requests)?;
    let db = &state.context.db;
    let user = store::user_by_email(db, &email).await?;
    let stored = user.as_ref().and_then(|user| user.password_hash.clone());
    if !state
        .verify_password(&body.password, stored.clone())
        .await?
    {
        state.throttle.failed(email.as_str(), &address).await;
        return Err(invalid_credentials());
    }
    let Some(user) = user else {
        return Err(invalid_credentials());
    };
    state
        .throttle
        .succeeded(email.as_str(), &address, attempt)
        .await;
    if user.email_verified_at.is_none() {
        return Err(ApiError::forbidden_because(
            ErrorCode::EmailNotVerified,
            "verify your email address first; the link was sent when you registered",
        ));
    }
    if let Some(stored) = stored
        && state.hashing.needs_rehash(&stored)
    {
        let rehashed = state.hash_password(&body.password).await?;
        store::set_password(db, user.id, &rehashed).await?;
    }

    let session = choose_session(&state, &user, body.tenant.as_deref()).await?;
    // The new refresh token is the user's: stored acting for them (row policy).
    let tx = store::lookup_tx(db, store::Lookup::User(user.id)).await?;
    let pair = issue(&state, &tx, &session, None).await?;
    tx.commit().await?;
    Ok(web::Json(pair))
}

async fn choose_session(
    state: &AuthState,
    user: &users::Model,
    wanted: Option<&str>,
) -> Result<SessionFor, ApiError> {
    let db = &state.context.db;
    if let Some(slug) = wanted.map(str::trim).filter(|slug| !slug.is_empty()) {
        let tx = db.begin().await?;
        let session = shop_session(&tx, user.id, slug).await?;
        tx.commit().await?;
        return Ok(session);
    }
    if user.platform_admin {
        return Ok(SessionFor::without_shop(user));
    }
    let active: Vec<_> = store::memberships_of(db, user.id)
        .await?
        .into_iter()
        .filter(|membership| membership.tenant_status == "active")
        .collect();
    match active.as_slice() {
        [] => Ok(SessionFor::without_shop(user)),
        [only] => Ok(SessionFor::member(
            user.id,
            TenantId::from(only.tenant_id),
            only.role,
        )),
        several => {
            let slugs: Vec<&str> = several.iter().map(|m| m.tenant_slug.as_str()).collect();
            Err(ApiError::invalid_field(
                "tenant",
                format!(
                    "you belong to several shops; choose one of: {}",
                    slugs.join(", ")
                ),
            )
            .with_choices(slugs))
        }
    }
}

/// A session in the shop `slug` for one of its members: 403 `not_a_member` when the
/// user is not one (or there is no such shop), `tenant_suspended` when the shop is not
/// active. `tx` is in that shop's scope from here on, and holds the membership until it
/// ends, so a removal racing it also ends the session it issues.
async fn shop_session(
    tx: &DatabaseTransaction,
    user_id: Uuid,
    slug: &str,
) -> Result<SessionFor, ApiError> {
    let no_membership =
        || ApiError::forbidden_because(ErrorCode::NotAMember, "you are not a member of that shop");
    let shop = tenant_status::named(tx, slug)
        .await?
        .ok_or_else(no_membership)?;
    let tenant = shop.tenant;
    let scope = TenantScope::enter(tx, tenant).await?;
    let role = store::membership_held(&scope, user_id)
        .await?
        .ok_or_else(no_membership)?;
    if !shop.is_active() {
        return Err(ApiError::forbidden_because(
            ErrorCode::TenantSuspended,
            "this shop is not active",
        ));
    }
    Ok(SessionFor::member(user_id, tenant, role))
}

/// A refresh token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "mF3t0Qy1o2JrXQ0b7mZxq3dPuVwB8v5b0q9T8QdJk1E"}))]
pub struct RefreshRequest {
    /// The refresh token from the last pair.
    pub refresh_token: String,
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting
/// one again revokes every token descending from the same login.
#[utoipa::path(
    tag = "sessions",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokenPair),
        (status = 401, description = "Unknown, expired, reused or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/refresh")]
pub async fn refresh(
    state: web::Data<AuthState>,
    body: Json<RefreshRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    let Rotated { tx, token, user } = rotate(&state, body.refresh_token.trim()).await?;
    let session = match token.tenant_id.map(TenantId::from) {
        Some(tenant) => {
            let scope = TenantScope::enter(&tx, tenant).await?;
            let shop = tenant_status::shop(scope.conn(), tenant).await?;
            let role = store::membership(&scope, user.id).await?;
            match (shop, role) {
                (Some(shop), Some(role)) if shop.is_active() => {
                    SessionFor::member(user.id, tenant, role)
                }
                _ => {
                    store::revoke_family(&tx, token.family_id).await?;
                    tx.commit().await?;
                    if let Err(error) = state.end_sessions(&[token.family_id]).await {
                        tracing::warn!(family = %token.family_id, "access tokens not ended: {error}");
                    }
                    return Err(ApiError::unauthorized(
                        "the shop or your membership is no longer active",
                    ));
                }
            }
        }
        None => SessionFor::without_shop(&user),
    };
    let pair = issue(&state, &tx, &session, Some(token.family_id)).await?;
    tx.commit().await?;
    Ok(web::Json(pair))
}

/// A presented refresh token, rotated in a transaction not yet committed: the next
/// token of its session is issued in it. Dropping it uncommitted rolls the rotation
/// back, leaving the presented token as it was.
struct Rotated {
    tx: DatabaseTransaction,
    token: refresh_tokens::Model,
    user: users::Model,
}

/// Presents a refresh token, as `/v1/auth/refresh` and `/v1/auth/switch` both do:
/// answers it rotated, or 401 when it is unknown, expired or ended; a reused token's
/// whole family is revoked (committed here) and its access tokens ended.
async fn rotate(state: &AuthState, presented: &str) -> Result<Rotated, ApiError> {
    let hash = secrets::hash(presented);
    let tx = state.context.db.begin().await?;
    let token = match store::present_refresh(&tx, &hash).await? {
        Presented::Fresh(token) => token,
        Presented::Reused(family) => {
            // The revocation stands even if Redis is down; the family's access tokens
            // then live out their few minutes.
            tx.commit().await?;
            tracing::warn!(%family, "refresh token reused; its family is revoked");
            if let Err(error) = state.end_sessions(&[family]).await {
                tracing::warn!(%family, "reused family's access tokens not ended: {error}");
            }
            return Err(ApiError::unauthorized(
                "this refresh token was already used; the session has been revoked",
            ));
        }
        Presented::Ended => {
            return Err(ApiError::unauthorized(
                "the session has ended (logged out or revoked); log in again",
            ));
        }
        Presented::Invalid => {
            return Err(ApiError::unauthorized(
                "the refresh token is invalid or expired",
            ));
        }
    };
    let user = store::user(&tx, token.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the account no longer exists"))?;
    Ok(Rotated { tx, token, user })
}

/// Switching the shop a session acts in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "mF3t0Qy1o2JrXQ0b7mZxq3dPuVwB8v5b0q9T8QdJk1E", "tenant": "turpan-raisins"}))]
pub struct SwitchRequest {
    /// The refresh token from the last pair.
    pub refresh_token: String,
    /// Slug of the shop to act in from now on.
    #[schema(min_length = 1, pattern = r"^[^\u0000]*$")]
    pub tenant: String,
}

/// Exchanges a refresh token for a pair acting in another of the account's shops,
/// without signing in again. The token is presented as at `/v1/auth/refresh` (single
/// use; a reused one revokes its session). The new pair continues the same session,
/// so logging out ends it whichever shop it is in. A refused switch (403) leaves the
/// presented token unused: the session goes on in the shop it was in.
#[utoipa::path(
    tag = "sessions",
    request_body = SwitchRequest,
    responses(
        (status = 200, description = "A new pair for the chosen shop, in the same session", body = TokenPair),
        (status = 401, description = "Unknown, expired, reused or revoked refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_a_member`: no membership in that shop (or no such shop); `tenant_suspended`: the shop is not active. The refresh token stays usable.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body, or no shop named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/switch")]
pub async fn switch(
    state: web::Data<AuthState>,
    body: Json<SwitchRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    let slug = body.tenant.trim();
    if slug.is_empty() {
        return Err(ApiError::invalid_field(
            "tenant",
            "is required: the slug of the shop to act in",
        ));
    }
    let Rotated { tx, token, user } = rotate(&state, body.refresh_token.trim()).await?;
    let session = match shop_session(&tx, user.id, slug).await {
        Ok(session) => session,
        Err(refused) => {
            // Undo the rotation: the presented token stays usable, the session goes on
            // in the shop it was in.
            tx.rollback().await?;
            return Err(refused);
        }
    };
    let pair = issue(&state, &tx, &session, Some(token.family_id)).await?;
    tx.commit().await?;
    Ok(web::Json(pair))
}

/// Ends the session of a refresh token: its whole family is revoked, and the access
/// tokens it issued stop working within a second, on every service.
#[utoipa::path(
    tag = "sessions",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out (also when the token was already unknown)"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/logout")]
pub async fn logout(
    state: web::Data<AuthState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let tx = state.context.db.begin().await?;
    if let Some(family) = store::family_of(&tx, &secrets::hash(body.refresh_token.trim())).await? {
        store::revoke_family(&tx, family).await?;
        state.end_sessions(&[family]).await?;
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
