//! Databases: provisioning at start (database and runtime role created when missing),
//! migrations written as SQL files, and the runtime pool.

use anyhow::{Context, bail};
use reqwest::Url;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqlErr,
    Statement,
};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};
use sha2::{Digest, Sha256};
use std::marker::PhantomData;
use std::time::Duration;

/// One migration: a name (applied once, in list order) and its SQL.
#[derive(Debug, Clone, Copy)]
pub struct SqlMigration {
    /// Unique, ordered name, e.g. `m0001_products`.
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// The base migration every service lists first: RLS helpers and idempotency keys.
pub const BASE_MIGRATION: SqlMigration = SqlMigration {
    name: "m0000_caravan_base",
    sql: include_str!("../migrations/0000_base.sql"),
};

/// A service's list of migrations.
pub trait ServiceMigrations: Send + Sync + 'static {
    /// Every migration, oldest first.
    const LIST: &'static [SqlMigration];
}

/// A sea-orm migrator over a service's SQL migrations.
pub struct Migrator<S>(PhantomData<S>);

struct Step(&'static SqlMigration);

impl MigrationName for Step {
    fn name(&self) -> &str {
        self.0.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Step {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(self.0.sql)
            .await?;
        Ok(())
    }
}

impl<S: ServiceMigrations> MigratorTrait for Migrator<S> {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        S::LIST
            .iter()
            .map(|migration| Box::new(Step(migration)) as Box<dyn MigrationTrait>)
            .collect()
    }
}

/// A short hash of every migration's name and SQL: equal schemas, equal fingerprints.
pub fn fingerprint(migrations: &[SqlMigration]) -> String {
    let mut hash = Sha256::new();
    for migration in migrations {
        hash.update(migration.name.as_bytes());
        hash.update([0]);
        hash.update(migration.sql.as_bytes());
        hash.update([0]);
    }
    crate::secrets::hex(&hash.finalize()[..6])
}

/// The parts of a PostgreSQL URL provisioning needs.
#[derive(Debug, Clone)]
pub struct PgUrl {
    url: Url,
}

impl PgUrl {
    /// Parses a `postgres://` URL.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let url = Url::parse(raw).context("not a URL")?;
        let this = Self { url };
        check_identifier(this.database())?;
        check_identifier(this.user())?;
        Ok(this)
    }

    /// The database name.
    pub fn database(&self) -> &str {
        self.url.path().trim_start_matches('/')
    }

    /// The user name.
    pub fn user(&self) -> &str {
        self.url.username()
    }

    /// The password, if any.
    pub fn password(&self) -> Option<String> {
        self.url.password().map(percent_decode)
    }

    /// The same server and user, another database.
    pub fn with_database(&self, database: &str) -> String {
        let mut url = self.url.clone();
        url.set_path(&format!("/{database}"));
        url.to_string()
    }

    /// The URL as a string.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let decoded = (bytes[index] == b'%')
            .then(|| raw.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Database and role names are interpolated into DDL, so only plain ones are taken.
fn check_identifier(name: &str) -> anyhow::Result<()> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if plain {
        Ok(())
    } else {
        bail!("{name:?} must be lowercase letters, digits and underscores")
    }
}

/// How long a request waits for a free connection by default
/// (`DATABASE_ACQUIRE_TIMEOUT_MS`). Shorter than any caller's deadline (README,
/// "Slow is not down"): a service out of connections answers 503 `busy` with
/// `Retry-After` while its caller still listens, rather than queueing the request
/// past everyone's patience.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A runtime pool's size and patience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// Connections at most (`DATABASE_MAX_CONNECTIONS`).
    pub max_connections: u32,
    /// How long a request waits for one (`DATABASE_ACQUIRE_TIMEOUT_MS`).
    pub acquire_timeout: Duration,
}

impl From<u32> for Pool {
    /// `max_connections` connections, waited for [`DEFAULT_ACQUIRE_TIMEOUT`].
    fn from(max_connections: u32) -> Self {
        Self {
            max_connections,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

/// How long work that no client waits on (provisioning, migrations, background
/// jobs, tools and tests) waits for a connection of a pool from [`connect`].
pub const BACKGROUND_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects a pool of `max_connections` for work no client waits on: it waits
/// [`BACKGROUND_ACQUIRE_TIMEOUT`] for a connection. Pools that serve requests come
/// from [`connect_pool`] (or [`provision`]) with a short wait.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    connect_pool(
        url,
        Pool {
            max_connections,
            acquire_timeout: BACKGROUND_ACQUIRE_TIMEOUT,
        },
    )
    .await
}

/// Waits until no other transaction holds the turn `name`, then holds it until this
/// transaction ends: work that counts before it writes (a plan's quota) takes turns
/// on it, so each counts what the one before it wrote.
pub async fn take_turn<C: ConnectionTrait>(conn: &C, name: &str) -> Result<(), DbErr> {
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        [name.into()],
    ))
    .await?;
    Ok(())
}

/// How long a pooled connection stays open unused: a platform at rest holds only
/// its standing connections.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Connections PostgreSQL can still accept from roles that are not superusers.
pub async fn free_connections<C: ConnectionTrait>(conn: &C) -> Result<Capacity, DbErr> {
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('max_connections')::int AS max, \
                    current_setting('superuser_reserved_connections')::int AS reserved, \
                    (SELECT count(*)::int FROM pg_stat_activity \
                     WHERE backend_type = 'client backend') AS used",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no answer about connections".into()))?;
    Ok(Capacity {
        max: row.try_get("", "max")?,
        reserved: row.try_get("", "reserved")?,
        used: row.try_get("", "used")?,
    })
}

/// What PostgreSQL can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// `max_connections`.
    pub max: i32,
    /// `superuser_reserved_connections`.
    pub reserved: i32,
    /// Connections open now.
    pub used: i32,
}

impl Capacity {
    /// Connections still free to roles that are not superusers.
    pub fn free(&self) -> i32 {
        self.max - self.reserved - self.used
    }

    /// Fails, in one line, unless `needed` more connections fit; `who` says what
    /// would open them.
    pub fn ensure(&self, needed: u32, who: &str) -> anyhow::Result<()> {
        if i64::from(self.free()) < i64::from(needed) {
            anyhow::bail!(
                "PostgreSQL has {} connections free (max_connections {}, {} reserved for superusers, {} open) and {who} may open {needed}: stop another platform or test run, lower DATABASE_MAX_CONNECTIONS, or raise max_connections",
                self.free().max(0),
                self.max,
                self.reserved,
                self.used
            );
        }
        Ok(())
    }
}

/// Connects a pool. A request that finds no connection free within
/// `pool.acquire_timeout` fails with `DbErr::ConnectionAcquire(Timeout)`, which
/// [`crate::ApiError`] answers as 503 `busy`.
pub async fn connect_pool(url: &str, pool: Pool) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(plain_on_loopback(url));
    // sea-orm hands both timeouts to sqlx's one acquire timeout (the later wins):
    // opening a new connection counts against the same wait.
    options
        .max_connections(pool.max_connections)
        .min_connections(0)
        .idle_timeout(IDLE_TIMEOUT)
        .connect_timeout(pool.acquire_timeout)
        .acquire_timeout(pool.acquire_timeout)
        .sqlx_logging(false);
    Database::connect(options).await
}

/// Reads a text column into a typed value with `parse` (a status, a currency): a
/// row holding a value the code does not know fails to read — the request answers
/// 500 and the cause is logged — rather than passing for some other value. `what`
/// names the type in that cause.
pub fn decode_text<T, I: sea_orm::ColIdx>(
    res: &sea_orm::QueryResult,
    index: I,
    what: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, sea_orm::TryGetError> {
    let raw = <String as sea_orm::TryGetable>::try_get_by(res, index)?;
    parse(&raw).ok_or_else(|| {
        sea_orm::TryGetError::DbErr(DbErr::Type(format!(
            "column {index:?} holds {raw:?}, which is not a known {what}"
        )))
    })
}

/// Implements what a sea-orm entity needs of a type stored as its text name (a
/// status, a format): `$parse` reads the text back (`None`, an unknown value, fails
/// the row through [`decode_text`]; `$what` names the type in that error), `$text`
/// writes it. A service's `domain/` types stay free of SQL: the service's `store/`
/// invokes this for them.
#[macro_export]
macro_rules! stored_as_text {
    ($type:ty, $what:literal, $parse:expr, $text:expr) => {
        impl ::sea_orm::TryGetable for $type {
            fn try_get_by<I: ::sea_orm::ColIdx>(
                res: &::sea_orm::QueryResult,
                index: I,
            ) -> Result<Self, ::sea_orm::TryGetError> {
                $crate::db::decode_text(res, index, $what, $parse)
            }
        }

        impl From<$type> for ::sea_orm::Value {
            fn from(value: $type) -> Self {
                ::sea_orm::Value::String(Some(($text)(value).to_owned()))
            }
        }

        impl ::sea_orm::sea_query::ValueType for $type {
            fn try_from(
                value: ::sea_orm::Value,
            ) -> Result<Self, ::sea_orm::sea_query::ValueTypeErr> {
                let raw = <String as ::sea_orm::sea_query::ValueType>::try_from(value)?;
                ($parse)(&raw).ok_or(::sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($type).to_owned()
            }

            fn array_type() -> ::sea_orm::sea_query::ArrayType {
                ::sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> ::sea_orm::sea_query::ColumnType {
                ::sea_orm::sea_query::ColumnType::Text
            }
        }

        impl ::sea_orm::sea_query::Nullable for $type {
            fn null() -> ::sea_orm::Value {
                ::sea_orm::Value::String(None)
            }
        }
    };
}

/// The message of a unique-constraint violation (it names the constraint), when
/// `error` is one.
pub fn unique_violation(error: &DbErr) -> Option<String> {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => Some(message),
        _ => None,
    }
}

/// Whether an error is a unique-constraint violation (a duplicate).
pub fn is_duplicate(error: &DbErr) -> bool {
    unique_violation(error).is_some()
}

/// The SQLSTATE PostgreSQL answered with, when `error` is an error a statement
/// raised (`40001` for a serialization failure, `P0001` for a `RAISE` without one).
pub fn sqlstate(error: &DbErr) -> Option<String> {
    use sea_orm::RuntimeErr;
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|e| e.code())
            .map(|code| code.into_owned()),
        _ => None,
    }
}

/// A PostgreSQL statement with its values: what every named SQL statement is sent as.
pub fn statement(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Creates `database` on the server of `admin` when missing; safe against a
/// concurrent creation.
pub async fn ensure_database(admin: &DatabaseConnection, database: &str) -> anyhow::Result<()> {
    check_identifier(database)?;
    let exists = admin
        .query_one_raw(statement(
            "SELECT 1 AS found FROM pg_database WHERE datname = $1",
            vec![database.into()],
        ))
        .await?
        .is_some();
    if !exists {
        let created = admin
            .execute_unprepared(&format!("CREATE DATABASE {database}"))
            .await;
        if let Err(error) = created {
            // 42P04 duplicate_database: another replica created it first.
            if !error.to_string().contains("already exists") {
                return Err(error).context(format!("creating database {database}"));
            }
        }
        admin
            .execute_unprepared(&format!(
                "REVOKE CONNECT ON DATABASE {database} FROM PUBLIC"
            ))
            .await?;
    }
    Ok(())
}

/// Creates the runtime role when missing: it may log in, and is neither a superuser
/// nor BYPASSRLS, both of which would skip row-level security.
pub async fn ensure_runtime_role(
    admin: &DatabaseConnection,
    role: &str,
    password: Option<&str>,
) -> anyhow::Result<()> {
    check_identifier(role)?;
    let password = match password {
        Some(password) => format!(" PASSWORD '{}'", password.replace('\'', "''")),
        None => String::new(),
    };
    // A DO block makes creation idempotent; the lock keeps two starts from racing.
    let sql = format!(
        "DO $$ BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('caravan_role_{role}'));
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE{password};
            END IF;
        END $$"
    );
    admin
        .execute_unprepared(&sql)
        .await
        .with_context(|| format!("creating role {role}"))?;
    Ok(())
}

/// Runs pending migrations on `owner` (a connection to the service's database as its
/// owner), serialised across replicas, then grants the runtime role what it needs.
pub async fn migrate<S: ServiceMigrations>(
    owner: &DatabaseConnection,
    runtime_role: &str,
    database: &str,
) -> anyhow::Result<()> {
    check_identifier(runtime_role)?;
    owner
        .query_one_raw(statement(
            "SELECT pg_advisory_lock(hashtext('caravan_migrations'))::text AS locked",
            vec![],
        ))
        .await?;
    let migrated = Migrator::<S>::up(owner, None).await;
    let granted = owner
        .execute_unprepared(&format!(
            "GRANT CONNECT ON DATABASE {database} TO {runtime_role};
             GRANT USAGE ON SCHEMA public TO {runtime_role};
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {runtime_role};
             GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {runtime_role};
             REVOKE ALL ON seaql_migrations FROM {runtime_role};"
        ))
        .await;
    owner
        .query_one_raw(statement(
            "SELECT pg_advisory_unlock(hashtext('caravan_migrations'))::text AS unlocked",
            vec![],
        ))
        .await?;
    migrated.context("running migrations")?;
    granted.context("granting the runtime role")?;
    Ok(())
}

/// The URL to connect with: TLS to a database on this machine protects nothing and
/// costs every statement an encryption at each end, so a URL naming a loopback host
/// (`localhost`, `127.0.0.0/8`, `::1`) without an `sslmode` gets `sslmode=disable`.
/// Any other host keeps sqlx's default (`prefer`) or the `sslmode` the URL names.
pub fn plain_on_loopback(raw: &str) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        return raw.to_owned();
    };
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback());
    if !loopback || url.query_pairs().any(|(name, _)| name == "sslmode") {
        return raw.to_owned();
    }
    url.query_pairs_mut().append_pair("sslmode", "disable");
    url.to_string()
}

/// A connection that listens for `NOTIFY`, made as every other connection is
/// ([`plain_on_loopback`]).
pub async fn listener(
    database_url: &str,
) -> Result<sea_orm::sqlx::postgres::PgListener, sea_orm::sqlx::Error> {
    sea_orm::sqlx::postgres::PgListener::connect(&plain_on_loopback(database_url)).await
}

/// Whether `error` is, or was caused by, a pool that found no connection in time:
/// none free (`ConnectionAcquire`), or none opened yet (`Conn`, when a pool is made).
pub fn pool_timed_out(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| match cause.downcast_ref::<DbErr>() {
            Some(DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)) => true,
            Some(DbErr::Conn(sea_orm::RuntimeErr::SqlxError(error))) => {
                matches!(**error, sea_orm::sqlx::Error::PoolTimedOut)
            }
            _ => false,
        })
}

/// Refuses a runtime connection that row-level security would not apply to.
pub async fn check_runtime_role(db: &DatabaseConnection) -> anyhow::Result<()> {
    let row = db
        .query_one_raw(statement(
            "SELECT current_user::text AS name, (rolsuper OR rolbypassrls) AS skips_rls \
             FROM pg_roles WHERE rolname = current_user",
            vec![],
        ))
        .await?
        .context("current role not found")?;
    let name: String = row.try_get("", "name")?;
    let skips_rls: bool = row.try_get("", "skips_rls")?;
    if skips_rls {
        bail!(
            "role {name} is a superuser or has BYPASSRLS, so row-level security would not apply; \
             use a plain role in DATABASE_URL"
        );
    }
    Ok(())
}

/// Creates the database and role when missing, migrates, and returns the runtime pool
/// of `max_connections`, waited for [`DEFAULT_ACQUIRE_TIMEOUT`].
pub async fn provision<S: ServiceMigrations>(
    migration_url: &str,
    runtime_url: &str,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    provision_pool::<S>(
        migration_url,
        runtime_url,
        Pool::from(max_connections),
        Some(max_connections + 1),
    )
    .await
}

/// Creates the database and role when missing, migrates, and returns the runtime
/// pool: `pool` as the settings give it ([`crate::config::Settings::pool`]). Stops
/// first, in one line, when PostgreSQL has fewer than `needed` connections free
/// (`None`: not checked).
pub async fn provision_pool<S: ServiceMigrations>(
    migration_url: &str,
    runtime_url: &str,
    pool: Pool,
    needed: Option<u32>,
) -> anyhow::Result<DatabaseConnection> {
    let owner_url = PgUrl::parse(migration_url).context("MIGRATION_DATABASE_URL")?;
    let runtime = PgUrl::parse(runtime_url).context("DATABASE_URL")?;
    let database = runtime.database().to_owned();
    let maintenance = connect(&owner_url.with_database("postgres"), 1)
        .await
        .with_context(|| format!("PostgreSQL not reachable at {}", redact(&owner_url)))?;
    // Stopped here, in one line, rather than by requests failing later for want of
    // a connection.
    if let Some(needed) = needed {
        free_connections(&maintenance)
            .await?
            .ensure(needed, &format!("the service of {database}"))?;
    }
    ensure_database(&maintenance, &database).await?;
    ensure_runtime_role(&maintenance, runtime.user(), runtime.password().as_deref()).await?;
    maintenance.close().await?;

    let owner = connect(&owner_url.with_database(&database), 1).await?;
    migrate::<S>(&owner, runtime.user(), &database).await?;
    owner.close().await?;

    // The pool's wait is short, for requests; a loaded server may take longer than
    // that to open the first connection, which is no reason not to start.
    let started = std::time::Instant::now();
    loop {
        let opened: anyhow::Result<DatabaseConnection> = async {
            let runtime_pool = connect_pool(runtime.as_str(), pool).await?;
            check_runtime_role(&runtime_pool).await?;
            Ok(runtime_pool)
        }
        .await;
        match opened {
            Err(error)
                if pool_timed_out(&error) && started.elapsed() < BACKGROUND_ACQUIRE_TIMEOUT =>
            {
                tracing::warn!("no database connection yet; trying again");
            }
            opened => {
                return opened.with_context(|| format!("connecting as {}", runtime.user()));
            }
        }
    }
}

fn redact(url: &PgUrl) -> String {
    let mut shown = url.url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

/// A `LIKE` pattern matching text that contains `text` anywhere: its `\`, `%` and
/// `_` stand for themselves (PostgreSQL's default escape is `\`).
pub fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Whether the database answers in time.
pub async fn ping(db: &DatabaseConnection) -> bool {
    let check = db.query_one_raw(statement("SELECT 1 AS up", vec![]));
    matches!(
        tokio::time::timeout(Duration::from_secs(2), check).await,
        Ok(Ok(Some(_)))
    )
}

#[cfg(test)]
mod tests {
    use super::plain_on_loopback;

    #[test]
    fn a_database_on_this_machine_is_reached_without_tls_and_any_other_as_the_url_says() {
        assert_eq!(
            plain_on_loopback("postgres://caravan_order@127.0.0.1:5432/caravan_order"),
            "postgres://caravan_order@127.0.0.1:5432/caravan_order?sslmode=disable"
        );
        assert_eq!(
            plain_on_loopback("postgres://u@localhost/db?application_name=x"),
            "postgres://u@localhost/db?application_name=x&sslmode=disable"
        );
        assert_eq!(
            plain_on_loopback("postgres://u@[::1]:5432/db"),
            "postgres://u@[::1]:5432/db?sslmode=disable"
        );
        for kept in [
            "postgres://u@127.0.0.1/db?sslmode=require",
            "postgres://u@postgres:5432/db",
            "postgres://u@10.0.0.7/db",
            "postgres://u@db.example.cn/db",
        ] {
            assert_eq!(plain_on_loopback(kept), kept);
        }
    }
    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(super::contains_pattern("goji"), "%goji%");
        assert_eq!(super::contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    use super::*;

    #[test]
    fn urls_are_taken_apart() {
        let url = PgUrl::parse("postgres://caravan_auth:p%40ss@db:5432/caravan_auth").unwrap();
        assert_eq!(url.database(), "caravan_auth");
        assert_eq!(url.user(), "caravan_auth");
        assert_eq!(url.password().as_deref(), Some("p@ss"));
        assert!(url.with_database("postgres").ends_with("/postgres"));
    }

    #[test]
    fn unusual_names_are_refused() {
        assert!(PgUrl::parse("postgres://x@h/Robert'); DROP").is_err());
        assert!(PgUrl::parse("postgres://bad-name@h/db").is_err());
    }

    #[test]
    fn fingerprints_follow_content() {
        let a = [SqlMigration {
            name: "m1",
            sql: "CREATE TABLE a ()",
        }];
        let b = [SqlMigration {
            name: "m1",
            sql: "CREATE TABLE b ()",
        }];
        assert_eq!(fingerprint(&a), fingerprint(&a));
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
