//! Calls to Caravan's public API through the gateway.

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// A client of the gateway.
#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// A client of the platform at `base` (e.g. `http://localhost:8080`).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request; answers the status and the JSON body (`null` when empty).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.with_context(|| {
            format!(
                "{method} {path}: the platform cannot be reached at {}",
                self.base
            )
        })?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok((status, value))
    }

    /// Sends a request that must succeed (2xx); answers its JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let (status, value) = self.send(method.clone(), path, token, &[], body).await?;
        if !(200..300).contains(&status) {
            bail!("{method} {path} answered {status}: {}", describe(&value));
        }
        Ok(value)
    }

    /// GET that must succeed.
    pub async fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<Value> {
        self.call(Method::GET, path, token, None).await
    }

    /// POST that must succeed.
    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<Value> {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Logs in; answers the access token.
    /// The slugs of the open shops (the public directory).
    pub async fn shop_slugs(&self) -> anyhow::Result<Vec<String>> {
        let page = self.get("/v1/shops?limit=100", None).await?;
        Ok(page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|shop| shop["slug"].as_str().map(str::to_owned))
            .collect())
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
        shop: Option<&str>,
    ) -> anyhow::Result<String> {
        let mut body = json!({"email": email, "password": password});
        if let Some(shop) = shop {
            body["tenant"] = json!(shop);
        }
        let answer = self
            .post("/v1/auth/login", None, &body)
            .await
            .with_context(|| format!("logging in as {email}"))?;
        answer["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("the login answer has no access token")
    }
}

/// A problem answer in one line.
pub fn describe(value: &Value) -> String {
    let mut text = value["detail"]
        .as_str()
        .or(value["title"].as_str())
        .map_or_else(|| value.to_string(), str::to_owned);
    if let Some(errors) = value["errors"].as_array() {
        for error in errors {
            text.push_str(&format!(
                "; {}: {}",
                error["field"].as_str().unwrap_or_default(),
                error["message"].as_str().unwrap_or_default()
            ));
        }
    }
    text
}

/// The commands, for `caravan help`.
pub const USAGE: &str = "\
caravan up [--no-demo]                   run the whole platform with demo data
caravan seed-demo                        create the demo cooperatives (when empty)
caravan openapi write | check            the committed contract in openapi/
caravan tenants list
caravan tenants create NAME SLUG OWNER_EMAIL [PLAN]
caravan applications list
caravan applications approve ID
caravan operators create EMAIL           (password from CARAVAN_NEW_OPERATOR_PASSWORD)
caravan keys rotate
caravan events parked SERVICE            events SERVICE could not handle
caravan events resend SERVICE PRODUCER SEQ";
