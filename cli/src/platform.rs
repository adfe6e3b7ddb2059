//! The whole platform in one process: the four services, the web faces and the
//! gateway, each on its own port (the services with their own databases), sharing
//! one Redis prefix. `caravan up` runs
//! it for local use; the end-to-end tests start it the same way.

use crate::secrets::InstallSecrets;
use anyhow::{Context, bail};
use caravan_shared::config::{Environment, ServiceName, Settings, Source};
use std::collections::HashMap;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to run the platform.
#[derive(Debug, Clone)]
pub struct Options {
    /// The gateway's port; the services take the next four (8080 → 8081…8084) and
    /// the web faces the one after (8085).
    pub gateway_port: u16,
    /// Database names are `<prefix>_auth`, `<prefix>_tenant`, …
    pub database_prefix: String,
    /// Prefix of Redis keys and channels.
    pub redis_prefix: String,
    /// The platform operator created at start.
    pub operator_email: String,
    /// Their password.
    pub operator_password: String,
    /// The installation's secrets.
    pub secrets: InstallSecrets,
    /// Safe defaults this run relaxes (each is printed at start).
    pub relaxed: Relaxed,
    /// Settings every service gets on top of the environment.
    pub extra: Vec<(String, String)>,
    /// Whether to stop at once, in one line, unless PostgreSQL can serve every
    /// connection the whole platform may open (`caravan up` does; tests sharing a
    /// server rely on each service's own check).
    pub check_connections: bool,
}

/// Safe defaults a local run may relax, each only when asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relaxed {
    /// Offer the deterministic `test` card gateway (`PAYMENT_TEST_GATEWAY=true`).
    pub test_payments: bool,
    /// Let webhooks target internal addresses and plain HTTP
    /// (`WEBHOOKS_ALLOW_INTERNAL=true`).
    pub internal_webhooks: bool,
}

impl Relaxed {
    /// What this run changes from the defaults, one line each.
    pub fn describe(&self) -> Vec<&'static str> {
        let mut lines = vec![
            "TRUSTED_PROXIES=127.0.0.1,::1 for the services and the web tier: the gateway on this machine tells them the client's address",
            "TRUSTED_PROXIES=127.0.0.2 for the gateway: the web tier calls the API from that loopback address and names the buyer it serves (browsers on 127.0.0.1 are trusted with nothing)",
        ];
        if self.test_payments {
            lines.push(
                "PAYMENT_TEST_GATEWAY=true: the test card gateway takes payments (off by default; `caravan up --no-test-payments` turns it off)",
            );
        }
        if self.internal_webhooks {
            lines.push(
                "WEBHOOKS_ALLOW_INTERNAL=true: webhooks may target this machine and private networks over plain HTTP (off by default)",
            );
        }
        lines
    }
}

/// The loopback address the web tier calls the API from: the one proxy the
/// gateway believes about a client's address (browsers connect from 127.0.0.1).
pub const WEB_SOURCE_ADDRESS: &str = "127.0.0.2";

/// A running platform.
pub struct Platform {
    /// `http://localhost:<gateway port>`.
    pub url: String,
    /// Each service's own base URL.
    pub services: Vec<(ServiceName, String)>,
    /// The web faces' own base URL.
    pub web: String,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// The environment, with some variables set on top.
struct Layered {
    top: HashMap<String, String>,
}

impl Source for Layered {
    fn get(&self, name: &str) -> Option<String> {
        self.top
            .get(name)
            .cloned()
            .or_else(|| Environment.get(name))
    }
}

fn port_taken(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_err()
}

fn reachable(address: &str) -> bool {
    address
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .is_some_and(|address| TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok())
}

fn host_port(url: &str, default: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let rest = rest.rsplit('@').next().unwrap_or(rest);
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    if host.is_empty() {
        default.to_owned()
    } else if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:{}", default.rsplit(':').next().unwrap_or_default())
    }
}

/// Checks what the platform needs before starting anything; each failure is one
/// line saying what and how to fix it.
pub fn preflight(options: &Options) -> anyhow::Result<()> {
    let postgres = host_port(
        &Environment
            .get("MIGRATION_DATABASE_URL")
            .unwrap_or_else(|| "postgres://127.0.0.1:5432".to_owned()),
        "127.0.0.1:5432",
    );
    if !reachable(&postgres) {
        bail!(
            "PostgreSQL is not reachable at {postgres}: start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or set MIGRATION_DATABASE_URL"
        );
    }
    let redis = host_port(
        &Environment
            .get("REDIS_URL")
            .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned()),
        "127.0.0.1:6379",
    );
    if !reachable(&redis) {
        bail!(
            "Redis is not reachable at {redis}: start it (redis-server --daemonize yes) or set REDIS_URL"
        );
    }
    let smtp = host_port(
        &Environment
            .get("SMTP_URL")
            .unwrap_or_else(|| "smtp://127.0.0.1:1025".to_owned()),
        "127.0.0.1:1025",
    );
    if !reachable(&smtp) {
        bail!(
            "no SMTP server at {smtp}: start the sink (deploy/scripts/ensure-services.sh) or set SMTP_URL"
        );
    }
    for (offset, name) in ["gateway", "auth", "tenant", "catalog", "order", "web"]
        .iter()
        .enumerate()
    {
        let port = options.gateway_port + u16::try_from(offset).unwrap_or(0);
        if port_taken(port) {
            bail!(
                "port {port} ({name}) is taken: stop what listens there, or start with CARAVAN_PORT={} (or another free range)",
                options.gateway_port + 10
            );
        }
    }
    Ok(())
}

/// Stops, in one line, unless PostgreSQL can serve every connection the services
/// may open at once.
async fn ensure_connections(configured: &[(ServiceName, u16, Settings)]) -> anyhow::Result<()> {
    let Some((_, _, first)) = configured.first() else {
        return Ok(());
    };
    let admin = caravan_shared::db::PgUrl::parse(&first.migration_database_url)?;
    let conn = caravan_shared::db::connect(&admin.with_database("postgres"), 1).await?;
    let capacity = caravan_shared::db::free_connections(&conn).await?;
    conn.close().await?;
    let needed: u32 = configured
        .iter()
        .map(|(_, _, settings)| settings.connections_needed())
        .sum();
    let each = configured
        .iter()
        .map(|(service, _, settings)| format!("{service} {}", settings.connections_needed()))
        .collect::<Vec<_>>()
        .join(", ");
    capacity.ensure(needed, &format!("this platform ({each})"))
}

impl Platform {
    /// Starts the services and the gateway, and waits until every service is ready.
    pub async fn start(options: &Options) -> anyhow::Result<Self> {
        let port_of = |offset: u16| options.gateway_port + offset;
        let services = [
            (ServiceName::Auth, port_of(1)),
            (ServiceName::Tenant, port_of(2)),
            (ServiceName::Catalog, port_of(3)),
            (ServiceName::Order, port_of(4)),
        ];
        let url_of = |port: u16| format!("http://127.0.0.1:{port}");
        let public_url = format!("http://localhost:{}", options.gateway_port);
        let mut common: HashMap<String, String> = HashMap::new();
        for (name, value) in [
            ("AUTH_URL", url_of(port_of(1))),
            ("TENANT_URL", url_of(port_of(2))),
            ("CATALOG_URL", url_of(port_of(3))),
            ("ORDER_URL", url_of(port_of(4))),
            ("PUBLIC_URL", public_url.clone()),
            ("REDIS_PREFIX", options.redis_prefix.clone()),
            // The gateway runs on this machine: its X-Forwarded-For names the client.
            ("TRUSTED_PROXIES", "127.0.0.1,::1".to_owned()),
            (
                "SERVICE_CLIENT_SECRET",
                options.secrets.service_client_secret.clone(),
            ),
            (
                "SIGNING_KEY_ENCRYPTION_KEY",
                options.secrets.signing_key_encryption_key.clone(),
            ),
        ] {
            common.insert(name.to_owned(), value);
        }
        if options.relaxed.test_payments {
            common.insert("PAYMENT_TEST_GATEWAY".into(), "true".into());
            common.insert(
                "PAYMENT_TEST_WEBHOOK_SECRET".into(),
                options.secrets.payment_test_webhook_secret.clone(),
            );
        }
        if options.relaxed.internal_webhooks {
            common.insert("WEBHOOKS_ALLOW_INTERNAL".into(), "true".into());
        }
        for (name, value) in &options.extra {
            common.insert(name.clone(), value.clone());
        }
        let mut configured = Vec::new();
        for (service, port) in services {
            let mut top = common.clone();
            let database = format!("{}_{}", options.database_prefix, service.as_str());
            let runtime_role = format!("caravan_{}", service.as_str());
            let postgres = Environment
                .get("CARAVAN_POSTGRES_HOST")
                .unwrap_or_else(|| "127.0.0.1:5432".to_owned());
            top.insert("BIND".into(), format!("127.0.0.1:{port}"));
            top.insert(
                "DATABASE_URL".into(),
                format!("postgres://{runtime_role}@{postgres}/{database}"),
            );
            top.insert(
                "MIGRATION_DATABASE_URL".into(),
                format!("postgres://postgres@{postgres}/{database}"),
            );
            if service == ServiceName::Auth {
                top.insert(
                    "CARAVAN_OPERATOR_EMAIL".into(),
                    options.operator_email.clone(),
                );
                top.insert(
                    "CARAVAN_OPERATOR_PASSWORD".into(),
                    options.operator_password.clone(),
                );
            }
            let settings = Settings::from_source(service, Arc::new(Layered { top }))
                .map_err(|error| anyhow::anyhow!("{service}: {error}"))?;
            configured.push((service, port, settings));
        }
        if options.check_connections {
            ensure_connections(&configured).await?;
        }
        let mut tasks = Vec::new();
        let mut urls = Vec::new();
        for (service, port, settings) in configured {
            let application = match service {
                ServiceName::Auth => caravan_auth::startup::build(settings).await,
                ServiceName::Tenant => caravan_tenant::startup::build(settings).await,
                ServiceName::Catalog => caravan_catalog::startup::build(settings).await,
                ServiceName::Order => caravan_order::startup::build(settings).await,
            }
            .with_context(|| format!("starting the {service} service"))?;
            tasks.push(tokio::spawn(application.run_until_stopped()));
            urls.push((service, url_of(port)));
        }
        let web_port = port_of(5);
        let mut top = common.clone();
        top.insert("BIND".into(), format!("127.0.0.1:{web_port}"));
        top.insert("API_URL".into(), url_of(options.gateway_port));
        top.insert("API_SOURCE_ADDRESS".into(), WEB_SOURCE_ADDRESS.into());
        let web_settings = caravan_web::startup::WebSettings::from_source(&Layered { top })
            .map_err(|error| anyhow::anyhow!("web: {error}"))?;
        let web = caravan_web::startup::build(web_settings).context("starting the web faces")?;
        tasks.push(tokio::spawn(web.server));
        let mut top = common.clone();
        top.insert("BIND".into(), format!("127.0.0.1:{}", options.gateway_port));
        top.insert("WEB_URL".into(), url_of(web_port));
        // The gateway is the edge here: the only proxy it believes is the web tier,
        // which calls from its own loopback address.
        top.insert("TRUSTED_PROXIES".into(), WEB_SOURCE_ADDRESS.into());
        let gateway_settings = caravan_gateway::GatewaySettings::from_source(&Layered { top })
            .map_err(|error| anyhow::anyhow!("gateway: {error}"))?;
        let gateway = caravan_gateway::build(gateway_settings)?;
        tasks.push(tokio::spawn(gateway.server));
        let platform = Self {
            url: public_url,
            services: urls,
            web: url_of(web_port),
            tasks,
        };
        platform.wait_until_ready().await?;
        Ok(platform)
    }

    async fn wait_until_ready(&self) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for (service, url) in &self.services {
            loop {
                let ready = http
                    .get(format!("{url}/readyz"))
                    .send()
                    .await
                    .is_ok_and(|response| response.status().is_success());
                if ready {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("the {service} service did not become ready within a minute");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        loop {
            let ready = http
                .get(format!("{}/readyz", self.web))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the web faces did not become ready within a minute");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs until every server has stopped (Ctrl-C stops them gracefully).
    pub async fn wait(self) -> anyhow::Result<()> {
        for task in self.tasks {
            task.await??;
        }
        Ok(())
    }
}
