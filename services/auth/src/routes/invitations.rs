//! Invitations: an owner invites people to their shop; the invitee accepts with the
//! emailed token, setting a password or proving an existing account's.

use super::sessions::{SessionFor, TokenPair, issue};
use super::{AuthState, owner_only};
use crate::domain::password::NewPassword;
use crate::domain::{DisplayName, Email, MemberRole};
use crate::events;
use crate::store::{self, NewUser};
use actix_web::{HttpResponse, delete, get, post, web};
use caravan_shared::ErrorCode;
use caravan_shared::domain::Page;
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::Staff;
use caravan_shared::secrets;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::tenant_status;
use caravan_shared::{ApiError, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, OneOfBuilder, Schema, Type};
use uuid::Uuid;

/// An invitation to the caller's shop.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "aziz@zhongning-goji.cn", "role": "staff"}))]
pub struct InvitationRequest {
    /// Who to invite.
    #[schema(value_type = caravan_shared::domain::Email)]
    pub email: String,
    /// `staff` (default) or `owner`.
    #[serde(default)]
    #[schema(schema_with = invited_role_schema)]
    pub role: Option<String>,
}

/// `role` as documented: `staff` or `owner`; absent or null means `staff`.
fn invited_role_schema() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([
                    MemberRole::Staff.as_str(),
                    MemberRole::Owner.as_str(),
                ])),
        )
        .description(Some("`staff` (default) or `owner`."))
        .into()
}

/// A sent invitation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b1e0-5a20-7b3c-8d4e-5f6a7b8c9d0e", "email": "aziz@zhongning-goji.example.cn",
    "role": "staff", "expires_at": "2026-12-05T08:00:00Z"
}))]
pub struct InvitationOut {
    /// Invitation id.
    pub id: Uuid,
    /// Invitee.
    #[schema(example = "aziz@zhongning-goji.cn")]
    pub email: String,
    /// Role on acceptance.
    #[schema(example = "staff")]
    pub role: String,
    /// Until when the emailed link works.
    pub expires_at: DateTime<Utc>,
}

/// Invites someone to the caller's shop by email (owners only).
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = [])),
    request_body = InvitationRequest,
    responses(
        (status = 201, description = "Invitation sent", body = InvitationOut),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's owner, or the plan's staff quota (max_staff) is used up", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email or role", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/invitations")]
pub async fn invite(
    state: web::Data<AuthState>,
    staff: Staff,
    body: Json<InvitationRequest>,
) -> Result<HttpResponse, ApiError> {
    owner_only(&staff, "only the shop's owner may invite people")?;
    let email =
        Email::parse(&body.email, "email").map_err(|e| ApiError::invalid_fields(vec![e]))?;
    let role = match body.role.as_deref().unwrap_or("staff") {
        "staff" => MemberRole::Staff,
        "owner" => MemberRole::Owner,
        _ => return Err(ApiError::invalid_field("role", "must be staff or owner")),
    };
    let db = &state.context.db;
    let inviter = staff.principal.subject.parse().ok();
    let tx = TenantTx::begin(db, staff.tenant).await?;
    let shop = tenant_status::shop(tx.conn(), staff.tenant).await?;
    let shop_name = shop.as_ref().map_or_else(
        || "a shop".to_owned(),
        |shop| shop.profile.display_name(&shop.slug).to_owned(),
    );
    // The plan's staff quota counts owners, staff and open invitations; under a
    // limit, the shop's invitations take turns, so each counts the one before it.
    let quota = shop.and_then(|shop| shop.quotas.max_staff);
    if quota.is_some() {
        caravan_shared::db::take_turn(tx.conn(), &format!("auth:adding_staff:{}", staff.tenant))
            .await?;
    }
    if let Some(max) = quota
        && store::staff_seats(&tx).await? >= i64::from(max)
    {
        return Err(ApiError::forbidden_because(
            ErrorCode::QuotaExceeded,
            format!(
                "the shop's plan allows {max} staff accounts (max_staff); change the plan to invite more"
            ),
        ));
    }
    let (id, expires_at) = events::invite(
        &tx,
        &state.context.settings.public_url,
        &shop_name,
        &email,
        role,
        inviter,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(InvitationOut {
        id,
        email: email.as_str().to_owned(),
        role: role.as_str().to_owned(),
        expires_at,
    }))
}

const OWNERS_ONLY: &str = "only the shop's owner manages invitations";

/// An invitation waiting for its invitee.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b1e0-5a20-7b3c-8d4e-5f6a7b8c9d0e", "email": "aziz@zhongning-goji.cn",
    "role": "staff", "invited_at": "2026-11-28T08:00:00Z", "expires_at": "2026-12-05T08:00:00Z"
}))]
pub struct PendingInvitation {
    /// Invitation id (for revoking).
    pub id: Uuid,
    /// Invitee.
    pub email: String,
    /// Role on acceptance: `owner` or `staff`.
    #[schema(example = "staff")]
    pub role: String,
    /// When it was sent.
    pub invited_at: DateTime<Utc>,
    /// Until when the emailed link works.
    pub expires_at: DateTime<Utc>,
}

/// The caller's shop's pending invitations (neither accepted, revoked nor expired),
/// oldest first, on one page (owners only).
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The pending invitations; `next_cursor` is always null", body = Page<PendingInvitation>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's owner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/auth/invitations")]
pub async fn list(
    state: web::Data<AuthState>,
    staff: Staff,
) -> Result<web::Json<Page<PendingInvitation>>, ApiError> {
    owner_only(&staff, OWNERS_ONLY)?;
    let tx = TenantTx::begin(&state.context.db, staff.tenant).await?;
    let pending = store::pending_invitations(&tx).await?;
    tx.commit().await?;
    Ok(web::Json(Page {
        items: pending
            .into_iter()
            .map(|invitation| PendingInvitation {
                id: invitation.id,
                email: invitation.email,
                role: invitation.role,
                invited_at: invitation.created_at.with_timezone(&Utc),
                expires_at: invitation.expires_at.with_timezone(&Utc),
            })
            .collect(),
        next_cursor: None,
    }))
}

/// Revokes a pending invitation of the caller's shop (owners only): its emailed link
/// stops working (accepting answers as for an unknown token), and it no longer holds
/// a staff seat.
#[utoipa::path(
    tag = "invitations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The invitation's `id`")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pending invitation in this shop (also when it was accepted, revoked or has expired)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/auth/invitations/{id}")]
pub async fn revoke(
    state: web::Data<AuthState>,
    staff: Staff,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    owner_only(&staff, OWNERS_ONLY)?;
    // Not an id, not this shop's, or no longer pending: one answer for all.
    let not_found = || ApiError::not_found("no such pending invitation in this shop");
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    let tx = TenantTx::begin(&state.context.db, staff.tenant).await?;
    let Some(revoked) = store::revoke_invitation(&tx, id).await? else {
        return Err(not_found());
    };
    events::invitation_revoked(&tx, revoked.id, &revoked.email).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accepting an invitation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q8V3bXk0c2F1e9mZ7wR4tY6uI1oP5aS3dF8gH2jK4lQ", "password": "apricots-of-turpan-2026", "display_name": "Aziz Rahman"}))]
pub struct AcceptRequest {
    /// The token from the emailed link.
    #[schema(min_length = 43, max_length = 43, pattern = r"^[A-Za-z0-9_-]{43}$")]
    pub token: String,
    /// A new password (10 to 256 characters, not a common password); or, when the
    /// email already has an account, that account's.
    #[schema(schema_with = accept_password_schema)]
    pub password: String,
    /// Name for a new account (1 to 100 characters; default: the email's local part).
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\u0000\u0009-\u000D \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000]*$"
    )]
    pub display_name: Option<String>,
}

/// Every account's password met the policy when it was set, so one schema serves
/// both cases.
fn accept_password_schema() -> Object {
    NewPassword::schema()
        .description(Some(
            "A new password (10 to 256 characters, not a common password); or, when the \
             email already has an account, that account's.",
        ))
        .build()
}

/// Accepts an invitation and answers tokens for the shop it is for.
#[utoipa::path(
    tag = "invitations",
    request_body = AcceptRequest,
    responses(
        (status = 200, description = "Member of the shop; logged in", body = TokenPair),
        (status = 403, description = "The shop is not active", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid, expired or used token; weak password; or the existing account's password does not match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/invitations/accept")]
pub async fn accept(
    state: web::Data<AuthState>,
    body: Json<AcceptRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    let body = body.into_inner();
    let db = &state.context.db;
    let invitation = store::invitation_by_token(db, &secrets::hash(body.token.trim()))
        .await?
        .ok_or_else(|| ApiError::invalid_field("token", "is invalid, expired or already used"))?;
    let tenant = TenantId::from(invitation.tenant_id);
    let role = MemberRole::from_stored(&invitation.role).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "stored invitation role {}",
            invitation.role
        ))
    })?;
    let active = tenant_status::current(db, TenantId::from(invitation.tenant_id))
        .await?
        .is_some_and(|shop| shop.is_active());
    if !active {
        return Err(ApiError::forbidden_because(
            ErrorCode::TenantSuspended,
            "this shop is not active",
        ));
    }
    let email =
        Email::parse(&invitation.email, "email").map_err(|e| ApiError::invalid_fields(vec![e]))?;
    let existing = store::user_by_email(db, &email).await?;

    // Work out the password before taking the invitation, so a refusal changes nothing.
    let new_hash = match existing
        .as_ref()
        .and_then(|user| user.password_hash.clone())
    {
        Some(stored) => {
            if !state.verify_password(&body.password, Some(stored)).await? {
                return Err(ApiError::invalid_field(
                    "password",
                    "an account with this email exists; enter its password to join",
                ));
            }
            None
        }
        None => {
            let password = NewPassword::parse(&body.password, "password")
                .map_err(|error| ApiError::invalid_fields(vec![error]))?;
            Some(state.hash_password(password.expose()).await?)
        }
    };
    let display_name = match body.display_name.as_deref() {
        Some(raw) => DisplayName::parse(raw).map_err(|e| ApiError::invalid_fields(vec![e]))?,
        None => DisplayName::parse(email.as_str().split('@').next().unwrap_or("member"))
            .map_err(|e| ApiError::invalid_fields(vec![e]))?,
    };

    let tx = TenantTx::begin(db, tenant).await?;
    if !store::accept_invitation(&tx, invitation.id).await? {
        return Err(ApiError::invalid_field(
            "token",
            "is invalid, expired or already used",
        ));
    }
    let user = match existing {
        Some(user) => {
            if let Some(hash) = &new_hash {
                store::set_password(tx.conn(), user.id, hash).await?;
            }
            user
        }
        None => store::insert_user(
            tx.conn(),
            NewUser {
                email: &email,
                display_name: display_name.as_str(),
                password_hash: new_hash,
                verified: true,
                platform_admin: false,
            },
        )
        .await
        .map_err(|error| {
            if store::is_duplicate(&error) {
                ApiError::conflict(
                    ErrorCode::EmailTaken,
                    "an account with this email was just created; accept again",
                )
            } else {
                error.into()
            }
        })?,
    };
    // The invitation link proved the inbox.
    store::mark_verified(tx.conn(), user.id).await?;
    if store::add_membership(&tx, user.id, role).await? {
        events::membership_added(tx.conn(), tenant, user.id, role).await?;
    }
    let member_role = store::membership(&tx, user.id).await?.unwrap_or(role);
    let pair = issue(
        &state,
        tx.conn(),
        &SessionFor::member(user.id, tenant, member_role),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(web::Json(pair))
}
