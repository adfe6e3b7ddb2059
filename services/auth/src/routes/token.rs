//! `POST /v1/auth/token`: the OAuth 2.0 client-credentials grant, for third-party app
//! clients (tenant-bound tokens with their scopes) and for Caravan services.

use super::AuthState;
use crate::domain::Scopes;
use crate::store;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use caravan_shared::TenantId;
use caravan_shared::http::{BodyLimit, DEFAULT_BODY_LIMIT, read_body};
use caravan_shared::identity::Role;
use caravan_shared::secrets;
use caravan_shared::tenant_status;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// A token request, as a form (`application/x-www-form-urlencoded`) or JSON.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"grant_type": "client_credentials", "client_id": "cli_6f1d0c2b9a8e7f3d5c4b2a19", "client_secret": "Yz3kP0q8V3bXk0c2F1e9mZ7wR4tY6uI1oP5aS3dF8gH", "scope": "orders:read"}))]
pub struct TokenRequest {
    /// Always `client_credentials`.
    #[schema(required = true, schema_with = grant_type_schema)]
    pub grant_type: Option<String>,
    /// The client id.
    #[schema(required = true, nullable = false, pattern = r"^[^\u0000]+$")]
    pub client_id: Option<String>,
    /// The client secret.
    #[schema(required = true, nullable = false, min_length = 1)]
    pub client_secret: Option<String>,
    /// Optional space-separated subset of the client's scopes.
    #[schema(
        nullable = false,
        pattern = r"^ *((catalog|orders):(read|write)|webhooks:write)?( +((catalog|orders):(read|write)|webhooks:write))* *$"
    )]
    pub scope: Option<String>,
}

/// `grant_type` as documented: the one grant served here. (The field is an `Option` so
/// that a missing or other grant answers OAuth's `unsupported_grant_type`.)
fn grant_type_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["client_credentials"]))
        .description(Some("Always `client_credentials`."))
        .build()
}

/// An issued access token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6IkM1Z3...", "token_type": "Bearer", "expires_in": 900, "scope": "orders:read"}))]
pub struct AccessToken {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Its scopes.
    pub scope: String,
}

/// An OAuth 2.0 error (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "unknown client or wrong secret"}))]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type`,
    /// `invalid_scope` or `unauthorized_client`.
    pub error: String,
    /// What went wrong.
    pub error_description: String,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header(("Cache-Control", "no-store"));
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header(("WWW-Authenticate", "Basic realm=\"caravan\""));
    }
    response.json(OAuthError {
        error: error.to_owned(),
        error_description: description.to_owned(),
    })
}

fn parse(request: &HttpRequest, body: &[u8]) -> Result<TokenRequest, Box<HttpResponse>> {
    let content_type = request
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let parsed = if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(body).map_err(|error| error.to_string())
    } else if content_type.starts_with("application/json") {
        serde_json::from_slice(body).map_err(|error| error.to_string())
    } else {
        Err("send application/x-www-form-urlencoded or application/json".to_owned())
    };
    parsed.map_err(|reason| {
        Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &reason,
        ))
    })
}

/// Issues an access token for client credentials: an app client gets a token for
/// its shop with its scopes (or the subset asked for); a Caravan service gets a
/// service token. Errors follow OAuth 2.0, not problem+json.
#[utoipa::path(
    tag = "tokens",
    // Documented as the OAuth 2.0 form; the same fields are accepted as JSON too.
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded", description = "The OAuth 2.0 token request as a form; the same fields are also accepted as `application/json`."),
    responses(
        (status = 200, description = "Issued", body = AccessToken),
        (status = 400, description = "Malformed request, unsupported grant, scope not granted, or the shop is suspended", body = OAuthError),
        (status = 401, description = "Unknown client, wrong secret or revoked client", body = OAuthError),
    )
)]
#[post("/v1/auth/token")]
pub async fn token(
    request: HttpRequest,
    state: web::Data<AuthState>,
    mut payload: web::Payload,
) -> Result<HttpResponse, caravan_shared::ApiError> {
    let limit = request
        .app_data::<BodyLimit>()
        .map_or(DEFAULT_BODY_LIMIT, |limit| limit.0);
    let body = read_body(&request, &mut payload, limit).await?;
    let grant = match parse(&request, &body) {
        Ok(grant) => grant,
        Err(response) => return Ok(*response),
    };
    if grant.grant_type.as_deref() != Some("client_credentials") {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported here",
        ));
    }
    let (Some(client_id), Some(client_secret)) =
        (grant.client_id.as_deref(), grant.client_secret.as_deref())
    else {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id and client_secret are required",
        ));
    };
    let invalid_client = || {
        oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        )
    };
    let signer = state.keys.signer().await;

    if let Some(service) = client_id.strip_prefix("service:") {
        // Services call from inside the platform; service credentials presented from
        // outside (through the gateway) are refused like wrong ones, leaked or not.
        if caravan_shared::http::through_gateway(&request) {
            tracing::warn!(
                client_id,
                "service credentials presented through the gateway"
            );
            return Ok(invalid_client());
        }
        let expected = secrets::hash(&state.context.settings.service_client_secret);
        let known = caravan_shared::config::ServiceName::ALL
            .iter()
            .any(|name| name.as_str() == service);
        if !known || !secrets::same(&secrets::hash(client_secret), &expected) {
            return Ok(invalid_client());
        }
        let claims = signer.claims(client_id, None, Role::Service, &[]);
        return Ok(issued(
            signer.sign(&claims)?,
            signer.ttl_secs(),
            String::new(),
        ));
    }

    let Some(client) = store::client_by_client_id(&state.context.db, client_id).await? else {
        return Ok(invalid_client());
    };
    if client.revoked_at.is_some()
        || !secrets::same(&secrets::hash(client_secret), &client.secret_hash)
    {
        return Ok(invalid_client());
    }
    let active = tenant_status::current(&state.context.shops, TenantId::from(client.tenant_id))
        .await?
        .is_some_and(|shop| shop.is_active());
    if !active {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the shop is not active",
        ));
    }
    let granted = Scopes::from_stored(client.scopes.clone());
    let scopes: Vec<String> = match grant
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(asked) => {
            let asked: Vec<String> = asked.split_whitespace().map(str::to_owned).collect();
            if !granted.covers(&asked) {
                return Ok(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "the client was not granted every scope asked for",
                ));
            }
            asked
        }
        None => granted.as_slice().to_vec(),
    };
    let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    // The client is the session: revoking it ends its tokens.
    let claims = signer.session_claims(
        client.id,
        &client.client_id,
        Some(client.tenant_id),
        Role::App,
        &scope_refs,
    );
    Ok(issued(
        signer.sign(&claims)?,
        signer.ttl_secs(),
        scopes.join(" "),
    ))
}

fn issued(access_token: String, expires_in: i64, scope: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(AccessToken {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in,
            scope,
        })
}
