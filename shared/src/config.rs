//! Settings from environment variables, each with a working local default.
//!
//! A bad value stops the service with one line naming the variable.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

/// A setting that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: String,
    /// Why its value was refused.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid setting {}: {}", self.variable, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// Where settings come from: the process environment, or a map in tests.
pub trait Source: Send + Sync {
    /// The raw value of a variable, if set and not empty.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Environment;

impl Source for Environment {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    }
}

impl Source for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Reads and parses one setting, or its default when unset.
pub fn setting<T>(source: &dyn Source, name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match source.get(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|error: T::Err| ConfigError {
            variable: name.to_owned(),
            reason: format!("{error} (got {raw:?})"),
        }),
    }
}

/// Reads a URL setting, checking its scheme.
pub fn url_setting(
    source: &dyn Source,
    name: &str,
    default: &str,
    schemes: &[&str],
) -> Result<String, ConfigError> {
    let value = source.get(name).unwrap_or_else(|| default.to_owned());
    let value = value.trim().trim_end_matches('/').to_owned();
    let scheme_ok = schemes
        .iter()
        .any(|scheme| value.starts_with(&format!("{scheme}://")));
    let host_ok = value
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty());
    if scheme_ok && host_ok {
        Ok(value)
    } else {
        Err(ConfigError {
            variable: name.to_owned(),
            reason: format!("expected a {} URL (got {value:?})", schemes.join(" or ")),
        })
    }
}

/// Names and default ports of the four services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceName {
    /// Identities, credentials, tokens.
    Auth,
    /// Tenants, plans, settings, webhooks.
    Tenant,
    /// Products, stock, storefront reads.
    Catalog,
    /// Carts, checkout, orders.
    Order,
}

impl ServiceName {
    /// The short name, used in database names, channels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Tenant => "tenant",
            Self::Catalog => "catalog",
            Self::Order => "order",
        }
    }

    /// The port the service listens on by default.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Auth => 8081,
            Self::Tenant => 8082,
            Self::Catalog => 8083,
            Self::Order => 8084,
        }
    }

    /// Every service.
    pub const ALL: [ServiceName; 4] = [Self::Auth, Self::Tenant, Self::Catalog, Self::Order];

    /// The runtime pool's size when `DATABASE_MAX_CONNECTIONS` is not set: the
    /// catalog and order services serve every buyer, auth and tenant mostly staff
    /// (a login waits on its password hash, not on the database).
    pub fn default_pool_size(self) -> u32 {
        match self {
            Self::Auth | Self::Tenant => 5,
            Self::Catalog | Self::Order => 10,
        }
    }

    /// Connections the service holds open beside its pool, for as long as it runs:
    /// every service listens for its caches' and its outbox relay's notifications
    /// and holds its relay's turn; those that send mail listen for queued mail; the
    /// tenant service's four webhook senders listen for due deliveries; the order
    /// service keeps two connections for order deadlines.
    pub fn standing_connections(self) -> u32 {
        match self {
            Self::Catalog => 3,
            Self::Auth => 4,
            Self::Order => 6,
            Self::Tenant => 8,
        }
    }

    /// The service's own database.
    pub fn database(self) -> String {
        format!("caravan_{}", self.as_str())
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (production, log shippers).
    Json,
    /// Human-readable lines (local development).
    Pretty,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "json" => Ok(Self::Json),
            "pretty" => Ok(Self::Pretty),
            _ => Err("expected json or pretty".to_owned()),
        }
    }
}

/// Values that were ever published as defaults or examples (in this repository, its
/// history or its documentation). A secret setting holding one of them is refused:
/// anyone could read it.
pub const PUBLISHED_SECRETS: &[&str] = &[
    "caravan-local-development-service-secret",
    "compose-local-service-secret",
    "replace-with-a-long-random-value",
    "test-gateway-secret",
    "test-service-secret",
    "caravan-demo-2026",
];

/// The shortest secret accepted (a generated one has 43 characters).
pub const MIN_SECRET_LEN: usize = 32;

/// A new random secret: 32 bytes, base64url without padding.
pub fn generate_secret() -> String {
    crate::secrets::generate()
}

/// Checks a secret's value: long enough, and not one anybody could have read.
pub fn check_secret(name: &str, value: &str) -> Result<(), ConfigError> {
    let refuse = |reason: &str| ConfigError {
        variable: name.to_owned(),
        reason: reason.to_owned(),
    };
    if PUBLISHED_SECRETS
        .iter()
        .any(|published| published.eq_ignore_ascii_case(value.trim()))
    {
        return Err(refuse(
            "this value is published (a default or an example); generate one with `caravan secrets` or `openssl rand -base64 32`",
        ));
    }
    if value.trim().chars().count() < MIN_SECRET_LEN {
        return Err(refuse(&format!(
            "must be at least {MIN_SECRET_LEN} characters; generate one with `caravan secrets` or `openssl rand -base64 32`"
        )));
    }
    Ok(())
}

/// Reads a secret that has no default: it must be set, long enough and unpublished.
pub fn secret_setting(source: &dyn Source, name: &str) -> Result<String, ConfigError> {
    let value = source.get(name).ok_or_else(|| ConfigError {
        variable: name.to_owned(),
        reason: "is not set; it has no default (generate one with `caravan secrets` or `openssl rand -base64 32`)".to_owned(),
    })?;
    check_secret(name, &value)?;
    Ok(value.trim().to_owned())
}

/// Where a service reads its own further settings from (the same place as the
/// common ones).
#[derive(Clone)]
pub struct SettingsSource(pub std::sync::Arc<dyn Source>);

impl fmt::Debug for SettingsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SettingsSource")
    }
}

/// The settings every service reads.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where these came from; a service reads its own settings here too.
    pub source: SettingsSource,
    /// Which service this is.
    pub service: ServiceName,
    /// `BIND`: address to listen on.
    pub bind: SocketAddr,
    /// `DATABASE_URL`: the service's database, as its runtime role (no superuser, no
    /// BYPASSRLS, so row-level security applies).
    pub database_url: String,
    /// `MIGRATION_DATABASE_URL`: the same database as its owner; used at start to create
    /// the database and the runtime role when missing and to run migrations.
    pub migration_database_url: String,
    /// `DATABASE_MAX_CONNECTIONS`: the runtime pool's size (5 for auth and tenant,
    /// 10 for catalog and order by default). Connections are opened on demand and
    /// closed after a minute idle.
    pub database_max_connections: u32,
    /// `DATABASE_CAPACITY_CHECK`: whether the service stops at start, in one line,
    /// unless PostgreSQL has [`Settings::connections_needed`] connections free
    /// (default `true`; a test run sharing one server checks its own budget instead).
    pub database_capacity_check: bool,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS`: how long a request waits for a free pool
    /// connection before it is answered 503 `busy` with `Retry-After`. Short, so the
    /// service gives up before any caller does (README, "Slow is not down").
    pub database_acquire_timeout: Duration,
    /// `REDIS_URL`.
    pub redis_url: String,
    /// `REDIS_PREFIX`: prefix of every key and channel this deployment uses.
    pub redis_prefix: String,
    /// `SMTP_URL`: where mail is sent (`smtp://host:port`, or `smtps://user:pass@host`).
    pub smtp_url: String,
    /// `MAIL_FROM`: sender address of the platform's mail.
    pub mail_from: String,
    /// `PUBLIC_URL`: the base URL buyers and staff reach (links in emails).
    pub public_url: String,
    /// `AUTH_URL`: the auth service (JWKS, tokens).
    pub auth_url: String,
    /// `TENANT_URL`.
    pub tenant_url: String,
    /// `CATALOG_URL`.
    pub catalog_url: String,
    /// `ORDER_URL`.
    pub order_url: String,
    /// `JWT_ISSUER`: the `iss` of access tokens.
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`: the `aud` of access tokens.
    pub jwt_audience: String,
    /// `SERVICE_CLIENT_ID`: this service's client id at the auth service.
    pub service_client_id: String,
    /// `SERVICE_CLIENT_SECRET`: its secret, shared with the auth service. It has no
    /// default, and a published value is refused.
    pub service_client_secret: String,
    /// `TRUSTED_PROXIES`: addresses or CIDR blocks (the gateway's) whose
    /// `X-Forwarded-For` names the client; empty by default: the peer is the client.
    pub trusted_proxies: crate::http::TrustedProxies,
    /// `BODY_LIMIT_BYTES`: largest request body accepted (413 above it).
    pub body_limit: usize,
    /// `LOG_FORMAT`: `json` or `pretty`.
    pub log_format: LogFormat,
    /// `SHUTDOWN_TIMEOUT_SECS`: how long in-flight requests get on stop.
    pub shutdown_timeout: Duration,
}

/// The longest `DATABASE_ACQUIRE_TIMEOUT_MS` accepted: a caller (the order service
/// calling the catalog, 8 s, of which the catalog takes 7.2 s) must still be waiting
/// when the pool gives up.
pub const MAX_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(7);

/// Reads a duration given in milliseconds: at least 1 ms and at most `max`.
pub fn millis_setting(
    source: &dyn Source,
    name: &str,
    default: Duration,
    max: Duration,
) -> Result<Duration, ConfigError> {
    let default_ms = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
    let millis: u64 = setting(source, name, default_ms)?;
    let max_ms = max.as_millis();
    if millis == 0 || u128::from(millis) > max_ms {
        return Err(ConfigError {
            variable: name.to_owned(),
            reason: format!("must be between 1 and {max_ms} milliseconds (got {millis})"),
        });
    }
    Ok(Duration::from_millis(millis))
}

impl Settings {
    /// The runtime pool's size and patience, as [`crate::db::connect_pool`] takes them.
    pub fn pool(&self) -> crate::db::Pool {
        crate::db::Pool {
            max_connections: self.database_max_connections,
            acquire_timeout: self.database_acquire_timeout,
        }
    }

    /// Connections to PostgreSQL the service may hold at once: its pool full, its
    /// standing connections, and one while it migrates at start.
    pub fn connections_needed(&self) -> u32 {
        self.database_max_connections + self.service.standing_connections() + 1
    }

    /// The base URL of `service`.
    pub fn url_of(&self, service: ServiceName) -> &str {
        match service {
            ServiceName::Auth => &self.auth_url,
            ServiceName::Tenant => &self.tenant_url,
            ServiceName::Catalog => &self.catalog_url,
            ServiceName::Order => &self.order_url,
        }
    }

    /// Reads the settings of `service` from the process environment.
    pub fn from_env(service: ServiceName) -> Result<Self, ConfigError> {
        Self::from_source(service, std::sync::Arc::new(Environment))
    }

    /// Reads the settings of `service` from any source.
    pub fn from_source(
        service: ServiceName,
        shared_source: std::sync::Arc<dyn Source>,
    ) -> Result<Self, ConfigError> {
        let source: &dyn Source = &*shared_source;
        let postgres = ["postgres", "postgresql"];
        let http = ["http", "https"];
        let database = service.database();
        let default_bind: SocketAddr = ([127, 0, 0, 1], service.default_port()).into();
        let database_max_connections = setting(
            source,
            "DATABASE_MAX_CONNECTIONS",
            service.default_pool_size(),
        )?;
        if database_max_connections == 0 {
            return Err(ConfigError {
                variable: "DATABASE_MAX_CONNECTIONS".to_owned(),
                reason: "must be at least 1".to_owned(),
            });
        }
        let database_acquire_timeout = millis_setting(
            source,
            "DATABASE_ACQUIRE_TIMEOUT_MS",
            crate::db::DEFAULT_ACQUIRE_TIMEOUT,
            MAX_ACQUIRE_TIMEOUT,
        )?;
        let body_limit = setting(source, "BODY_LIMIT_BYTES", 1024 * 1024usize)?;
        if body_limit == 0 {
            return Err(ConfigError {
                variable: "BODY_LIMIT_BYTES".to_owned(),
                reason: "must be at least 1".to_owned(),
            });
        }
        let service_client_secret = secret_setting(source, "SERVICE_CLIENT_SECRET")?;
        let bind: SocketAddr = setting(source, "BIND", default_bind)?;
        Ok(Self {
            source: SettingsSource(shared_source.clone()),
            service,
            bind,
            database_url: url_setting(
                source,
                "DATABASE_URL",
                &format!("postgres://{database}@127.0.0.1:5432/{database}"),
                &postgres,
            )?,
            migration_database_url: url_setting(
                source,
                "MIGRATION_DATABASE_URL",
                &format!("postgres://postgres@127.0.0.1:5432/{database}"),
                &postgres,
            )?,
            database_max_connections,
            database_acquire_timeout,
            redis_url: url_setting(
                source,
                "REDIS_URL",
                "redis://127.0.0.1:6379",
                &["redis", "rediss"],
            )?,
            redis_prefix: setting(source, "REDIS_PREFIX", "caravan".to_owned())?,
            smtp_url: url_setting(
                source,
                "SMTP_URL",
                "smtp://127.0.0.1:1025",
                &["smtp", "smtps"],
            )?,
            mail_from: setting(
                source,
                "MAIL_FROM",
                "Caravan <no-reply@caravan.localhost>".to_owned(),
            )?,
            public_url: url_setting(source, "PUBLIC_URL", "http://localhost:8080", &http)?,
            auth_url: url_setting(source, "AUTH_URL", "http://127.0.0.1:8081", &http)?,
            tenant_url: url_setting(source, "TENANT_URL", "http://127.0.0.1:8082", &http)?,
            catalog_url: url_setting(source, "CATALOG_URL", "http://127.0.0.1:8083", &http)?,
            order_url: url_setting(source, "ORDER_URL", "http://127.0.0.1:8084", &http)?,
            jwt_issuer: setting(source, "JWT_ISSUER", "caravan-auth".to_owned())?,
            jwt_audience: setting(source, "JWT_AUDIENCE", "caravan".to_owned())?,
            service_client_id: setting(source, "SERVICE_CLIENT_ID", format!("service:{service}"))?,
            service_client_secret,
            trusted_proxies: setting(source, "TRUSTED_PROXIES", Default::default())?,
            body_limit,
            log_format: setting(source, "LOG_FORMAT", LogFormat::Json)?,
            shutdown_timeout: Duration::from_secs(setting(source, "SHUTDOWN_TIMEOUT_SECS", 10)?),
            database_capacity_check: setting(source, "DATABASE_CAPACITY_CHECK", true)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn source(pairs: &[(&str, &str)]) -> std::sync::Arc<dyn Source> {
        let secret = generate_secret();
        let mut map: HashMap<String, String> =
            HashMap::from([("SERVICE_CLIENT_SECRET".to_owned(), secret)]);
        for (k, v) in pairs {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        std::sync::Arc::new(map)
    }

    #[test]
    fn defaults_work_locally() {
        let settings = Settings::from_source(ServiceName::Catalog, source(&[])).unwrap();
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8083");
        assert!(settings.database_url.ends_with("/caravan_catalog"));
        assert_eq!(settings.body_limit, 1024 * 1024);
        assert_eq!(settings.redis_url, "redis://127.0.0.1:6379");
    }

    #[test]
    fn no_published_or_missing_service_secret_is_accepted() {
        let missing: std::sync::Arc<dyn Source> = std::sync::Arc::new(HashMap::new());
        let error = Settings::from_source(ServiceName::Order, missing).unwrap_err();
        assert_eq!(error.variable, "SERVICE_CLIENT_SECRET");
        assert!(error.reason.contains("not set"), "{error}");
        for published in PUBLISHED_SECRETS {
            let error = Settings::from_source(
                ServiceName::Order,
                source(&[("SERVICE_CLIENT_SECRET", published)]),
            )
            .unwrap_err();
            assert_eq!(error.variable, "SERVICE_CLIENT_SECRET");
            assert!(error.reason.contains("published"), "{published}: {error}");
        }
        let short = Settings::from_source(
            ServiceName::Order,
            source(&[("SERVICE_CLIENT_SECRET", "s3cret")]),
        )
        .unwrap_err();
        assert!(short.reason.contains("at least"), "{short}");
        let own = Settings::from_source(
            ServiceName::Order,
            source(&[
                ("BIND", "0.0.0.0:8084"),
                ("SERVICE_CLIENT_SECRET", &generate_secret()),
            ]),
        );
        assert!(own.is_ok());
    }

    #[test]
    fn generated_secrets_are_long_and_different() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_ne!(a, b);
        assert!(check_secret("X", &a).is_ok());
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn a_bad_setting_names_the_variable() {
        let error =
            Settings::from_source(ServiceName::Auth, source(&[("BIND", "nowhere")])).unwrap_err();
        assert_eq!(error.variable, "BIND");
        assert!(error.to_string().starts_with("invalid setting BIND:"));

        let error = Settings::from_source(
            ServiceName::Auth,
            source(&[("DATABASE_URL", "mysql://x/y")]),
        )
        .unwrap_err();
        assert_eq!(error.variable, "DATABASE_URL");

        for bad in ["0", "60000", "soon"] {
            let error = Settings::from_source(
                ServiceName::Auth,
                source(&[("DATABASE_ACQUIRE_TIMEOUT_MS", bad)]),
            )
            .unwrap_err();
            assert_eq!(error.variable, "DATABASE_ACQUIRE_TIMEOUT_MS", "{bad}");
        }
        let short = Settings::from_source(
            ServiceName::Auth,
            source(&[("DATABASE_ACQUIRE_TIMEOUT_MS", "250")]),
        )
        .unwrap();
        assert_eq!(short.pool().acquire_timeout, Duration::from_millis(250));
        let default = Settings::from_source(ServiceName::Auth, source(&[])).unwrap();
        assert_eq!(
            default.database_acquire_timeout,
            crate::db::DEFAULT_ACQUIRE_TIMEOUT
        );

        let error =
            Settings::from_source(ServiceName::Auth, source(&[("BODY_LIMIT_BYTES", "lots")]))
                .unwrap_err();
        assert_eq!(error.variable, "BODY_LIMIT_BYTES");
        assert!(!error.to_string().contains('\n'));
    }
}
