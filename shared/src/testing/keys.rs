//! Signing keys for tests, their JWKS served over real HTTP, and the secrets tests
//! run with.

use crate::identity::{Claims, Role, SigningKey, TokenSigner};
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;

/// Signing keys for tests, with their JWKS served over real HTTP.
pub struct TestKeys {
    /// Issues tokens the services under test accept.
    pub signer: TokenSigner,
    /// The key behind `signer`.
    pub key: SigningKey,
    /// Base URL serving `/.well-known/jwks.json` (use as `AUTH_URL`).
    pub auth_url: String,
    server: actix_web::dev::ServerHandle,
}

/// Issuer of test tokens.
pub const TEST_ISSUER: &str = "caravan-auth";
/// Audience of test tokens.
pub const TEST_AUDIENCE: &str = "caravan";

impl TestKeys {
    /// A fresh key and a JWKS server on a random port.
    pub async fn start() -> anyhow::Result<Self> {
        let key = SigningKey::generate()?;
        let signer = TokenSigner::new(key.clone(), Vec::new(), TEST_ISSUER, TEST_AUDIENCE);
        let jwks = serde_json::to_value(signer.jwks())?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let token_signer = signer.clone();
        let server = HttpServer::new(move || {
            let jwks = jwks.clone();
            let token_signer = token_signer.clone();
            App::new()
                .route(
                    "/.well-known/jwks.json",
                    web::get().to(move || {
                        let jwks = jwks.clone();
                        async move { HttpResponse::Ok().json(jwks) }
                    }),
                )
                .route(
                    "/v1/auth/token",
                    web::post().to(move |grant: web::Json<serde_json::Value>| {
                        let signer = token_signer.clone();
                        async move { service_token(&signer, &grant) }
                    }),
                )
        })
        .workers(1)
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self {
            signer,
            key,
            auth_url: format!("http://127.0.0.1:{port}"),
            server: handle,
        })
    }

    /// A signed token for any claims.
    pub fn token(&self, claims: &Claims) -> String {
        self.signer.sign(claims).unwrap_or_default()
    }

    /// A platform operator's token.
    pub fn operator(&self) -> String {
        self.token(&self.signer.claims(
            &uuid::Uuid::now_v7().to_string(),
            None,
            Role::PlatformAdmin,
            &[],
        ))
    }

    /// A token for a user of `role` in `tenant` with `scopes`.
    pub fn member(&self, tenant: uuid::Uuid, role: Role, scopes: &[&str]) -> String {
        self.token(&self.signer.claims(
            &uuid::Uuid::now_v7().to_string(),
            Some(tenant),
            role,
            scopes,
        ))
    }

    /// A Caravan service's token.
    pub fn service(&self, name: &str) -> String {
        self.token(
            &self
                .signer
                .claims(&format!("service:{name}"), None, Role::Service, &[]),
        )
    }
}

/// The client-credentials grant for services, as the auth service answers it.
fn service_token(signer: &TokenSigner, grant: &serde_json::Value) -> HttpResponse {
    let client_id = grant["client_id"].as_str().unwrap_or_default();
    let accepted = grant["grant_type"] == "client_credentials"
        && client_id.starts_with("service:")
        && grant["client_secret"] == test_service_secret();
    if !accepted {
        return HttpResponse::Unauthorized().finish();
    }
    let claims = signer.claims(client_id, None, Role::Service, &[]);
    HttpResponse::Ok().json(serde_json::json!({
        "access_token": signer.sign(&claims).unwrap_or_default(),
        "token_type": "Bearer",
        "expires_in": signer.ttl_secs(),
    }))
}

/// The service secret test services use: random, made once per test process, so no
/// test depends on a value anybody could have read.
pub fn test_service_secret() -> &'static str {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET.get_or_init(crate::config::generate_secret)
}

/// The auth service's `SIGNING_KEY_ENCRYPTION_KEY` in tests: 32 random bytes in
/// base64, made once per test process.
pub fn test_signing_key_encryption_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        use base64::Engine;
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    })
}

impl Drop for TestKeys {
    fn drop(&mut self) {
        let handle = self.server.clone();
        // Stopping is async; ask for it and let the runtime finish it.
        drop(tokio::spawn(async move { handle.stop(false).await }));
    }
}
