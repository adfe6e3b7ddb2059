//! Caravan's gateway: the one public base URL. It sends each public route to the
//! service that owns it (DESIGN.md, "Public surface"), never routes `/internal/…`,
//! and tells the services who the client is (`X-Forwarded-For`, which it alone
//! writes), which request this is (`X-Request-Id`) and that the request came from
//! outside (`Caravan-Gateway`). It routes only paths with a single reading
//! ([`path`]) and forwards exactly the path it routed. It limits each client's
//! requests per minute ([`limits`]). It serves the merged public contract at
//! `/openapi.json` and its interactive docs at `/docs`, with no assets from elsewhere.

pub mod grants;
pub mod limits;
pub mod path;
pub mod routes;

use actix_web::ResponseError;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;
use caravan_shared::ApiError;
use caravan_shared::config::{self, Environment, Source};
use caravan_shared::deadline;
use caravan_shared::http::{GATEWAY_HEADER, TrustedProxies};
use caravan_shared::identity::JwksVerifier;
use caravan_shared::redis_conn::Redis;
use grants::{GRANT_HEADER, Grants};
use limits::{Limiter, Limits};
use path::CanonicalPath;
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
    /// `WEB_URL`: the web faces, default `http://127.0.0.1:8085`.
    pub web: String,
}

impl Upstreams {
    fn base(&self, upstream: Upstream) -> &str {
        match upstream {
            Upstream::Auth => &self.auth,
            Upstream::Tenant => &self.tenant,
            Upstream::Catalog => &self.catalog,
            Upstream::Order => &self.order,
            Upstream::Web => &self.web,
        }
    }
}

/// The gateway's settings, from the environment.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// `BIND`, default `127.0.0.1:8080`.
    pub bind: String,
    /// `AUTH_URL`, `TENANT_URL`, `CATALOG_URL`, `ORDER_URL`, `WEB_URL`.
    pub upstreams: Upstreams,
    /// `REDIS_URL`, where the rate limits are counted.
    pub redis_url: String,
    /// `REDIS_PREFIX`, default `caravan`.
    pub redis_prefix: String,
    /// `TRUSTED_PROXIES`: load balancers in front whose `X-Forwarded-For` is
    /// believed (addresses or CIDR blocks); empty by default: the peer is the client.
    pub trusted_proxies: TrustedProxies,
    /// `JWT_ISSUER` and `JWT_AUDIENCE`: what a bearer token must say to earn its own
    /// rate-limit allowance (it is verified against the auth service's keys).
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// `RATE_LIMIT_ANONYMOUS`, `RATE_LIMIT_AUTHENTICATED`: requests per minute.
    pub limits: Limits,
    /// `UPSTREAM_TIMEOUT_MS`: how long the gateway waits for a service's answer
    /// ([`DEFAULT_UPSTREAM_TIMEOUT`]); it tells the service so in `Request-Timeout`,
    /// and answers 503 `busy` with `Retry-After` when the time is up.
    pub upstream_timeout: Duration,
}

/// How long the gateway waits for a service by default: less than Caravan's own
/// clients wait for the gateway (15 s, the web faces and the `caravan-client` SDK),
/// more than a service needs to shed a request it cannot serve in time (its database
/// pool gives up after 5 s, the order service's call to the catalog after 8 s). See
/// README, "Slow is not down".
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(12);

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
                web: url("WEB_URL", 8085)?,
            },
            redis_url: config::url_setting(
                source,
                "REDIS_URL",
                "redis://127.0.0.1:6379",
                &["redis", "rediss"],
            )?,
            redis_prefix: config::setting(source, "REDIS_PREFIX", "caravan".to_owned())?,
            trusted_proxies: config::setting(source, "TRUSTED_PROXIES", TrustedProxies::default())?,
            jwt_issuer: config::setting(source, "JWT_ISSUER", "caravan-auth".to_owned())?,
            jwt_audience: config::setting(source, "JWT_AUDIENCE", "caravan".to_owned())?,
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
            upstream_timeout: config::millis_setting(
                source,
                "UPSTREAM_TIMEOUT_MS",
                DEFAULT_UPSTREAM_TIMEOUT,
                deadline::MAX_REQUEST_TIMEOUT,
            )?,
        })
    }
}

struct Gateway {
    upstreams: Upstreams,
    http: reqwest::Client,
    upstream_timeout: Duration,
    limiter: Limiter,
    trusted_proxies: TrustedProxies,
    grants: Grants,
}

/// Headers a client might use to claim an address, a host, a scheme or a route of
/// its choosing: the gateway writes its own or none, never passes the client's on.
const CLAIMS: &[&str] = &[
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-forwarded-server",
    "x-real-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-original-url",
    "x-rewrite-url",
    "x-original-uri",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    // Passed on once, below (the services check that it is a reasonable id).
    "x-request-id",
    // Replaced by the gateway's own wait, or the client's when that is shorter.
    deadline::REQUEST_TIMEOUT_HEADER,
    GATEWAY_HEADER,
    // Issued by the gateway to the web tier only.
    GRANT_HEADER,
];

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
    let client = gateway.trusted_proxies.client_of(&request);
    let standing = if granted(&gateway, &request, client) {
        None
    } else {
        gateway.limiter.count(&request, client).await
    };
    let mut response = match standing {
        Some(standing) if standing.exceeded => {
            ApiError::too_many_requests(standing.reset).error_response()
        }
        _ => forward(&gateway, &request, client, body)
            .await
            .unwrap_or_else(|error| error.error_response()),
    };
    if let Some(standing) = standing {
        standing.write(response.headers_mut());
    }
    response
}

/// Whether the request is one of the API calls behind a page the gateway counted
/// already: from a trusted proxy (the web tier), for the visitor the grant names.
fn granted(gateway: &Gateway, request: &HttpRequest, client: Option<std::net::IpAddr>) -> bool {
    let from_proxy = request
        .peer_addr()
        .is_some_and(|peer| gateway.trusted_proxies.contains(peer.ip()));
    let grant = request
        .headers()
        .get(GRANT_HEADER)
        .and_then(|value| value.to_str().ok());
    match (from_proxy, grant, client) {
        (true, Some(grant), Some(client)) => gateway.grants.valid(grant, client),
        _ => false,
    }
}

async fn forward(
    gateway: &Gateway,
    request: &HttpRequest,
    client: Option<std::net::IpAddr>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let path = CanonicalPath::parse(request.uri().path()).map_err(|refusal| {
        if refusal.is_malformed() {
            ApiError::bad_request(refusal.to_string())
        } else {
            ApiError::not_found("no such resource")
        }
    })?;
    let Some(upstream) = route(path.decoded()) else {
        return Err(ApiError::not_found("no such resource"));
    };
    let target = target_url(
        gateway.upstreams.base(upstream),
        &path,
        request.uri().query(),
    )?;
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
        .map_err(|_| ApiError::method_not_allowed())?;
    let mut outgoing = gateway.http.request(method, target);
    // Headers the client names in `Connection` are for this hop only (RFC 9110 7.6.1).
    let named_by_connection: Vec<String> = request
        .headers()
        .get_all("connection")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    for (name, value) in request.headers() {
        let lower = name.as_str();
        if HOP_BY_HOP.contains(&lower)
            || CLAIMS.contains(&lower)
            || named_by_connection.iter().any(|named| named == lower)
        {
            continue;
        }
        outgoing = outgoing.header(name.as_str(), value.as_bytes());
    }
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let (host, scheme) = origin(gateway, request);
    if let Some(client) = client {
        outgoing = outgoing.header("x-forwarded-for", client.to_string());
    }
    if let Some(host) = host {
        outgoing = outgoing.header("x-forwarded-host", host);
    }
    if let (Upstream::Web, Some(client)) = (upstream, client) {
        outgoing = outgoing.header(GRANT_HEADER, gateway.grants.issue(client));
    }
    // The service is told how long this hop waits (a client may ask for less), and
    // gives up a little earlier with 503 `busy`, so the gateway rarely times out itself.
    let wait = request
        .headers()
        .get(deadline::REQUEST_TIMEOUT_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(deadline::parse)
        .map_or(gateway.upstream_timeout, |asked| {
            asked.min(gateway.upstream_timeout)
        });
    outgoing = outgoing
        .header("x-forwarded-proto", scheme)
        .header(GATEWAY_HEADER, "1")
        .header("x-request-id", request_id.as_str())
        .header(
            deadline::REQUEST_TIMEOUT_HEADER,
            deadline::header_value(wait),
        )
        .timeout(wait)
        .body(body);
    let answer = outgoing
        .send()
        .await
        .map_err(|error| upstream_failed(upstream, &error))?;
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(answer.status().as_u16())
            .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY),
    );
    for (name, value) in answer.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            response.append_header((name.as_str(), value.as_bytes()));
        }
    }
    let bytes = answer
        .bytes()
        .await
        .map_err(|error| upstream_failed(upstream, &error))?;
    Ok(response.body(bytes))
}

/// The answer when a service gave none: 503 with `Retry-After` either way, `busy`
/// when it was too slow (it is up), "cannot be reached" only when it is not there.
/// The service's address and the client's error stay in the log.
fn upstream_failed(upstream: Upstream, error: &reqwest::Error) -> ApiError {
    let name = upstream.name();
    if error.is_timeout() {
        tracing::warn!(%error, upstream = ?upstream, "upstream too slow");
        ApiError::busy(format!("the {name} service is busy; try again in a moment"))
    } else {
        tracing::warn!(%error, upstream = ?upstream, "upstream unreachable");
        ApiError::unavailable(format!(
            "the {name} service cannot be reached; try again shortly"
        ))
        .with_retry_after(1)
    }
}

/// The service URL for a routed path: exactly the path that was routed, checked
/// after the URL is built, since URL parsers normalise paths of their own accord.
fn target_url(
    base: &str,
    path: &CanonicalPath,
    query: Option<&str>,
) -> Result<reqwest::Url, ApiError> {
    let mut target = reqwest::Url::parse(base)
        .map_err(|error| ApiError::internal(anyhow::anyhow!("upstream URL {base:?}: {error}")))?;
    target.set_path(path.raw());
    target.set_query(query);
    if target.path() != path.raw() {
        tracing::error!(
            path = path.raw(),
            built = target.path(),
            "path changed on the way out; refused"
        );
        return Err(ApiError::not_found("no such resource"));
    }
    Ok(target)
}

/// The host and scheme the client used: from a trusted proxy's `X-Forwarded-Host`
/// and `X-Forwarded-Proto`, else the `Host` header and plain HTTP (the gateway
/// itself does not terminate TLS).
fn origin(gateway: &Gateway, request: &HttpRequest) -> (Option<String>, String) {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let from_proxy = request
        .peer_addr()
        .is_some_and(|peer| gateway.trusted_proxies.contains(peer.ip()));
    if from_proxy {
        let scheme = header("x-forwarded-proto")
            .filter(|scheme| scheme == "https" || scheme == "http")
            .unwrap_or_else(|| "http".to_owned());
        (
            header("x-forwarded-host").or_else(|| header("host")),
            scheme,
        )
    } else {
        (header("host"), "http".to_owned())
    }
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
    // In tests that run it in-process, the port was reserved ahead: serve on that.
    let listener = match caravan_shared::service::reserved_listener(&settings.bind) {
        Some(listener) => listener,
        None => {
            TcpListener::bind(&settings.bind).with_context(|| format!("BIND {}", settings.bind))?
        }
    };
    let port = listener.local_addr()?.port();
    let redis = Redis::new(&settings.redis_url, &settings.redis_prefix)?;
    let verifier = JwksVerifier::new(
        &settings.upstreams.auth,
        &settings.jwt_issuer,
        &settings.jwt_audience,
    )?;
    let gateway = web::Data::new(Gateway {
        limiter: Limiter::new(redis, settings.limits, verifier),
        trusted_proxies: settings.trusted_proxies,
        grants: Grants::new(),
        upstreams: settings.upstreams,
        upstream_timeout: settings.upstream_timeout,
        http: reqwest::Client::builder()
            .timeout(settings.upstream_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
    });
    let contract: serde_json::Value =
        serde_json::from_str(CONTRACT).context("openapi/caravan.json")?;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(
                caravan_shared::http::security_headers,
            ))
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
    .keep_alive(caravan_shared::http::SERVER_KEEP_ALIVE)
    .tcp_nodelay(true)
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
    let started = build(settings).map(|running| (running.port, running.server));
    caravan_shared::service::serve("caravan-gateway", started).await
}
