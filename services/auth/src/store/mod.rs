//! Queries of the auth database. Tenant-owned rows (memberships, invitations, app
//! clients, refresh tokens) are reached through a [`TenantTx`], or through a lookup
//! transaction that presents the user, token or client the row policy admits.

pub mod entities;

use crate::domain::{Email, MemberRole};
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use entities::{
    app_clients, email_tokens, invitations, memberships, refresh_tokens, tenants, users,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr, Statement,
    TransactionTrait,
};
use uuid::Uuid;

/// What a lookup transaction presents to the row policies.
pub enum Lookup<'a> {
    /// Acting for a user: their memberships in every shop.
    User(Uuid),
    /// Holding an invitation token (its hash).
    TokenHash(&'a str),
    /// Naming an app client.
    ClientId(&'a str),
}

/// Opens a transaction that sees the rows `lookup` admits, and no others.
pub async fn lookup_tx(
    db: &DatabaseConnection,
    lookup: Lookup<'_>,
) -> Result<DatabaseTransaction, DbErr> {
    let (setting, value) = match lookup {
        Lookup::User(id) => ("app.user_id", id.to_string()),
        Lookup::TokenHash(hash) => ("app.token_hash", hash.to_owned()),
        Lookup::ClientId(id) => ("app.client_id", id.to_owned()),
    };
    let tx = db.begin().await?;
    tx.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config($1, $2, true)",
        [setting.into(), value.into()],
    ))
    .await?;
    Ok(tx)
}

/// Lets `tx`, a transaction, act for `user_id` from here on (`app.user_id`): the row
/// policies then show the user's memberships in every shop and their refresh tokens.
pub async fn act_for_user<C: ConnectionTrait>(tx: &C, user_id: Uuid) -> Result<(), DbErr> {
    tx.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.user_id', $1, true)",
        [user_id.to_string().into()],
    ))
    .await?;
    Ok(())
}

/// Presents a refresh token to the row policy (`app.refresh_token_hash`): `tx`, a
/// transaction, then sees that one token, whoever's it is.
async fn present_token<C: ConnectionTrait>(tx: &C, token_hash: &str) -> Result<(), DbErr> {
    tx.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.refresh_token_hash', $1, true)",
        [token_hash.into()],
    ))
    .await?;
    Ok(())
}

/// Whether an error is a unique-constraint violation (a duplicate).
pub fn is_duplicate(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

// ---- users ---------------------------------------------------------------------------

/// The user with this email.
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
pub async fn make_platform_admin<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::PlatformAdmin, Expr::value(true))
        .filter(users::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

// ---- shops (replica) -----------------------------------------------------------------

/// A shop by slug.
pub async fn tenant_by_slug<C: ConnectionTrait>(
    conn: &C,
    slug: &str,
) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(conn)
        .await
}

/// A shop by id.
pub async fn tenant<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find_by_id(id).one(conn).await
}

/// Records a shop's slug and status.
pub async fn upsert_tenant<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    slug: &str,
    status: &str,
) -> Result<(), DbErr> {
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO tenants (id, slug, status) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, status = excluded.status, updated_at = now()",
        [id.into(), slug.into(), status.into()],
    ))
    .await?;
    Ok(())
}

/// Changes a shop's status.
pub async fn set_tenant_status<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    status: &str,
) -> Result<(), DbErr> {
    tenants::Entity::update_many()
        .col_expr(tenants::Column::Status, Expr::value(status))
        .col_expr(tenants::Column::UpdatedAt, Expr::current_timestamp())
        .filter(tenants::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

// ---- memberships ---------------------------------------------------------------------

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
        let shop = tenant(&tx, row.tenant_id).await?;
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

// ---- refresh tokens ------------------------------------------------------------------

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
pub async fn revoke_family<C: ConnectionTrait>(conn: &C, family_id: Uuid) -> Result<u64, DbErr> {
    revoke_where(
        conn,
        sea_orm::Condition::all().add(refresh_tokens::Column::FamilyId.eq(family_id)),
    )
    .await
}

/// Revokes every refresh token of a user (after a password change or reset), in
/// every shop. `conn`, a transaction, acts for the user.
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

// ---- email tokens --------------------------------------------------------------------

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

// ---- invitations ---------------------------------------------------------------------

/// Stores an invitation to the transaction's shop.
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

// ---- app clients ---------------------------------------------------------------------

/// Stores an app client of the transaction's shop.
pub async fn insert_client(
    tx: &impl TenantScoped,
    client_id: &str,
    name: &str,
    secret_hash: &str,
    scopes: &[String],
    created_by: Option<Uuid>,
) -> Result<app_clients::Model, DbErr> {
    app_clients::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tx.tenant().into_uuid()),
        client_id: Set(client_id.to_owned()),
        name: Set(name.to_owned()),
        secret_hash: Set(secret_hash.to_owned()),
        scopes: Set(scopes.to_vec()),
        created_by: Set(created_by),
        ..Default::default()
    }
    .insert(tx.conn())
    .await
}

/// The shop's app clients, newest first.
pub async fn clients(tx: &impl TenantScoped) -> Result<Vec<app_clients::Model>, DbErr> {
    app_clients::Entity::find()
        .filter(app_clients::Column::TenantId.eq(tx.tenant().into_uuid()))
        .order_by_desc(app_clients::Column::CreatedAt)
        .all(tx.conn())
        .await
}

/// An app client as its owner names it: by `id`, or by its public `client_id`.
#[derive(Debug, Clone, Copy)]
pub enum ClientRef<'a> {
    Id(Uuid),
    ClientId(&'a str),
}

/// Revokes one of the shop's clients: answers its `id`, or none when there is no such
/// live client.
pub async fn revoke_client(
    tx: &impl TenantScoped,
    client: ClientRef<'_>,
) -> Result<Option<Uuid>, DbErr> {
    let which = match client {
        ClientRef::Id(id) => app_clients::Column::Id.eq(id),
        ClientRef::ClientId(client_id) => app_clients::Column::ClientId.eq(client_id),
    };
    let revoked = app_clients::Entity::update_many()
        .col_expr(app_clients::Column::RevokedAt, Expr::current_timestamp())
        .filter(which)
        .filter(app_clients::Column::TenantId.eq(tx.tenant().into_uuid()))
        .filter(app_clients::Column::RevokedAt.is_null())
        .exec_with_returning(tx.conn())
        .await?;
    Ok(revoked.first().map(|client| client.id))
}

/// A client by its public id (for the token endpoint).
pub async fn client_by_client_id(
    db: &DatabaseConnection,
    client_id: &str,
) -> Result<Option<app_clients::Model>, DbErr> {
    let tx = lookup_tx(db, Lookup::ClientId(client_id)).await?;
    let client = app_clients::Entity::find()
        .filter(app_clients::Column::ClientId.eq(client_id))
        .one(&tx)
        .await?;
    tx.commit().await?;
    Ok(client)
}
