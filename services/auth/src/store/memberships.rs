//! Who works in which shop, and as what.

use super::entities::memberships;
use super::*;
use crate::domain::MemberRole;
use caravan_shared::tenancy::{TenantScope, TenantScoped};
use caravan_shared::{TenantId, tenant_status};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

/// A user's shops with their role there.
pub struct MembershipView {
    /// The shop.
    pub tenant_id: Uuid,
    /// Its slug (empty until the shop is known here).
    pub tenant_slug: String,
    /// Its status (`active`, `suspended`, …).
    pub tenant_status: String,
    /// The user's role.
    pub role: MemberRole,
}

/// Every shop a user belongs to.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn memberships_of(
    db: &DatabaseConnection,
    user_id: Uuid,
) -> Result<Vec<MembershipView>, DbErr> {
    let tx = lookup_tx(db, Lookup::User(user_id)).await?;
    let rows = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user_id))
        .order_by_asc(memberships::Column::CreatedAt)
        .all(&tx)
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        // Each shop's replica row is read in that shop's scope.
        let scope = TenantScope::enter(&tx, TenantId::from(row.tenant_id)).await?;
        let shop = tenant_status::shop(scope.conn(), scope.tenant()).await?;
        if let Some(role) = MemberRole::from_stored(&row.role) {
            views.push(MembershipView {
                tenant_id: row.tenant_id,
                tenant_slug: shop.as_ref().map(|s| s.slug.clone()).unwrap_or_default(),
                tenant_status: shop
                    .map(|s| s.status)
                    .unwrap_or_else(|| "unknown".to_owned()),
                role,
            });
        }
    }
    tx.commit().await?;
    Ok(views)
}

/// A user's role in the transaction's shop.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), user_id = %user_id))]
pub async fn membership(
    tx: &impl TenantScoped,
    user_id: Uuid,
) -> Result<Option<MemberRole>, DbErr> {
    let row = memberships::Entity::find()
        .filter(memberships::Column::TenantId.eq(tx.tenant().into_uuid()))
        .filter(memberships::Column::UserId.eq(user_id))
        .one(tx.conn())
        .await?;
    Ok(row.and_then(|row| MemberRole::from_stored(&row.role)))
}

/// A user's role in the transaction's shop, holding their membership (`FOR SHARE`)
/// until the transaction ends: a removal waits for the session issued on it, and
/// then ends that session too ([`remove_staff_member`], [`revoke_member_sessions`]).
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), user_id = %user_id))]
pub async fn membership_held(
    tx: &impl TenantScoped,
    user_id: Uuid,
) -> Result<Option<MemberRole>, DbErr> {
    let row = memberships::Entity::find()
        .filter(memberships::Column::TenantId.eq(tx.tenant().into_uuid()))
        .filter(memberships::Column::UserId.eq(user_id))
        .lock_shared()
        .one(tx.conn())
        .await?;
    Ok(row.and_then(|row| MemberRole::from_stored(&row.role)))
}

/// Someone who works in a shop: an owner or a staff member.
pub struct StaffMember {
    /// Their account.
    pub user_id: Uuid,
    /// Its email.
    pub email: String,
    /// Its shown name.
    pub display_name: String,
    /// Owner or staff.
    pub role: MemberRole,
    /// When they joined the shop.
    pub joined_at: DateTime<Utc>,
}

/// The owners and staff of the transaction's shop, in the order they joined.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant()))]
pub async fn staff_members(tx: &impl TenantScoped) -> Result<Vec<StaffMember>, DbErr> {
    let rows = tx
        .conn()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT m.user_id, u.email, u.display_name, m.role, m.created_at \
             FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.tenant_id = $1 AND m.role IN ('owner', 'staff') \
             ORDER BY m.created_at, m.user_id",
            [tx.tenant().into_uuid().into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let role: String = row.try_get("", "role")?;
            Ok(StaffMember {
                user_id: row.try_get("", "user_id")?,
                email: row.try_get("", "email")?,
                display_name: row.try_get("", "display_name")?,
                role: MemberRole::from_stored(&role)
                    .ok_or_else(|| DbErr::Custom(format!("stored membership role {role}")))?,
                joined_at: row.try_get("", "created_at")?,
            })
        })
        .collect()
}

/// What removing someone from a shop's staff came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Removed; they had this role.
    Removed(MemberRole),
    /// Not an owner or staff member of this shop: nothing changed.
    NotStaff,
    /// They are the shop's only owner: nothing changed.
    LastOwner,
    /// The one removing is no longer an owner of the shop: nothing changed.
    NotByAnOwner,
}

/// Removes `member` from the transaction's shop's owners and staff, on behalf of
/// `by`. A shop always keeps an owner: the owners' memberships are locked first, in
/// one order, so of two owners removing each other at once the second waits, then
/// finds the other the last owner and is refused.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), member = %member, by = %by))]
pub async fn remove_staff_member(
    tx: &impl TenantScoped,
    member: Uuid,
    by: Uuid,
) -> Result<Removal, DbErr> {
    let tenant = tx.tenant().into_uuid();
    let owners: Vec<Uuid> = tx
        .conn()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'owner' \
             ORDER BY user_id FOR UPDATE",
            [tenant.into()],
        ))
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "user_id"))
        .collect::<Result<_, _>>()?;
    let role = memberships::Entity::find()
        .filter(memberships::Column::TenantId.eq(tenant))
        .filter(memberships::Column::UserId.eq(member))
        .filter(memberships::Column::Role.is_in(["owner", "staff"]))
        .lock_exclusive()
        .one(tx.conn())
        .await?
        .and_then(|row| MemberRole::from_stored(&row.role));
    let Some(role) = role else {
        return Ok(Removal::NotStaff);
    };
    if role == MemberRole::Owner && owners.iter().all(|owner| *owner == member) {
        return Ok(Removal::LastOwner);
    }
    if !owners.contains(&by) {
        return Ok(Removal::NotByAnOwner);
    }
    memberships::Entity::delete_many()
        .filter(memberships::Column::TenantId.eq(tenant))
        .filter(memberships::Column::UserId.eq(member))
        .exec(tx.conn())
        .await?;
    Ok(Removal::Removed(role))
}

/// Adds a user to the transaction's shop; answers false when they already were.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), user_id = %user_id))]
pub async fn add_membership(
    tx: &impl TenantScoped,
    user_id: Uuid,
    role: MemberRole,
) -> Result<bool, DbErr> {
    let result = tx
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, user_id) DO NOTHING",
            [
                tx.tenant().into_uuid().into(),
                user_id.into(),
                role.as_str().into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// People in the transaction's shop who count as staff accounts: owners and staff,
/// plus open invitations to join as either.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant()))]
pub async fn staff_seats(tx: &impl TenantScoped) -> Result<i64, DbErr> {
    let row = tx
        .conn()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT (SELECT count(*) FROM memberships WHERE tenant_id = $1 AND role IN ('owner', 'staff'))                   + (SELECT count(*) FROM invitations WHERE tenant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now())                   AS seats",
            [tx.tenant().into_uuid().into()],
        ))
        .await?;
    Ok(row
        .map(|row| row.try_get::<i64>("", "seats"))
        .transpose()?
        .unwrap_or(0))
}
