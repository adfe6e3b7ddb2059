//! Tenancy: every tenant-owned query runs in a transaction scoped to one tenant.
//!
//! Two locks, not one. The store layer takes a [`TenantTx`], so a tenant-owned query
//! cannot be written without a [`TenantId`]; and PostgreSQL row-level security, keyed
//! on the transaction-local setting `app.tenant_id` that [`TenantTx::begin`] sets,
//! hides every other tenant's rows even from a query that forgets its filter.
//!
//! Code that legitimately works across shops — the outbox relay and event feed,
//! workers picking due jobs from a queue of every shop, operators' work on
//! applications and new shops — opts in explicitly, with its reason at the call site:
//! [`PlatformTx::begin`], [`PlatformScope::enter`] or [`enter_platform_session`] set
//! `app.scope = 'platform'`, which the policies of the tables such work reaches admit
//! ([`RLS_EVERYWHERE_MIGRATION`]). A transaction is in one scope at a time: entering
//! a tenant clears platform scope, and entering platform scope clears the tenant.

use crate::db::SqlMigration;
use sea_orm::sqlx::{self, postgres::PgConnection};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// The id of a tenant (a cooperative's shop).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = String, format = Uuid)]
pub struct TenantId(Uuid);

impl TenantId {
    /// The id as a UUID.
    pub fn into_uuid(self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for TenantId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A database transaction in which row-level security shows one tenant's rows only.
pub struct TenantTx {
    tx: DatabaseTransaction,
    tenant: TenantId,
}

impl TenantTx {
    /// Opens a transaction scoped to `tenant`.
    pub async fn begin(db: &DatabaseConnection, tenant: TenantId) -> Result<Self, DbErr> {
        let tx = db.begin().await?;
        // `true`: the setting ends with the transaction, so a pooled connection
        // never carries one tenant's scope into another's request.
        enter_tenant(&tx, tenant).await?;
        Ok(Self { tx, tenant })
    }

    /// The tenant this transaction sees.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The connection to run queries on.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.rollback().await
    }
}

/// A connection whose row-level security shows one tenant: store functions for
/// tenant-owned rows take one, so they cannot be called without a tenant.
pub trait TenantScoped {
    /// The tenant in scope.
    fn tenant(&self) -> TenantId;
    /// The transaction to run queries on.
    fn conn(&self) -> &DatabaseTransaction;
}

impl TenantScoped for TenantTx {
    fn tenant(&self) -> TenantId {
        self.tenant
    }
    fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

/// A tenant scope entered inside a transaction someone else owns (an event handler's,
/// for instance); it lasts until that transaction ends.
pub struct TenantScope<'a> {
    tx: &'a DatabaseTransaction,
    tenant: TenantId,
}

impl<'a> TenantScope<'a> {
    /// Scopes `tx` to `tenant` from here on (ending platform scope, if it was in it).
    pub async fn enter(tx: &'a DatabaseTransaction, tenant: TenantId) -> Result<Self, DbErr> {
        enter_tenant(tx, tenant).await?;
        Ok(Self { tx, tenant })
    }
}

impl<'a> TenantScope<'a> {
    /// A savepoint (nested transaction) of a tenant transaction: the setting made by
    /// the enclosing transaction already applies to it.
    pub fn inherit(savepoint: &'a DatabaseTransaction, tenant: TenantId) -> Self {
        Self {
            tx: savepoint,
            tenant,
        }
    }
}

impl TenantScoped for TenantScope<'_> {
    fn tenant(&self) -> TenantId {
        self.tenant
    }
    fn conn(&self) -> &DatabaseTransaction {
        self.tx
    }
}

/// Scopes `tx` to `tenant` and out of platform scope, in one statement.
async fn enter_tenant(tx: &DatabaseTransaction, tenant: TenantId) -> Result<(), DbErr> {
    tx.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.tenant_id', $1, true), set_config('app.scope', '', true)",
        [tenant.to_string().into()],
    ))
    .await?;
    Ok(())
}

/// The statement that puts a transaction in platform scope and out of any tenant's.
const ENTER_PLATFORM: &str =
    "SELECT set_config('app.scope', 'platform', true), set_config('app.tenant_id', '', true)";

async fn enter_platform(tx: &DatabaseTransaction, why: &'static str) -> Result<(), DbErr> {
    tx.query_one_raw(Statement::from_string(DbBackend::Postgres, ENTER_PLATFORM))
        .await?;
    tracing::trace!(why, "platform scope");
    Ok(())
}

/// A database transaction that works across shops: the tables platform work reaches
/// show every shop's rows (and the platform's own, of no shop); tables only a shop's
/// own transaction may see still show nothing. For the few paths that need it — a
/// queue of every shop's jobs, the event feed, operators' work on applications — never
/// for a request acting for one shop.
pub struct PlatformTx {
    tx: DatabaseTransaction,
}

impl PlatformTx {
    /// Opens a transaction in platform scope; `why` says what crosses shops, and is
    /// logged (trace level).
    pub async fn begin(db: &DatabaseConnection, why: &'static str) -> Result<Self, DbErr> {
        let tx = db.begin().await?;
        enter_platform(&tx, why).await?;
        Ok(Self { tx })
    }

    /// The connection to run queries on.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.rollback().await
    }
}

/// Platform scope entered inside a transaction someone else owns (a worker's that
/// picks a due job of any shop, then enters that shop's [`TenantScope`]); it lasts
/// until the transaction ends or enters a tenant.
pub struct PlatformScope<'a> {
    tx: &'a DatabaseTransaction,
}

impl<'a> PlatformScope<'a> {
    /// Puts `tx` in platform scope (and out of any tenant's); `why` says what crosses
    /// shops.
    pub async fn enter(tx: &'a DatabaseTransaction, why: &'static str) -> Result<Self, DbErr> {
        enter_platform(tx, why).await?;
        Ok(Self { tx })
    }

    /// The transaction to run queries on.
    pub fn conn(&self) -> &DatabaseTransaction {
        self.tx
    }
}

/// Puts a connection of one's own (not a pooled one: the setting lasts as long as the
/// session) in platform scope, for a background task that works across shops on it
/// statement by statement — the outbox relay.
pub async fn enter_platform_session(
    conn: &mut PgConnection,
    why: &'static str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT set_config('app.scope', 'platform', false), set_config('app.tenant_id', '', false)",
    )
    .execute(&mut *conn)
    .await?;
    tracing::debug!(why, "session in platform scope");
    Ok(())
}

/// Row-level security on the shared tables with a `tenant_id` (`outbox`,
/// `tenant_status`), and the SQL of platform scope: `caravan_platform_scope()`,
/// `caravan_tenant_or_platform(tenant_id)` and `caravan_enable_platform_rls('table')`
/// for a service's own tables that platform work reaches. Every service lists it
/// after [`crate::events::EVENTS_MIGRATION`] and
/// [`crate::tenant_status::TENANT_STATUS_MIGRATION`].
pub const RLS_EVERYWHERE_MIGRATION: SqlMigration = SqlMigration {
    name: "m0000_caravan_rls_everywhere",
    sql: include_str!("../migrations/0004_rls_everywhere.sql"),
};

/// SQL that puts a tenant-owned table (one with a `tenant_id uuid` column) under
/// row-level security: enabled, forced on the owner too, one policy for reads and
/// writes. Migrations may equally call `SELECT caravan_enable_tenant_rls('table')`,
/// which the base migration defines and which runs the same statements.
pub fn tenant_rls_sql(table: &str) -> String {
    format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n\
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n\
         CREATE POLICY tenant_isolation ON {table}\n\
         USING (tenant_id = caravan_current_tenant())\n\
         WITH CHECK (tenant_id = caravan_current_tenant());"
    )
}
