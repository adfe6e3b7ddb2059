//! A shop's staff as its owner manages them: who works there, and removing someone.

use super::{AuthState, account_of, owner_only};
use crate::events;
use crate::store::{self, Removal, StaffMember};
use actix_web::{HttpResponse, delete, get, web};
use caravan_shared::ApiError;
use caravan_shared::ErrorCode;
use caravan_shared::domain::Page;
use caravan_shared::error::Problem;
use caravan_shared::identity::Staff;
use caravan_shared::tenancy::TenantTx;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

const OWNERS_ONLY: &str = "only the shop's owner manages its staff";

/// Someone who works in the shop.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "account_id": "0193b1e0-5a20-7b3c-8d4e-5f6a7b8c9d0e", "email": "aziz@zhongning-goji.cn",
    "display_name": "Aziz Rahman", "role": "staff", "joined_at": "2026-10-03T03:55:00Z"
}))]
pub struct StaffView {
    /// Their account (for removing them).
    pub account_id: Uuid,
    /// Their email.
    pub email: String,
    /// Their name.
    pub display_name: String,
    /// `owner` or `staff`.
    #[schema(example = "staff")]
    pub role: String,
    /// When they joined the shop.
    pub joined_at: DateTime<Utc>,
}

impl From<StaffMember> for StaffView {
    fn from(member: StaffMember) -> Self {
        Self {
            account_id: member.user_id,
            email: member.email,
            display_name: member.display_name,
            role: member.role.as_str().to_owned(),
            joined_at: member.joined_at,
        }
    }
}

/// The owners and staff of the caller's shop, in the order they joined, on one page
/// (owners only).
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Everyone who works in the shop; `next_cursor` is always null", body = Page<StaffView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's owner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/auth/staff")]
pub async fn list(
    state: web::Data<AuthState>,
    staff: Staff,
) -> Result<web::Json<Page<StaffView>>, ApiError> {
    owner_only(&staff, OWNERS_ONLY)?;
    let tx = TenantTx::begin(&state.context.db, staff.tenant).await?;
    let members = store::staff_members(&tx).await?;
    tx.commit().await?;
    Ok(web::Json(Page {
        items: members.into_iter().map(StaffView::from).collect(),
        next_cursor: None,
    }))
}

/// Removes someone from the caller's shop (owners only): their membership goes, and
/// their sessions in this shop end at once (refresh tokens revoked, access tokens
/// refused within a second); their sessions in other shops go on. An owner cannot
/// remove themself, and a shop always keeps an owner.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The member's `account_id`")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such owner or staff member in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`cannot_remove_self`: the caller named themself; `last_owner`: they are the shop's only owner", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Their sessions could not be ended right now; nothing changed, try again", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/auth/staff/{account_id}")]
pub async fn remove(
    state: web::Data<AuthState>,
    staff: Staff,
    account_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    owner_only(&staff, OWNERS_ONLY)?;
    let caller = account_of(&staff)?;
    // Not an id, not in this shop, or in another shop: one answer for all three.
    let not_found = || ApiError::not_found("no such owner or staff member in this shop");
    let member = Uuid::parse_str(account_id.trim()).map_err(|_| not_found())?;
    if member == caller {
        return Err(ApiError::conflict(
            ErrorCode::CannotRemoveSelf,
            "you cannot remove yourself from the shop; another owner must do it",
        ));
    }
    let tx = TenantTx::begin(&state.context.db, staff.tenant).await?;
    let role = match store::remove_staff_member(&tx, member, caller).await? {
        Removal::Removed(role) => role,
        Removal::NotStaff => return Err(not_found()),
        Removal::LastOwner => {
            return Err(ApiError::conflict(
                ErrorCode::LastOwner,
                "this is the shop's only owner; a shop always keeps an owner",
            ));
        }
        Removal::NotByAnOwner => {
            return Err(ApiError::forbidden(
                "you are no longer an owner of this shop",
            ));
        }
    };
    let lookback = chrono::Duration::seconds(
        i64::try_from(caravan_shared::identity::sessions::ENDED_SESSION_TTL_SECS).unwrap_or(86_400),
    );
    let sessions = store::revoke_member_sessions(&tx, member, Utc::now() - lookback).await?;
    events::membership_removed(&tx, member, role).await?;
    // Before the commit: if Redis cannot record it, nothing changes (503).
    state.end_sessions(&sessions).await?;
    tx.commit().await?;
    tracing::info!(%member, role = role.as_str(), sessions = sessions.len(), "staff member removed");
    Ok(HttpResponse::NoContent().finish())
}
