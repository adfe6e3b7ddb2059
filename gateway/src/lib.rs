//! Caravan's gateway: the one public base URL. It sends each public route to the
//! service that owns it (DESIGN.md, "Public surface"), never routes `/internal/…`,
//! and tells the services who the client is (`X-Forwarded-For`) and which request
//! this is (`X-Request-Id`). It limits each client's requests per minute
//! ([`limits`]). It serves the merged public contract at
//! `/openapi.json` and its interactive docs at `/docs`, with no assets from elsewhere.

pub mod limits;
pub mod routes;

use actix_web::ResponseError;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;
use caravan_shared::ApiError;
use caravan_shared::config::{self, Environment, Source};
use caravan_shared::redis_conn::Redis;
use limits::{Limiter, Limits};
use routes::{Upstream, route};
use std::net::TcpListener;
use std::time::Duration;

/// Largest request body passed on (CSV imports are the largest).
const BODY_LIMIT: usize = 20 * 1024 * 1024;

/// Where the services are.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub auth: String,
    pub tenant: String,
    pub catalog: String,
    pub order: String,
}

impl Upstreams {
    fn base(&self, upstream: Upstream) -> &str {
        match upstream {
            Upstream::Auth => &self.auth,
            Upstream::Tenant => &self.tenant,
            Upstream::Catalog => &self.catalog,
            Upstream::Order => &self.order,
        }
    }
}

/// The gateway's settings, from the environment.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// `BIND`, default `127.0.0.1:8080`.
    pub bind: String,
    /// `AUTH_URL`, `TENANT_URL`, `CATALOG_URL`, `ORDER_URL`.
    pub upstreams: Upstreams,
    /// `REDIS_URL`, where the rate limits are counted.
    pub redis_url: String,
    /// `REDIS_PREFIX`, default `caravan`.
    pub redis_prefix: String,
    /// `TRUST_FORWARDED_FOR`: whether a load balancer in front sets
    /// `X-Forwarded-For` (the client's address is then its first entry).
    pub trust_forwarded_for: bool,
    /// `RATE_LIMIT_ANONYMOUS`, `RATE_LIMIT_AUTHENTICATED`: requests per minute.
    pub limits: Limits,
}

impl GatewaySettings {
    /// Reads the settings from `source`.
    pub fn from_source(source: &dyn Source) -> Result<Self, config::ConfigError> {
        let url = |name: &str, port: u16| {
            config::setting(source, name, format!("http://127.0.0.1:{port}"))
                .map(|url| url.trim_end_matches('/').to_owned())
        };
        Ok(Self {
            bind: config::setting(source, "BIND", "127.0.0.1:8080".to_owned())?,
            upstreams: Upstreams {
                auth: url("AUTH_URL", 8081)?,
                tenant: url("TENANT_URL", 8082)?,
                catalog: url("CATALOG_URL", 8083)?,
                order: url("ORDER_URL", 8084)?,
            },
            redis_url: config::url_setting(
                source,
                "REDIS_URL",
                "redis://127.0.0.1:6379",
                &["redis", "rediss"],
            )?,
            redis_prefix: config::setting(source, "REDIS_PREFIX", "caravan".to_owned())?,
            trust_forwarded_for: config::setting(source, "TRUST_FORWARDED_FOR", false)?,
            limits: Limits {
                anonymous: config::setting(
                    source,
                    "RATE_LIMIT_ANONYMOUS",
                    Limits::default().anonymous,
                )?,
                authenticated: config::setting(
                    source,
                    "RATE_LIMIT_AUTHENTICATED",
                    Limits::default().authenticated,
                )?,
            },
        })
    }
}

struct Gateway {
    upstreams: Upstreams,
    http: reqwest::Client,
    limiter: Limiter,
}

/// Headers that describe one hop, not the request: never passed on.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Counts the request against its client's limit, then passes it on; every answer
/// carries the client's standing.
async fn limited(
    gateway: web::Data<Gateway>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let standing = gateway.limiter.count(&request).await;
    let mut response = match standing {
        Some(standing) if standing.exceeded => {
            ApiError::too_many_requests(standing.reset).error_response()
        }
        _ => forward(&gateway, &request, body)
            .await
            .unwrap_or_else(|error| error.error_response()),
    };
    if let Some(standing) = standing {
        standing.write(response.headers_mut());
    }
    response
}

async fn forward(
    gateway: &Gateway,
    request: &HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let path = request.path();
    let Some(upstream) = route(path) else {
        return Err(ApiError::not_found("no such resource"));
    };
    let target = match request.uri().query() {
        Some(query) => format!("{}{path}?{query}", gateway.upstreams.base(upstream)),
        None => format!("{}{path}", gateway.upstreams.base(upstream)),
    };
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
        .map_err(|_| ApiError::method_not_allowed())?;
    let mut outgoing = gateway.http.request(method, &target);
    for (name, value) in request.headers() {
        let lower = name.as_str();
        if HOP_BY_HOP.contains(&lower) || lower == "x-forwarded-for" {
            continue;
        }
        outgoing = outgoing.header(name.as_str(), value.as_bytes());
    }
    let peer = request
        .peer_addr()
        .map(|address| address.ip().to_string())
        .unwrap_or_default();
    // What a client claims about its address passes on only from a trusted proxy.
    let forwarded_for = match request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .filter(|_| gateway.limiter.trusts_forwarded_for())
    {
        Some(earlier) => format!("{earlier}, {peer}"),
        None => peer,
    };
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let host = request.connection_info().host().to_owned();
    let scheme = request.connection_info().scheme().to_owned();
    outgoing = outgoing
        .header("x-forwarded-for", forwarded_for)
        .header("x-forwarded-host", host)
        .header("x-forwarded-proto", scheme)
        .header("x-request-id", request_id.as_str())
        .body(body);
    let answer = outgoing.send().await.map_err(|error| {
        tracing::warn!(%error, upstream = ?upstream, "upstream unreachable");
        ApiError::unavailable(format!(
            "the {} service cannot be reached; retry shortly",
            upstream.name()
        ))
    })?;
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(answer.status().as_u16())
            .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY),
    );
    for (name, value) in answer.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            response.append_header((name.as_str(), value.as_bytes()));
        }
    }
    let bytes = answer.bytes().await.map_err(|error| {
        ApiError::unavailable(format!(
            "the {} service broke off: {error}",
            upstream.name()
        ))
    })?;
    Ok(response.body(bytes))
}

/// The merged public contract (`openapi/caravan.json`), served with its docs.
const CONTRACT: &str = include_str!("../../openapi/caravan.json");

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok", "service": "gateway"}))
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/docs/"))
        .finish()
}

/// A running gateway.
pub struct Running {
    /// The port it listens on.
    pub port: u16,
    /// Runs until stopped.
    pub server: actix_web::dev::Server,
}

/// Binds and builds the gateway.
pub fn build(settings: GatewaySettings) -> anyhow::Result<Running> {
    let listener =
        TcpListener::bind(&settings.bind).with_context(|| format!("BIND {}", settings.bind))?;
    let port = listener.local_addr()?.port();
    let redis = Redis::new(&settings.redis_url, &settings.redis_prefix)?;
    let gateway = web::Data::new(Gateway {
        limiter: Limiter::new(redis, settings.limits, settings.trust_forwarded_for),
        upstreams: settings.upstreams,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
    });
    let contract: serde_json::Value =
        serde_json::from_str(CONTRACT).context("openapi/caravan.json")?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(gateway.clone())
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .route("/healthz", web::get().to(healthz))
            .route("/docs", web::get().to(docs_redirect))
            .service(
                utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                    .external_url_unchecked("/openapi.json", contract.clone()),
            )
            .default_service(web::to(limited))
    })
    .listen(listener)?
    .shutdown_timeout(10)
    .run();
    Ok(Running { port, server })
}

/// Runs the gateway with settings from the environment.
pub async fn run() -> std::process::ExitCode {
    let settings = match GatewaySettings::from_source(&Environment) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("caravan-gateway: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    caravan_shared::telemetry::init(config::LogFormat::Json);
    match build(settings) {
        Ok(running) => {
            tracing::info!(port = running.port, "caravan-gateway listening");
            match running.server.await {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("caravan-gateway: stopped: {error}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Err(error) => {
            eprintln!("caravan-gateway: cannot start: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
