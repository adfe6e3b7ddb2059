//! A service's own access token, from the auth service's client-credentials grant,
//! cached until shortly before it expires.

use anyhow::Context;
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

/// Fetches and caches this service's token for calls to other services.
pub struct ServiceTokens {
    token_url: String,
    client_id: String,
    client_secret: String,
    http: reqwest::Client,
    cached: Mutex<Option<(String, Instant)>>,
}

impl ServiceTokens {
    /// Tokens from `{auth_url}/v1/auth/token` for `client_id`.
    pub fn new(auth_url: &str, client_id: &str, client_secret: &str) -> anyhow::Result<Self> {
        Ok(Self {
            token_url: format!("{}/v1/auth/token", auth_url.trim_end_matches('/')),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
            cached: Mutex::new(None),
        })
    }

    /// A valid bearer token, fetched when the cached one is missing or about to expire.
    pub async fn bearer(&self) -> anyhow::Result<String> {
        let mut cached = self.cached.lock().await;
        if let Some((token, refresh_at)) = cached.as_ref()
            && Instant::now() < *refresh_at
        {
            return Ok(token.clone());
        }
        let answer: TokenAnswer = self
            .http
            .post(&self.token_url)
            .json(&serde_json::json!({
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .context("requesting a service token")?
            .json()
            .await
            .context("reading the service token")?;
        // Renew a minute early (or halfway, for short-lived tokens).
        let lifetime = Duration::from_secs(answer.expires_in);
        let margin = Duration::from_secs(60).min(lifetime / 2);
        *cached = Some((
            answer.access_token.clone(),
            Instant::now() + lifetime - margin,
        ));
        Ok(answer.access_token)
    }

    /// Forgets the cached token (after a 401).
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}
