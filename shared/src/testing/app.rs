//! A service under test, and the requests tests send it.

use super::{ProducerMigrations, TestDatabase, TestKeys, settings};
use crate::config::{ServiceName, Settings};
use crate::db::{self, ServiceMigrations};

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
