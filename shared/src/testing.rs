//! The test harness every service uses (feature `testing`): a fresh database per test
//! cloned from a migrated template, a Redis prefix of its own, signing keys served as a
//! real JWKS over HTTP, and settings pointing at all of them.

use crate::config::{ServiceName, Settings};
use crate::db::{self, PgUrl, ServiceMigrations};
use crate::identity::{Claims, Role, SigningKey, TokenSigner};
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use std::collections::HashMap;
use std::net::TcpListener;

/// The PostgreSQL server tests use, as an owner (`TEST_DATABASE_URL`, default the local
/// server as `postgres`).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The Redis server tests use (`TEST_REDIS_URL`).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

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

/// Signing keys for tests, with their JWKS served over real HTTP.
pub struct TestKeys {
    /// Issues tokens the services under test accept.
    pub signer: TokenSigner,
    /// The key behind `signer`.
    pub key: SigningKey,
    /// Base URL serving `/.well-known/jwks.json` (use as `AUTH_URL`).
    pub auth_url: String,
    server: actix_web::dev::ServerHandle,
}

/// Issuer of test tokens.
pub const TEST_ISSUER: &str = "caravan-auth";
/// Audience of test tokens.
pub const TEST_AUDIENCE: &str = "caravan";

impl TestKeys {
    /// A fresh key and a JWKS server on a random port.
    pub async fn start() -> anyhow::Result<Self> {
        let key = SigningKey::generate()?;
        let signer = TokenSigner::new(key.clone(), Vec::new(), TEST_ISSUER, TEST_AUDIENCE);
        let jwks = serde_json::to_value(signer.jwks())?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let token_signer = signer.clone();
        let server = HttpServer::new(move || {
            let jwks = jwks.clone();
            let token_signer = token_signer.clone();
            App::new()
                .route(
                    "/.well-known/jwks.json",
                    web::get().to(move || {
                        let jwks = jwks.clone();
                        async move { HttpResponse::Ok().json(jwks) }
                    }),
                )
                .route(
                    "/v1/auth/token",
                    web::post().to(move |grant: web::Json<serde_json::Value>| {
                        let signer = token_signer.clone();
                        async move { service_token(&signer, &grant) }
                    }),
                )
        })
        .workers(1)
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self {
            signer,
            key,
            auth_url: format!("http://127.0.0.1:{port}"),
            server: handle,
        })
    }

    /// A signed token for any claims.
    pub fn token(&self, claims: &Claims) -> String {
        self.signer.sign(claims).unwrap_or_default()
    }

    /// A platform operator's token.
    pub fn operator(&self) -> String {
        self.token(&self.signer.claims(
            &uuid::Uuid::now_v7().to_string(),
            None,
            Role::PlatformAdmin,
            &[],
        ))
    }

    /// A token for a user of `role` in `tenant` with `scopes`.
    pub fn member(&self, tenant: uuid::Uuid, role: Role, scopes: &[&str]) -> String {
        self.token(&self.signer.claims(
            &uuid::Uuid::now_v7().to_string(),
            Some(tenant),
            role,
            scopes,
        ))
    }

    /// A Caravan service's token.
    pub fn service(&self, name: &str) -> String {
        self.token(
            &self
                .signer
                .claims(&format!("service:{name}"), None, Role::Service, &[]),
        )
    }
}

/// The client-credentials grant for services, as the auth service answers it.
fn service_token(signer: &TokenSigner, grant: &serde_json::Value) -> HttpResponse {
    let client_id = grant["client_id"].as_str().unwrap_or_default();
    let accepted = grant["grant_type"] == "client_credentials"
        && client_id.starts_with("service:")
        && grant["client_secret"] == test_service_secret();
    if !accepted {
        return HttpResponse::Unauthorized().finish();
    }
    let claims = signer.claims(client_id, None, Role::Service, &[]);
    HttpResponse::Ok().json(serde_json::json!({
        "access_token": signer.sign(&claims).unwrap_or_default(),
        "token_type": "Bearer",
        "expires_in": signer.ttl_secs(),
    }))
}

/// The service secret test services use: random, made once per test process, so no
/// test depends on a value anybody could have read.
pub fn test_service_secret() -> &'static str {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET.get_or_init(crate::config::generate_secret)
}

/// The auth service's `SIGNING_KEY_ENCRYPTION_KEY` in tests: 32 random bytes in
/// base64, made once per test process.
pub fn test_signing_key_encryption_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        use base64::Engine;
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    })
}

impl Drop for TestKeys {
    fn drop(&mut self) {
        let handle = self.server.clone();
        // Stopping is async; ask for it and let the runtime finish it.
        drop(tokio::spawn(async move { handle.stop(false).await }));
    }
}

/// Settings for a service under test: random port, its own database and Redis
/// prefix, the test JWKS, and `overrides` on top.
pub fn settings(
    service: ServiceName,
    database: &TestDatabase,
    keys: &TestKeys,
    overrides: &[(&str, &str)],
) -> anyhow::Result<Settings> {
    let mut source: HashMap<String, String> = HashMap::new();
    let prefix = format!("caravan-test-{}", uuid::Uuid::now_v7().simple());
    for (name, value) in [
        ("BIND", "127.0.0.1:0"),
        ("DATABASE_URL", database.runtime_url.as_str()),
        ("MIGRATION_DATABASE_URL", database.owner_url.as_str()),
        ("DATABASE_MAX_CONNECTIONS", "5"),
        ("REDIS_URL", redis_url().as_str()),
        ("REDIS_PREFIX", prefix.as_str()),
        ("AUTH_URL", keys.auth_url.as_str()),
        ("JWT_ISSUER", TEST_ISSUER),
        ("JWT_AUDIENCE", TEST_AUDIENCE),
        ("SHUTDOWN_TIMEOUT_SECS", "1"),
        ("SERVICE_CLIENT_SECRET", test_service_secret()),
    ] {
        source.insert(name.to_owned(), value.to_owned());
    }
    if service == ServiceName::Auth {
        source.insert(
            "SIGNING_KEY_ENCRYPTION_KEY".to_owned(),
            test_signing_key_encryption_key().to_owned(),
        );
    }
    for (name, value) in overrides {
        source.insert((*name).to_owned(), (*value).to_owned());
    }
    Ok(Settings::from_source(service, std::sync::Arc::new(source))?)
}

/// Listeners bound ahead of the services that will serve on them, by address.
static RESERVED: std::sync::Mutex<Vec<TcpListener>> = std::sync::Mutex::new(Vec::new());

/// A port bound now and held for a service of this test process that must know its
/// address before it starts (an auth service issuing the tokens it verifies, two
/// services that call each other): started with `BIND=127.0.0.1:<port>`, the
/// service serves on this very listener, so no other process can take the port in
/// between.
pub fn reserve_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|error| panic!("no port to bind on 127.0.0.1: {error}"));
    let port = listener.local_addr().map_or(0, |address| address.port());
    RESERVED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(listener);
    port
}

/// `count` consecutive ports, all bound now and held like [`reserve_port`]'s, for
/// servers whose addresses follow from the first (the platform: the gateway on it,
/// the services and the web faces on the next five); answers the first. Each
/// server started with `BIND=127.0.0.1:<port>` serves on its reserved listener, so
/// no other process can take a port between choosing the range and serving on it.
pub fn reserve_ports(count: u16) -> u16 {
    const ATTEMPTS: usize = 1_000;
    for _ in 0..ATTEMPTS {
        // The first port from the system, the others next to it if they are free;
        // otherwise all are released and another first port is tried.
        let Ok(first) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(base) = first.local_addr().map(|address| address.port()) else {
            continue;
        };
        let rest: std::io::Result<Vec<TcpListener>> = (1..count)
            .map(|offset| {
                let port = base.checked_add(offset).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "past 65535")
                })?;
                TcpListener::bind(("127.0.0.1", port))
            })
            .collect();
        if let Ok(rest) = rest {
            let mut reserved = RESERVED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            reserved.push(first);
            reserved.extend(rest);
            return base;
        }
    }
    panic!("no {count} consecutive free ports on 127.0.0.1 in {ATTEMPTS} attempts")
}

/// The listener [`reserve_port`] or [`reserve_ports`] holds for `address`, handed to
/// the server that binds it.
pub(crate) fn take_reserved(address: std::net::SocketAddr) -> Option<TcpListener> {
    let mut reserved = RESERVED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let found = reserved
        .iter()
        .position(|listener| listener.local_addr().is_ok_and(|bound| bound == address))?;
    Some(reserved.swap_remove(found))
}

/// A port that was free a moment ago, for a server in another process (a Redis or
/// S3 server of a test's own), which binds it itself.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(0)
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
    ];
}

/// Who a test request is sent as: the bearer of a token, or nobody (`None`).
pub trait Bearer {
    /// The token, if any.
    fn token(&self) -> Option<&str>;
}

impl Bearer for &str {
    fn token(&self) -> Option<&str> {
        Some(self)
    }
}

impl Bearer for &String {
    fn token(&self) -> Option<&str> {
        Some(self)
    }
}

impl Bearer for Option<&str> {
    fn token(&self) -> Option<&str> {
        *self
    }
}

impl Bearer for Option<&String> {
    fn token(&self) -> Option<&str> {
        self.map(String::as_str)
    }
}

/// A unique email address for a test's person, tagged for the reader (`owner`,
/// `buyer`, …).
pub fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.cn", uuid::Uuid::now_v7().simple())
}

/// A service running on a random port with a database, Redis prefix and signing
/// keys of its own.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client for calling it.
    pub client: reqwest::Client,
    /// Issues tokens the service accepts.
    pub keys: TestKeys,
    /// The service's database.
    pub database: TestDatabase,
    /// The settings it runs with.
    pub settings: Settings,
}

impl TestApp {
    /// Starts the service built by `build` with test settings plus `overrides`.
    pub async fn spawn<S, B, Fut>(
        service: ServiceName,
        build: B,
        overrides: &[(&str, &str)],
    ) -> anyhow::Result<Self>
    where
        S: ServiceMigrations,
        B: FnOnce(Settings) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<crate::service::Application>>,
    {
        crate::telemetry::init(crate::config::LogFormat::Pretty);
        let keys = TestKeys::start().await?;
        let database = TestDatabase::create::<S>(service.as_str()).await?;
        let settings = settings(service, &database, &keys, overrides)?;
        let application = build(settings.clone()).await?;
        let address = format!("http://127.0.0.1:{}", application.port());
        tokio::spawn(application.run_until_stopped());
        Ok(Self {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            keys,
            database,
            settings,
        })
    }

    /// A service that only produces events, under `service`'s name: its outbox,
    /// relay and feed are the real ones. Tests use it to play a service whose events
    /// another consumes.
    pub async fn spawn_producer(
        service: ServiceName,
        overrides: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        Self::spawn::<ProducerMigrations, _, _>(
            service,
            |settings| async move {
                let context =
                    crate::service::ServiceContext::start::<ProducerMigrations>(settings).await?;
                crate::service::Application::serve(
                    &context,
                    crate::service::ApiInfo {
                        title: "event producer",
                        description: "Produces events for tests.",
                    },
                    |_| {},
                )
            },
            overrides,
        )
        .await
    }

    /// Commits one event to this service's outbox.
    pub async fn publish(
        &self,
        event_type: &str,
        tenant: Option<uuid::Uuid>,
        data: serde_json::Value,
    ) -> anyhow::Result<uuid::Uuid> {
        let pool = db::connect(&self.database.runtime_url, 1).await?;
        // Events of any shop: the test plays the producer's code for each of them.
        let tx =
            crate::tenancy::PlatformTx::begin(&pool, "a test publishes any shop's events").await?;
        let id = crate::events::outbox::append(
            tx.conn(),
            event_type,
            tenant.map(crate::tenancy::TenantId::from),
            &data,
        )
        .await?;
        tx.commit().await?;
        pool.close().await?;
        Ok(id)
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, None::<&str>, path, None)
            .await
    }

    /// POST `body` to `path`, signed in as nobody.
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, None::<&str>, path, Some(body))
            .await
    }

    /// GET `path` as `caller` (a token, or `None`).
    pub async fn get_with(&self, caller: impl Bearer, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, caller, path, None).await
    }

    /// POST `body` to `path` as `caller` (a token, or `None`).
    pub async fn post_with(
        &self,
        caller: impl Bearer,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.send(reqwest::Method::POST, caller, path, Some(body))
            .await
    }

    /// PATCH `path` with `body` as `caller` (a token, or `None`).
    pub async fn patch_with(
        &self,
        caller: impl Bearer,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.send(reqwest::Method::PATCH, caller, path, Some(body))
            .await
    }

    /// PUT `body` at `path` as `caller` (a token, or `None`).
    pub async fn put_with(
        &self,
        caller: impl Bearer,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.send(reqwest::Method::PUT, caller, path, Some(body))
            .await
    }

    /// DELETE `path` as `caller` (a token, or `None`).
    pub async fn delete_with(&self, caller: impl Bearer, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::DELETE, caller, path, None).await
    }

    /// Sends one request; a request that gets no answer fails the test, naming it.
    pub async fn send(
        &self,
        method: reqwest::Method,
        caller: impl Bearer,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method.clone(), self.url(path));
        if let Some(token) = caller.token() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    /// Checks `/healthz`, `/readyz`, `/metrics`, `/openapi.json`, `/docs` and the
    /// problem answer for an unknown path.
    pub async fn assert_operational_endpoints(&self, service: &str) {
        let health = self.get("/healthz").await;
        assert_eq!(health.status(), 200);
        let health: serde_json::Value = health.json().await.unwrap_or_default();
        assert_eq!(health["status"], "ok");
        assert_eq!(health["service"], service);

        let ready = self.get("/readyz").await;
        assert_eq!(ready.status(), 200);
        let ready: serde_json::Value = ready.json().await.unwrap_or_default();
        assert_eq!(ready["status"], "ready");

        let metrics = self.get("/metrics").await;
        assert_eq!(metrics.status(), 200);
        let text = metrics.text().await.unwrap_or_default();
        assert!(
            text.contains("caravan_http_requests_total") && text.contains("route=\"/healthz\""),
            "{text}"
        );

        let document: serde_json::Value = self
            .get("/openapi.json")
            .await
            .json()
            .await
            .unwrap_or_default();
        assert!(
            document["openapi"]
                .as_str()
                .unwrap_or("")
                .starts_with("3.1"),
            "{document}"
        );
        assert!(document["paths"]["/readyz"].is_object(), "{document}");

        let redirect = self.get("/docs").await;
        assert_eq!(redirect.status(), 308);
        let page = self.get("/docs/").await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap_or_default();
        assert!(html.contains("swagger-ui"), "{html}");
        assert!(
            !html.contains("://"),
            "the docs page must not load anything from elsewhere"
        );
        let config = self.get("/docs/swagger-initializer.js").await;
        assert_eq!(config.status(), 200);
        assert!(
            config
                .text()
                .await
                .unwrap_or_default()
                .contains("/openapi.json")
        );
        let bundle = self.get("/docs/swagger-ui-bundle.js").await;
        assert_eq!(bundle.status(), 200);
        assert!(
            bundle.content_length().unwrap_or(0) > 100_000
                || bundle.bytes().await.map(|b| b.len()).unwrap_or(0) > 100_000
        );

        let missing = self.get("/no/such/path").await;
        assert_eq!(missing.status(), 404);
        assert_eq!(
            missing
                .headers()
                .get("content-type")
                .and_then(|value| value.to_str().ok()),
            Some(crate::error::PROBLEM_JSON)
        );
    }
}

/// The SMTP sink's REST API (`TEST_MAILDEV_URL`, default MailDev on port 1080).
pub fn maildev_url() -> String {
    std::env::var("TEST_MAILDEV_URL").unwrap_or_else(|_| "http://127.0.0.1:1080".to_owned())
}

/// A message as the SMTP sink received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
}

impl ReceivedMail {
    /// The first `token=` value in the body (links in verification, reset and
    /// invitation mail carry one).
    pub fn token(&self) -> Option<String> {
        let start = self.text.find("token=")? + "token=".len();
        let token: String = self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        (!token.is_empty()).then_some(token)
    }
}

/// The messages to `recipient` the SMTP sink has received so far, oldest first.
pub async fn mail_to(recipient: &str) -> anyhow::Result<Vec<ReceivedMail>> {
    let all: Vec<serde_json::Value> = reqwest::Client::new()
        .get(format!("{}/api/email", maildev_url()))
        .send()
        .await?
        .json()
        .await?;
    Ok(all
        .iter()
        .filter(|mail| {
            mail["to"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(mail["envelope"]["to"].as_array().into_iter().flatten())
                .any(|to| to["address"].as_str() == Some(recipient))
        })
        .map(|mail| ReceivedMail {
            subject: mail["subject"].as_str().unwrap_or_default().to_owned(),
            text: mail["text"].as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}

/// Waits (up to 15 s) for `count` messages to `recipient` at the SMTP sink and
/// answers them, oldest first.
pub async fn wait_for_mail(recipient: &str, count: usize) -> anyhow::Result<Vec<ReceivedMail>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let mine = mail_to(recipient).await?;
        if mine.len() >= count {
            return Ok(mine);
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("{} of {count} messages to {recipient} arrived", mine.len());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A Redis server of a test's own on `port`, stopped when dropped, for tests that
/// take Redis away and bring it back.
pub struct RedisServer(std::process::Child);

impl RedisServer {
    /// Starts `redis-server` (it must be installed) on `port`, keeping nothing on disk.
    pub fn start(port: u16) -> anyhow::Result<Self> {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting redis-server")?;
        Ok(Self(child))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Helpers for the benchmark programs.
pub mod bench {
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tokio::sync::Mutex;

    /// The value after `--name` on the command line, or `default`.
    pub fn argument(name: &str, default: u64) -> u64 {
        let args: Vec<String> = std::env::args().collect();
        args.iter()
            .position(|arg| arg == name)
            .and_then(|index| args.get(index + 1))
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    }

    /// Runs `call` from `concurrency` tasks for `seconds`; prints rate and latencies.
    pub async fn load<F, Fut>(
        label: &str,
        seconds: u64,
        concurrency: u64,
        call: F,
    ) -> anyhow::Result<()>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
    {
        let call = Arc::new(call);
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let started = Instant::now();
        let until = started + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let call = call.clone();
            let latencies = latencies.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while Instant::now() < until {
                    let at = Instant::now();
                    call().await?;
                    mine.push(at.elapsed());
                }
                latencies.lock().await.extend(mine);
                anyhow::Ok(())
            }));
        }
        for task in tasks {
            task.await??;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let mut sorted = latencies.lock().await.clone();
        sorted.sort();
        println!(
            "{label:<44} {:>9.0} /s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} in {elapsed:.1} s, concurrency {concurrency})",
            sorted.len() as f64 / elapsed,
            percentile_ms(&sorted, 0.5),
            percentile_ms(&sorted, 0.99),
            sorted.len()
        );
        Ok(())
    }

    /// The `p` quantile (0 to 1) of sorted durations, in milliseconds.
    pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index].as_secs_f64() * 1000.0
    }
}

/// Checks that `response` is a problem+json answer with `status`, and answers its body.
pub async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some(crate::error::PROBLEM_JSON)
    );
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    assert_eq!(body["status"], status);
    assert!(
        body["type"].is_string() && body["title"].is_string(),
        "{body}"
    );
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ports_are_consecutive_held_and_handed_out_once() {
        let base = reserve_ports(6);
        for offset in 0..6 {
            let address = std::net::SocketAddr::from(([127, 0, 0, 1], base + offset));
            assert!(TcpListener::bind(address).is_err(), "{address} is held");
            let listener = take_reserved(address).expect("reserved");
            assert_eq!(listener.local_addr().unwrap(), address);
            assert!(
                take_reserved(address).is_none(),
                "{address} handed out twice"
            );
        }
    }

    #[test]
    fn a_server_binding_its_own_address_takes_the_reserved_listener() {
        let base = reserve_ports(2);
        let bind = format!("127.0.0.1:{}", base + 1);
        let listener = crate::service::reserved_listener(&bind).expect("reserved");
        assert_eq!(listener.local_addr().unwrap().port(), base + 1);
        assert!(crate::service::reserved_listener("localhost:1").is_none());
        drop(take_reserved(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            base,
        ))));
    }
}
