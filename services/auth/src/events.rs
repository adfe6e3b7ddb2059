//! What the auth service publishes and consumes.
//!
//! Publishes `user.registered`, `user.invited`, `invitation.revoked`,
//! `membership.added` and `membership.removed`. Consumes the
//! tenant service's shop lifecycle: `tenant.activated` (make the owner's account, make
//! them owner, invite them by email), `tenant.updated`, `tenant.suspended` and
//! `tenant.closed` (no new tokens, sessions revoked), `tenant.reinstated`.

use crate::domain::{Email, MemberRole};
use crate::store::{self, NewUser};
use caravan_shared::TenantId;
use caravan_shared::events::Envelope;
use caravan_shared::events::consumer::EventHandler;
use caravan_shared::events::outbox;
use caravan_shared::mail::{self, Email as Mail};
use caravan_shared::secrets;
use caravan_shared::tenancy::{TenantScope, TenantScoped};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

/// `user.registered`
pub const USER_REGISTERED: &str = "user.registered";
/// `user.invited`
pub const USER_INVITED: &str = "user.invited";
/// `membership.added`
pub const MEMBERSHIP_ADDED: &str = "membership.added";

/// `membership.removed`
pub const MEMBERSHIP_REMOVED: &str = "membership.removed";
/// `invitation.revoked`
pub const INVITATION_REVOKED: &str = "invitation.revoked";

/// How long an invitation stays valid.
pub const INVITATION_LIFETIME: chrono::Duration = chrono::Duration::days(7);

/// Records a new membership's event.
pub async fn membership_added<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    user_id: Uuid,
    role: MemberRole,
) -> Result<(), sea_orm::DbErr> {
    outbox::append(
        conn,
        MEMBERSHIP_ADDED,
        Some(tenant),
        &json!({ "user_id": user_id, "role": role.as_str() }),
    )
    .await?;
    Ok(())
}

/// Records a removed membership's event.
pub async fn membership_removed(
    scope: &impl TenantScoped,
    user_id: Uuid,
    role: MemberRole,
) -> Result<(), sea_orm::DbErr> {
    outbox::append(
        scope.conn(),
        MEMBERSHIP_REMOVED,
        Some(scope.tenant()),
        &json!({ "user_id": user_id, "role": role.as_str() }),
    )
    .await?;
    Ok(())
}

/// Records a revoked invitation's event.
pub async fn invitation_revoked(
    scope: &impl TenantScoped,
    invitation_id: Uuid,
    email: &str,
) -> Result<(), sea_orm::DbErr> {
    outbox::append(
        scope.conn(),
        INVITATION_REVOKED,
        Some(scope.tenant()),
        &json!({ "invitation_id": invitation_id, "email": email }),
    )
    .await?;
    Ok(())
}

/// Creates an invitation in `scope`, queues its email and records `user.invited`.
/// Answers the invitation's id and its expiry.
pub async fn invite(
    scope: &impl TenantScoped,
    public_url: &str,
    shop_name: &str,
    email: &Email,
    role: MemberRole,
    invited_by: Option<Uuid>,
) -> Result<(Uuid, chrono::DateTime<Utc>), sea_orm::DbErr> {
    let token = secrets::generate();
    let expires_at = Utc::now() + INVITATION_LIFETIME;
    let invitation = store::insert_invitation(
        scope,
        email,
        role,
        &secrets::hash(&token),
        invited_by,
        expires_at,
    )
    .await?;
    mail::enqueue(
        scope.conn(),
        &Mail {
            to: email.as_str().to_owned(),
            subject: format!("You are invited to {shop_name} on Caravan"),
            body: format!(
                "You have been invited to join {shop_name} on Caravan as {role}.\n\n\
                 Accept the invitation and set your password here (valid for 7 days):\n\
                 {public_url}/invitations/accept?token={token}\n",
                role = role.as_str()
            ),
        },
    )
    .await?;
    outbox::append(
        scope.conn(),
        USER_INVITED,
        Some(scope.tenant()),
        &json!({ "invitation_id": invitation.id, "email": email.as_str(), "role": role.as_str() }),
    )
    .await?;
    Ok((invitation.id, expires_at))
}

#[derive(Debug, Deserialize)]
struct ShopFacts {
    slug: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    owner_email: Option<String>,
    #[serde(default)]
    owner_name: Option<String>,
}

/// Handles the tenant service's events.
pub struct TenantEvents {
    /// Base URL in links sent by email.
    pub public_url: String,
}

#[async_trait::async_trait]
impl EventHandler for TenantEvents {
    async fn handle(&self, tx: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let Some(tenant_id) = event.tenant_id else {
            return Ok(());
        };
        // The shop's slug and status are kept by `TenantStatusHandler`, before this.
        let status = match event.event_type.as_str() {
            "tenant.activated" | "tenant.reinstated" => "active",
            "tenant.suspended" => "suspended",
            "tenant.closed" => "closed",
            _ => return Ok(()),
        };
        let facts: ShopFacts = serde_json::from_value(event.data.clone())?;
        if status != "active" {
            let scope = TenantScope::enter(tx, TenantId::from(tenant_id)).await?;
            let revoked = store::revoke_tenant_sessions(&scope).await?;
            tracing::info!(%tenant_id, status, revoked, "shop sessions revoked");
            return Ok(());
        }
        if event.event_type == "tenant.activated" {
            self.onboard_owner(tx, TenantId::from(tenant_id), &facts)
                .await?;
        }
        Ok(())
    }
}

impl TenantEvents {
    /// Makes the owner's account if needed, makes them owner, and invites them.
    async fn onboard_owner(
        &self,
        tx: &DatabaseTransaction,
        tenant: TenantId,
        facts: &ShopFacts,
    ) -> anyhow::Result<()> {
        let Some(raw_email) = facts.owner_email.as_deref() else {
            return Ok(());
        };
        let email = Email::parse(raw_email, "owner_email")
            .map_err(|error| anyhow::anyhow!("owner_email {}", error.message))?;
        let user = match store::user_by_email(tx, &email).await? {
            // An unverified account with this email may be someone else's squatting on
            // it: drop its password, so only the invitation (sent to the real inbox)
            // can set one.
            Some(user) if user.email_verified_at.is_none() => {
                store::clear_password(tx, user.id).await?;
                user
            }
            Some(user) => user,
            None => {
                let fallback = email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let name = facts.owner_name.clone().unwrap_or(fallback);
                store::insert_user(
                    tx,
                    NewUser {
                        email: &email,
                        display_name: &name,
                        password_hash: None,
                        verified: false,
                        platform_admin: false,
                    },
                )
                .await?
            }
        };
        let scope = TenantScope::enter(tx, tenant).await?;
        if store::add_membership(&scope, user.id, MemberRole::Owner).await? {
            membership_added(tx, tenant, user.id, MemberRole::Owner).await?;
        }
        let shop_name = facts.name.clone().unwrap_or_else(|| facts.slug.clone());
        invite(
            &scope,
            &self.public_url,
            &shop_name,
            &email,
            MemberRole::Owner,
            None,
        )
        .await?;
        Ok(())
    }
}
