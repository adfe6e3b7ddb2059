//! Access-token verification against the auth service's JWKS.

use super::{Claims, Principal};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

/// Why a token was refused. Callers see only "invalid token"; the reason is logged.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No usable bearer token.
    #[error("missing bearer token")]
    Missing,
    /// The header is unreadable or names an algorithm other than EdDSA.
    #[error("token header refused: {0}")]
    Header(String),
    /// No published key has this id, even after refreshing the JWKS.
    #[error("unknown signing key {0:?}")]
    UnknownKey(String),
    /// Signature, expiry, issuer, audience or claims failed.
    #[error("token refused: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    /// The JWKS could not be fetched.
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
}

/// How long fetched keys are trusted before they are fetched again.
const KEYS_MAX_AGE: Duration = Duration::from_secs(300);

/// Clock skew allowed between the auth service and a verifier, in seconds, on `exp`
/// and `nbf`.
pub const LEEWAY_SECS: u64 = 30;

/// Verifies access tokens with the keys the auth service publishes.
///
/// Keys are fetched once and cached; a token signed with an unknown `kid` triggers a
/// refresh (at most one per `min_refresh_interval`, one second by default, so forged
/// kids cannot make us hammer the auth service), which is how a key rotation reaches
/// every service.
pub struct JwksVerifier {
    jwks_url: String,
    validation: Validation,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_fetch: Mutex<Option<Instant>>,
    min_refresh_interval: Duration,
}

impl JwksVerifier {
    /// A verifier for tokens issued by `issuer` for `audience`, with keys from
    /// `{auth_url}/.well-known/jwks.json`.
    pub fn new(auth_url: &str, issuer: &str, audience: &str) -> anyhow::Result<Self> {
        // The algorithm is pinned: a token claiming any other (none, HS256 keyed
        // with our public key, ...) fails before its signature is looked at.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // A token not valid yet is refused too (when it says so: `nbf` is optional).
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            jwks_url: format!("{}/.well-known/jwks.json", auth_url.trim_end_matches('/')),
            validation,
            http,
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
            min_refresh_interval: Duration::from_secs(1),
        })
    }

    /// Changes how often an unknown `kid` may trigger a refresh.
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }

    /// Verifies a compact JWS and answers its caller.
    pub async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|error| TokenError::Header(error.to_string()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Header(format!(
                "algorithm {:?} refused",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| TokenError::Header("no kid".to_owned()))?;
        // Unknown kid: a rotation. Stale cache: a key may have been withdrawn.
        let stale = self
            .last_fetch
            .try_lock()
            .ok()
            .and_then(|last| *last)
            .is_some_and(|at| at.elapsed() > KEYS_MAX_AGE);
        if (stale || !self.keys.read().await.contains_key(&kid))
            && let Err(error) = self.refresh(&kid).await
            && !self.keys.read().await.contains_key(&kid)
        {
            return Err(error);
        }
        let keys = self.keys.read().await;
        let key = keys.get(&kid).ok_or(TokenError::UnknownKey(kid.clone()))?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation)?;
        Ok(data.claims.into())
    }

    async fn refresh(&self, wanted_kid: &str) -> Result<(), TokenError> {
        let mut last_fetch = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited for the lock.
        let fresh = last_fetch.is_some_and(|at| at.elapsed() <= KEYS_MAX_AGE);
        if fresh && self.keys.read().await.contains_key(wanted_kid) {
            return Ok(());
        }
        // A key rotated a moment ago must work at once, but unknown kids (forged or
        // not) may cause at most one fetch per interval: wait out the rest of it.
        if let Some(at) = *last_fetch {
            let since = at.elapsed();
            if since < self.min_refresh_interval {
                tokio::time::sleep(self.min_refresh_interval - since).await;
                if self.keys.read().await.contains_key(wanted_kid) {
                    return Ok(());
                }
            }
        }
        *last_fetch = Some(Instant::now());
        let set: JwkSet = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| TokenError::KeysUnavailable(error.to_string()))?
            .json()
            .await
            .map_err(|error| TokenError::KeysUnavailable(error.to_string()))?;
        let mut fresh = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    fresh.insert(kid, key);
                }
                Err(error) => tracing::warn!(%kid, %error, "published key ignored"),
            }
        }
        tracing::info!(keys = fresh.len(), "signing keys refreshed");
        *self.keys.write().await = fresh;
        Ok(())
    }
}
