//! Settings, the app and its server: `caravan-web` listens on `BIND` (default
//! `127.0.0.1:8085`) behind the gateway, which sends it every path that is not API.

use crate::page::Web;
use crate::session::Sessions;
use crate::{assets, guard, routes};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use caravan_client::Api;
use caravan_shared::config::{self, Environment, LogFormat, Source};
use caravan_shared::http::{self, TrustedProxies};
use caravan_shared::metrics::{self, Metrics};
use caravan_shared::redis_conn::Redis;
use caravan_shared::telemetry::{self, RequestSpan};
use std::net::{IpAddr, TcpListener};
use tracing_actix_web::TracingLogger;

/// The web service's settings, from the environment.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// `BIND`, default `127.0.0.1:8085`.
    pub bind: String,
    /// `API_URL`: the public API (the gateway), default `http://127.0.0.1:8080`.
    pub api_url: String,
    /// `API_SOURCE_ADDRESS`: the local address API calls leave from (the address
    /// the gateway lists in its `TRUSTED_PROXIES`); the system's choice when unset.
    pub api_source_address: Option<IpAddr>,
    /// `PUBLIC_URL`: the origin buyers use (canonical links, sitemaps); cookies are
    /// `Secure` when it is HTTPS.
    pub public_url: String,
    /// `REDIS_URL` and `REDIS_PREFIX`: where sessions live.
    pub redis_url: String,
    pub redis_prefix: String,
    /// `TRUSTED_PROXIES`: the gateway, whose `X-Forwarded-For` names the visitor
    /// (default: this machine).
    pub trusted_proxies: TrustedProxies,
    /// `LOG_FORMAT`: `json` (default) or `pretty`.
    pub log_format: LogFormat,
}

impl WebSettings {
    /// Reads the settings from `source`.
    pub fn from_source(source: &dyn Source) -> Result<Self, config::ConfigError> {
        let http = ["http", "https"];
        Ok(Self {
            bind: config::setting(source, "BIND", "127.0.0.1:8085".to_owned())?,
            api_url: config::url_setting(source, "API_URL", "http://127.0.0.1:8080", &http)?
                .trim_end_matches('/')
                .to_owned(),
            api_source_address: match source.get("API_SOURCE_ADDRESS") {
                Some(raw) if !raw.trim().is_empty() => {
                    Some(raw.trim().parse().map_err(|_| config::ConfigError {
                        variable: "API_SOURCE_ADDRESS".into(),
                        reason: "must be an IP address of this machine".into(),
                    })?)
                }
                _ => None,
            },
            public_url: config::url_setting(source, "PUBLIC_URL", "http://localhost:8080", &http)?
                .trim_end_matches('/')
                .to_owned(),
            redis_url: config::url_setting(
                source,
                "REDIS_URL",
                "redis://127.0.0.1:6379",
                &["redis", "rediss"],
            )?,
            redis_prefix: config::setting(source, "REDIS_PREFIX", "caravan".to_owned())?,
            trusted_proxies: config::setting(
                source,
                "TRUSTED_PROXIES",
                "127.0.0.1,::1"
                    .parse::<TrustedProxies>()
                    .unwrap_or_default(),
            )?,
            log_format: config::setting(source, "LOG_FORMAT", LogFormat::Json)?,
        })
    }
}

/// A running web service.
pub struct Running {
    /// The port it listens on.
    pub port: u16,
    /// Runs until stopped.
    pub server: actix_web::dev::Server,
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok", "service": "web"}))
}

/// Ready when Redis (sessions) and the API answer.
async fn readyz(state: web::Data<Web>, redis: web::Data<Redis>) -> HttpResponse {
    let (redis_up, api_up) = tokio::join!(redis.ping(), state.api.reachable());
    let up = |ok: bool| if ok { "up" } else { "down" };
    let body = serde_json::json!({
        "status": if redis_up && api_up { "ready" } else { "not_ready" },
        "redis": up(redis_up),
        "api": up(api_up),
    });
    if redis_up && api_up {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics_text(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}

/// Binds and builds the web service.
pub fn build(settings: WebSettings) -> anyhow::Result<Running> {
    // In tests that run it in-process, the port was reserved ahead: serve on that.
    let listener = match caravan_shared::service::reserved_listener(&settings.bind) {
        Some(listener) => listener,
        None => {
            TcpListener::bind(&settings.bind).with_context(|| format!("BIND {}", settings.bind))?
        }
    };
    let port = listener.local_addr()?.port();
    let redis = Redis::new(&settings.redis_url, &settings.redis_prefix)?;
    let secure = settings.public_url.starts_with("https://");
    let state = web::Data::new(Web {
        api: Api::new(&settings.api_url, settings.api_source_address).context("the API client")?,
        sessions: Sessions::new(redis.clone(), secure),
        public_url: settings.public_url.clone(),
        trusted_proxies: settings.trusted_proxies.clone(),
        profiles: crate::recent::Recent::new(),
        categories: crate::recent::Recent::new(),
    });
    let redis = web::Data::new(redis);
    let metrics = web::Data::new(Metrics::new("web")?);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(redis.clone())
            .app_data(metrics.clone())
            .app_data(
                web::FormConfig::default()
                    .limit(64 * 1024)
                    .error_handler(crate::page::unreadable),
            )
            .app_data(web::QueryConfig::default().error_handler(crate::page::unreadable))
            .app_data(web::PathConfig::default().error_handler(crate::page::unreadable))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics_text))
            .route("/assets/{name}", web::get().to(assets::serve))
            .configure(routes::configure)
            .configure(crate::admin::configure)
            .configure(crate::ops::configure)
            .default_service(web::to(routes::not_found))
            .wrap(from_fn(guard::protect))
            .wrap(from_fn(http::internal_stays_internal))
            .wrap(from_fn(metrics::record))
            .wrap(TracingLogger::<RequestSpan>::new())
            .wrap(from_fn(telemetry::request_id))
            .wrap(from_fn(http::security_headers))
    })
    .listen(listener)?
    .shutdown_timeout(10)
    .run();
    Ok(Running { port, server })
}

/// Runs the web service with settings from the environment.
pub async fn run() -> std::process::ExitCode {
    let settings = match WebSettings::from_source(&Environment) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("caravan-web: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let started = build(settings).map(|running| (running.port, running.server));
    caravan_shared::service::serve("caravan-web", started).await
}
