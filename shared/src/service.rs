//! What every service runs on: its context (settings, database, Redis, metrics, token
//! verifier) and its HTTP application with the common endpoints — `/healthz`,
//! `/readyz`, `/metrics`, `/openapi.json` and offline API docs at `/docs`.

use crate::cache::Notifications;
use crate::config::{ServiceName, Settings};
use crate::db::{self, ServiceMigrations};
use crate::error::ApiError;
use crate::events::consumer::{Consumer, ConsumerMetrics, EventHandler, Subscription};
use crate::events::relay::{Relay, RelayMetrics};
use crate::events::{self, feed};
use crate::http;
use crate::identity::JwksVerifier;
use crate::identity::service_token::ServiceTokens;
use crate::metrics::{self, Metrics};
use crate::redis_conn::Redis;
use crate::shops::Shops;
use crate::telemetry::{self, RequestSpan};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, get, web};
use anyhow::Context;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tracing_actix_web::TracingLogger;
use utoipa::openapi::security::{HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::SwaggerUi;

/// Everything a running service instance holds.
#[derive(Clone)]
pub struct ServiceContext {
    /// Its settings.
    pub settings: Settings,
    /// Its database, as the runtime role.
    pub db: DatabaseConnection,
    /// The shops as this service knows them, held in memory (the shop check of
    /// every request reads them here).
    pub shops: Shops,
    /// The database's notifications, for the caches of this process: one
    /// connection for all of them.
    pub notifications: Notifications,
    /// Redis, under this deployment's prefix.
    pub redis: Redis,
    /// Its metrics registry.
    pub metrics: Metrics,
    /// Verifies access tokens against the auth service's JWKS.
    pub verifier: web::Data<JwksVerifier>,
    /// This service's own token, for calling other services.
    pub tokens: Arc<ServiceTokens>,
    consumer_metrics: ConsumerMetrics,
    handlers: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<dyn EventHandler>>>>,
    /// Set once the process was told to stop: readiness answers 503 from then on.
    stopping: Arc<AtomicBool>,
}

impl ServiceContext {
    /// Provisions and migrates the service's database, prepares Redis and the token
    /// verifier.
    pub async fn start<S: ServiceMigrations>(settings: Settings) -> anyhow::Result<Self> {
        let db = db::provision_pool::<S>(
            &settings.migration_database_url,
            &settings.database_url,
            settings.pool(),
            settings
                .database_capacity_check
                .then(|| settings.connections_needed()),
        )
        .await?;
        let redis = Redis::new(&settings.redis_url, &settings.redis_prefix).context("REDIS_URL")?;
        let metrics = Metrics::new(settings.service.as_str())?;
        let verifier = JwksVerifier::new(
            &settings.auth_url,
            &settings.jwt_issuer,
            &settings.jwt_audience,
        )?;
        let tokens = ServiceTokens::new(
            &settings.auth_url,
            &settings.service_client_id,
            &settings.service_client_secret,
        )?;
        let relay = Relay::new(
            &settings.database_url,
            redis.clone(),
            events::channel(&settings.redis_prefix, settings.service.as_str()),
            RelayMetrics::register(&metrics.registry)?,
        );
        relay.spawn();
        let consumer_metrics = ConsumerMetrics::register(&metrics.registry)?;
        let notifications = Notifications::new(&settings.database_url);
        let shops = Shops::new(db.clone());
        shops.listen(&notifications);
        Ok(Self {
            settings,
            db,
            shops,
            notifications,
            redis,
            metrics,
            verifier: web::Data::new(verifier),
            tokens: Arc::new(tokens),
            consumer_metrics,
            handlers: Arc::default(),
            stopping: Arc::default(),
        })
    }

    /// Sends the mail this service queues ([`crate::mail::enqueue`]), in the background.
    pub fn send_mail(&self) -> anyhow::Result<()> {
        crate::mail::MailSender::new(
            self.db.clone(),
            &self.settings.database_url,
            &self.settings.smtp_url,
            &self.settings.mail_from,
            &self.metrics.registry,
        )?
        .spawn();
        Ok(())
    }

    /// Runs the retention rules of every service and `own`, a minute after start and
    /// every `RETENTION_INTERVAL_SECS`, in the background ([`crate::retention`]).
    pub fn keep_only_while_needed(&self, own: &[crate::retention::Rule]) -> anyhow::Result<()> {
        crate::retention::Retention::new(
            &self.settings,
            self.db.clone(),
            own,
            &self.metrics.registry,
        )?
        .spawn();
        Ok(())
    }

    /// Handles the events of `producer` with `handler`, in the background.
    pub fn subscribe(
        &self,
        producer: ServiceName,
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        let consumer = Arc::new(Consumer::new(
            self.db.clone(),
            self.redis.client().clone(),
            self.tokens.clone(),
            self.consumer_metrics.clone(),
        )?);
        if let Ok(mut handlers) = self.handlers.lock() {
            handlers.insert(producer.as_str().to_owned(), handler.clone());
        }
        consumer.spawn(Subscription {
            producer: producer.as_str().to_owned(),
            channel: events::channel(&self.settings.redis_prefix, producer.as_str()),
            feed_url: self.settings.url_of(producer).to_owned(),
            handler,
        });
        Ok(())
    }
}

impl ServiceContext {
    /// The handler of `producer`'s events, if this service consumes them.
    pub fn handler_for(&self, producer: &str) -> Option<Arc<dyn EventHandler>> {
        self.handlers
            .lock()
            .ok()
            .and_then(|handlers| handlers.get(producer).cloned())
    }
}

/// Title and description of a service's OpenAPI document.
#[derive(Debug, Clone, Copy)]
pub struct ApiInfo {
    /// Document title.
    pub title: &'static str,
    /// What the service does, for integrators.
    pub description: &'static str,
}

fn base_document(info: ApiInfo) -> OpenApi {
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(info.title)
                .description(Some(info.description))
                .license(Some(
                    utoipa::openapi::LicenseBuilder::new()
                        .name("Apache-2.0")
                        .identifier(Some("Apache-2.0"))
                        .build(),
                ))
                .version(env!("CARGO_PKG_VERSION")),
        )
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(
                        utoipa::openapi::security::HttpBuilder::new()
                            .scheme(HttpAuthScheme::Bearer)
                            .bearer_format("JWT")
                            .description(Some(
                                "An access token from POST /v1/auth/login or POST /v1/auth/token",
                            ))
                            .build(),
                    ),
                )
                .schema_from::<crate::error::Problem>()
                .schema_from::<crate::error::FieldError>()
                .build(),
        ))
        .build()
}

/// Liveness.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Which service answered.
    #[schema(example = "catalog")]
    pub service: &'static str,
}

/// Readiness: whether the service's dependencies answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` when every check is `up`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// PostgreSQL: `up` or `down`.
    #[schema(example = "up")]
    pub database: &'static str,
    /// Redis: `up` or `down`.
    #[schema(example = "up")]
    pub redis: &'static str,
}

/// Is the process alive?
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The process answers", body = Health))
)]
#[get("/healthz")]
async fn healthz(context: web::Data<ServiceContext>) -> web::Json<Health> {
    web::Json(Health {
        status: "ok",
        service: context.settings.service.as_str(),
    })
}

/// Can the service do its work? Checks PostgreSQL and Redis on every call.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "PostgreSQL and Redis answer", body = Readiness),
        (status = 503, description = "A dependency is down", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
async fn readyz(context: web::Data<ServiceContext>) -> Result<web::Json<Readiness>, ApiError> {
    if context.stopping.load(Ordering::SeqCst) {
        return Err(ApiError::unavailable("the service is stopping"));
    }
    let (database, redis) = tokio::join!(db::ping(&context.db), context.redis.ping());
    let word = |up: bool| if up { "up" } else { "down" };
    if database && redis {
        Ok(web::Json(Readiness {
            status: "ready",
            database: "up",
            redis: "up",
        }))
    } else {
        Err(ApiError::unavailable(format!(
            "database {}, redis {}",
            word(database),
            word(redis)
        )))
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Metrics", content_type = "text/plain", body = String))
)]
#[get("/metrics")]
async fn metrics_text(context: web::Data<ServiceContext>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(context.metrics.render())
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/docs/"))
        .finish()
}

/// The endpoints every service has.
fn common_routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    app.service(healthz)
        .service(readyz)
        .service(metrics_text)
        .service(feed::feed)
        .service(events::parked::list)
        .service(events::parked::retry)
        .service(crate::operations::status)
}

/// A service's OpenAPI document, as its `/openapi.json` serves it, without running
/// it (for the committed contract in `openapi/`).
pub fn openapi_document<F>(info: ApiInfo, routes: F) -> OpenApi
where
    F: Fn(&mut ServiceConfig),
{
    let (_, mut document) =
        common_routes(App::new().into_utoipa_app().openapi(base_document(info)))
            .configure(routes)
            .split_for_parts();
    finish_document(&mut document);
    document
}

/// Makes every operation's id unique across the platform (`<tag>_<handler>`, e.g.
/// `carts_create`) and states the security of public operations explicitly (none).
fn finish_document(document: &mut OpenApi) {
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            let tag = operation
                .tags
                .as_ref()
                .and_then(|tags| tags.first())
                .map(|tag| tag.replace([' ', '-'], "_"));
            if let (Some(tag), Some(id)) = (tag, operation.operation_id.as_mut())
                && !id.starts_with(&format!("{tag}_"))
            {
                *id = format!("{tag}_{id}");
            }
            if operation.security.is_none() {
                operation.security = Some(Vec::new());
            }
            document_common_errors(operation);
        }
    }
}

/// Adds the error answers every operation of its kind can give, where the operation
/// does not describe them itself: the shared extractors and middleware answer them.
fn document_common_errors(operation: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::path::{Parameter, ParameterIn};
    use utoipa::openapi::{RefOr, ResponseBuilder, content::ContentBuilder};
    let parameters: Vec<&Parameter> = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|parameter| match parameter {
            RefOr::T(parameter) => Some(parameter),
            RefOr::Ref(_) => None,
        })
        .collect();
    let has_path = parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let has_query = parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let has_body = operation.request_body.is_some();
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let mut common: Vec<(&str, &str)> = Vec::new();
    if has_body {
        common.push(("400", "The body could not be read (malformed JSON)"));
        common.push(("413", "The body is larger than the service accepts"));
        common.push(("415", "The body is not in the documented content type"));
    }
    if has_body || has_query || has_path {
        common.push(("422", "A value is invalid; `errors` names the field"));
    }
    if secured {
        common.push(("401", "No valid access token"));
        common.push(("403", "The token does not allow this"));
    }
    if has_path {
        common.push((
            "404",
            "No such resource (another shop's objects are not disclosed)",
        ));
    }
    for (status, description) in common {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            crate::error::PROBLEM_JSON,
                            ContentBuilder::new()
                                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                    "Problem",
                                ))))
                                .build(),
                        )
                        .build(),
                )
            });
    }
    // A dependency unavailable, or the service busy: 503 with `Retry-After`.
    operation
        .responses
        .responses
        .entry("503".to_owned())
        .or_insert_with(crate::deadline::documented_unavailable);
}

/// A running HTTP application.
pub struct Application {
    port: u16,
    server: Server,
    stopping: Arc<AtomicBool>,
    drain: Duration,
}

/// How long a stopping service keeps serving with readiness at 503 by default, so
/// load balancers stop sending it requests before its listener closes
/// (`SHUTDOWN_DRAIN_MS`).
pub const DEFAULT_SHUTDOWN_DRAIN: Duration = Duration::from_secs(5);

/// SIGTERM (an orchestrator stopping the process) or Ctrl-C.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The listener on `BIND`: in tests, the one the harness reserved for it.
fn listen(bind: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    #[cfg(feature = "testing")]
    if let Some(listener) = crate::testing::take_reserved(bind) {
        return Ok(listener);
    }
    TcpListener::bind(bind).with_context(|| format!("BIND {bind} is not available"))
}

/// The listener the test harness reserved for `bind`
/// ([`reserve_ports`](crate::testing::reserve_ports)), for a server that binds its
/// own address (the gateway, the web faces) when a test runs it in-process; always
/// `None` without the `testing` feature, so production binds as it always did.
#[cfg(feature = "testing")]
pub fn reserved_listener(bind: &str) -> Option<TcpListener> {
    crate::testing::take_reserved(bind.parse().ok()?)
}

/// The listener the test harness reserved for `bind`: none, outside tests.
#[cfg(not(feature = "testing"))]
pub fn reserved_listener(_bind: &str) -> Option<TcpListener> {
    None
}

impl Application {
    /// Binds the service's address and builds its app: the common endpoints, the
    /// middleware (security headers, request id, logs, metrics, problem responses)
    /// and `routes`.
    pub fn serve<F>(context: &ServiceContext, info: ApiInfo, routes: F) -> anyhow::Result<Self>
    where
        F: Fn(&mut ServiceConfig) + Send + Clone + 'static,
    {
        let settings = &context.settings;
        let listener = listen(settings.bind)?;
        let port = listener.local_addr()?.port();
        let context_data = web::Data::new(context.clone());
        let metrics_data = web::Data::new(context.metrics.clone());
        let verifier = context.verifier.clone();
        let body_limit = settings.body_limit;
        let drain = Duration::from_millis(crate::config::setting(
            &*settings.source.0,
            "SHUTDOWN_DRAIN_MS",
            u64::try_from(DEFAULT_SHUTDOWN_DRAIN.as_millis()).unwrap_or(u64::MAX),
        )?);
        let server = HttpServer::new(move || {
            let (app, mut document) = common_routes(
                App::new()
                    .into_utoipa_app()
                    .openapi(base_document(info))
                    .app_data(context_data.clone())
                    .app_data(metrics_data.clone())
                    .app_data(verifier.clone())
                    .map(|app| {
                        app.configure(|config| http::configure_extractors(config, body_limit))
                    }),
            )
            .configure(routes.clone())
            .split_for_parts();
            finish_document(&mut document);
            let methods = web::Data::new(http::RouteMethods::from_document(&document));
            app.app_data(methods)
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", document))
                .route("/docs", web::get().to(docs_redirect))
                .default_service(web::to(http::no_route))
                .wrap(from_fn(crate::deadline::honour))
                .wrap(from_fn(http::undeclared_method))
                .wrap(from_fn(http::internal_stays_internal))
                .wrap(http::problem_responses())
                .wrap(from_fn(metrics::record))
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(from_fn(telemetry::request_id))
                // Outermost, so every answer carries them, errors included.
                .wrap(from_fn(http::security_headers))
        })
        .keep_alive(http::SERVER_KEEP_ALIVE)
        // Answers go out at once, whatever the client's ACKs are doing.
        .tcp_nodelay(true)
        .listen(listener)?
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        // Stopping is ours (`run_until_stopped`): readiness goes first.
        .disable_signals()
        .run();
        Ok(Self {
            port,
            server,
            stopping: context.stopping.clone(),
            drain,
        })
    }

    /// The port the application listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is told to stop (SIGTERM or Ctrl-C). Then readiness
    /// answers 503 while requests are still served for `SHUTDOWN_DRAIN_MS`, so load
    /// balancers take the instance out first; then the listener closes and requests
    /// in flight get `SHUTDOWN_TIMEOUT_SECS` to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        tokio::select! {
            stopped = &mut server => return stopped,
            () = stop_requested() => {}
        }
        self.stopping.store(true, Ordering::SeqCst);
        tracing::info!(
            drain_ms = self.drain.as_millis(),
            "stopping: readiness answers 503, then the listener closes"
        );
        let stop = async {
            tokio::time::sleep(self.drain).await;
            handle.stop(true).await;
        };
        let (stopped, ()) = tokio::join!(server, stop);
        stopped
    }
}

/// The whole `main` of a service: settings from the environment, logs, build, serve.
/// A bad setting or a failed start ends the process with one line saying why.
pub async fn run<B, Fut>(service: ServiceName, build: B) -> std::process::ExitCode
where
    B: FnOnce(Settings) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Application>>,
{
    let settings = match Settings::from_env(service) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("caravan-{service}: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let started = build(settings)
        .await
        .map(|application| (application.port(), application.run_until_stopped()));
    serve(&format!("caravan-{service}"), started).await
}

/// The end of every server's `main`: a server that started is served until it
/// stops; a failed start or a server that broke off ends the process with one line
/// saying why.
pub async fn serve<F>(name: &str, started: anyhow::Result<(u16, F)>) -> std::process::ExitCode
where
    F: std::future::Future<Output = std::io::Result<()>>,
{
    let (port, server) = match started {
        Ok(started) => started,
        Err(error) => {
            eprintln!("{name}: cannot start: {error:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(port, "{name} listening");
    match server.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: stopped: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A service's `main`: with the single argument `migrate` it provisions and migrates
/// the database and exits (a deployment's migration job); otherwise it [`run`]s.
pub async fn main<S, B, Fut>(service: ServiceName, build: B) -> std::process::ExitCode
where
    S: ServiceMigrations,
    B: FnOnce(Settings) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Application>>,
{
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => run(service, build).await,
        ["migrate"] => match migrate::<S>(service).await {
            Ok(()) => {
                println!("caravan-{service}: database migrated");
                std::process::ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("caravan-{service} migrate: {error:#}");
                std::process::ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: caravan-{service} [migrate]");
            std::process::ExitCode::from(2)
        }
    }
}

/// Provisions and migrates `service`'s database with settings from the environment.
pub async fn migrate<S: ServiceMigrations>(service: ServiceName) -> anyhow::Result<()> {
    let settings = Settings::from_env(service)?;
    let db =
        db::provision::<S>(&settings.migration_database_url, &settings.database_url, 1).await?;
    db.close().await?;
    Ok(())
}
