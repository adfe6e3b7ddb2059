//! Databases of a test's own, cloned from a migrated template, and the checks of
//! row-level security on them.

use super::admin_url;
use crate::db::{self, PgUrl, ServiceMigrations};
use anyhow::Context;

/// A database of its own for one test, dropped when the value is.
pub struct TestDatabase {
    name: String,
    /// Connects as the service's runtime role (row-level security applies).
    pub runtime_url: String,
    /// Connects as the owner.
    pub owner_url: String,
}

impl TestDatabase {
    /// Clones a fresh database for `service` from a template migrated with `S`; the
    /// template is built once per migration fingerprint, under a lock, by whichever
    /// test process gets there first.
    /// `service` names the database and its runtime role (`caravan_<service>`).
    pub async fn create<S: ServiceMigrations>(service: &str) -> anyhow::Result<Self> {
        let admin = PgUrl::parse(&admin_url())?;
        let role = format!("caravan_{service}");
        let template = format!("caravan_{service}_tpl_{}", db::fingerprint(S::LIST));
        let maintenance = db::connect(admin.as_str(), 1).await?;
        db::ensure_runtime_role(&maintenance, &role, None).await?;
        lock(&maintenance, "caravan_test_template").await?;
        let built = build_template::<S>(&maintenance, &admin, &template, &role).await;
        unlock(&maintenance, "caravan_test_template").await?;
        built?;

        let name = format!("caravan_{service}_test_{}", uuid::Uuid::now_v7().simple());
        use sea_orm::ConnectionTrait;
        maintenance
            .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .context("cloning the test template")?;
        maintenance
            .execute_unprepared(&format!("GRANT CONNECT ON DATABASE {name} TO {role}"))
            .await?;
        maintenance.close().await?;
        let runtime = PgUrl::parse(&admin.with_database(&name))?;
        let runtime_url =
            runtime
                .as_str()
                .replacen(&format!("//{}@", admin.user()), &format!("//{role}@"), 1);
        Ok(Self {
            owner_url: admin.with_database(&name),
            runtime_url,
            name,
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

async fn lock(conn: &sea_orm::DatabaseConnection, name: &str) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    conn.execute_unprepared(&format!("SELECT pg_advisory_lock(hashtext('{name}'))"))
        .await?;
    Ok(())
}

async fn unlock(conn: &sea_orm::DatabaseConnection, name: &str) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    conn.execute_unprepared(&format!("SELECT pg_advisory_unlock(hashtext('{name}'))"))
        .await?;
    Ok(())
}

async fn build_template<S: ServiceMigrations>(
    maintenance: &sea_orm::DatabaseConnection,
    admin: &PgUrl,
    template: &str,
    role: &str,
) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    let exists = maintenance
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT 1 AS found FROM pg_database WHERE datname = $1",
            [template.into()],
        ))
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    // Built under another name and renamed, so a crash mid-way leaves no half
    // template behind under the real name.
    let building = format!("{template}_building");
    maintenance
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
        .await?;
    maintenance
        .execute_unprepared(&format!("CREATE DATABASE {building}"))
        .await?;
    let owner = db::connect(&admin.with_database(&building), 1).await?;
    db::migrate::<S>(&owner, role, &building).await?;
    owner.close().await?;
    maintenance
        .execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {template}"))
        .await?;
    Ok(())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        drop_databases(vec![self.name.clone()]);
    }
}

/// Drops databases, connections and all, from synchronous code (a `Drop`): a thread
/// with its own runtime does it, since `drop` cannot await.
pub fn drop_databases(names: Vec<String>) {
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async move {
            use sea_orm::ConnectionTrait;
            let conn = db::connect(&admin_url(), 1).await.ok()?;
            for name in names {
                conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()?;
            }
            conn.close().await.ok()
        })
    });
    let _ = dropped.join();
}

/// How one table with a `tenant_id` column stands under row-level security.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantTableSecurity {
    /// The table.
    pub table: String,
    /// `ENABLE ROW LEVEL SECURITY`.
    pub enabled: bool,
    /// `FORCE ROW LEVEL SECURITY` (binds the owner too).
    pub forced: bool,
    /// Its policies, by name.
    pub policies: Vec<String>,
}

/// Every table of the public schema with a `tenant_id` column, and how it stands
/// under row-level security, read from `pg_catalog` as the owner.
pub async fn tenant_tables(database: &TestDatabase) -> anyhow::Result<Vec<TenantTableSecurity>> {
    use sea_orm::ConnectionTrait;
    let owner = db::connect(&database.owner_url, 1).await?;
    let rows = owner
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT c.relname::text AS name, c.relrowsecurity AS enabled, \
                    c.relforcerowsecurity AS forced, \
                    coalesce((SELECT array_agg(p.polname::text ORDER BY p.polname) \
                              FROM pg_policy p WHERE p.polrelid = c.oid), '{}') AS policies \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
               AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                           AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
             ORDER BY c.relname",
        ))
        .await?;
    owner.close().await?;
    rows.iter()
        .map(|row| {
            Ok(TenantTableSecurity {
                table: row.try_get("", "name")?,
                enabled: row.try_get("", "enabled")?,
                forced: row.try_get("", "forced")?,
                policies: row.try_get("", "policies")?,
            })
        })
        .collect()
}

/// The number a query answers as its column `n` (`SELECT count(*) AS n …`), on any
/// connection or transaction: how tests see what row-level security lets through.
pub async fn count(conn: &impl sea_orm::ConnectionTrait, sql: &str) -> i64 {
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            sql,
        ))
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get("", "n")
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Fails unless every table of the public schema with a `tenant_id` column has
/// row-level security enabled and forced, with at least one policy; answers the
/// tables, so a caller can check the ones it knows are among them.
pub async fn assert_every_tenant_table_forces_rls(database: &TestDatabase) -> Vec<String> {
    let tables = tenant_tables(database)
        .await
        .unwrap_or_else(|error| panic!("reading the catalog: {error:#}"));
    let unprotected: Vec<String> = tables
        .iter()
        .filter(|table| !table.enabled || !table.forced || table.policies.is_empty())
        .map(|table| {
            format!(
                "{} (enabled: {}, forced: {}, policies: {:?})",
                table.table, table.enabled, table.forced, table.policies
            )
        })
        .collect();
    assert!(
        unprotected.is_empty(),
        "tables with a tenant_id but without forced row-level security and a policy: {}",
        unprotected.join("; ")
    );
    tables.into_iter().map(|table| table.table).collect()
}

/// A service's migrations but its last `N`: a database as it was before them, for
/// tests of what those migrations do to existing rows.
pub struct AllBut<S, const N: usize>(std::marker::PhantomData<S>);

impl<S: ServiceMigrations, const N: usize> ServiceMigrations for AllBut<S, N> {
    const LIST: &'static [db::SqlMigration] = S::LIST.split_at(S::LIST.len() - N).0;
}

/// Migrations of a service that only produces events.
pub struct ProducerMigrations;

impl ServiceMigrations for ProducerMigrations {
    const LIST: &'static [db::SqlMigration] = &[
        db::BASE_MIGRATION,
        crate::events::EVENTS_MIGRATION,
        crate::tenant_status::TENANT_STATUS_MIGRATION,
        crate::tenancy::RLS_EVERYWHERE_MIGRATION,
        crate::tenant_status::SHOP_PROFILE_MIGRATION,
        crate::tenant_status::SHOP_CHANGES_MIGRATION,
    ];
}
