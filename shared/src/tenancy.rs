//! Tenancy: every tenant-owned query runs in a transaction scoped to one tenant.
//!
//! Two locks, not one. The store layer takes a [`TenantTx`], so a tenant-owned query
//! cannot be written without a [`TenantId`]; and PostgreSQL row-level security, keyed
//! on the transaction-local setting `app.tenant_id` that [`TenantTx::begin`] sets,
//! hides every other tenant's rows even from a query that forgets its filter.

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
        tx.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('app.tenant_id', $1, true)",
            [tenant.to_string().into()],
        ))
        .await?;
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
    /// Scopes `tx` to `tenant` from here on.
    pub async fn enter(tx: &'a DatabaseTransaction, tenant: TenantId) -> Result<Self, DbErr> {
        tx.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('app.tenant_id', $1, true)",
            [tenant.to_string().into()],
        ))
        .await?;
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
