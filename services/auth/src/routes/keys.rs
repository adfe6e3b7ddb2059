//! The published signing keys, and their rotation.

use super::AuthState;
use crate::keys::RotationError;
use actix_web::{HttpResponse, get, post, web};
use caravan_shared::ApiError;
use caravan_shared::ErrorCode;
use caravan_shared::error::Problem;
use caravan_shared::identity::Operator;
use serde::Serialize;
use utoipa::ToSchema;

/// The public keys that verify Caravan access tokens (Ed25519, `EdDSA`): the current
/// key and those retired within the last day.
#[utoipa::path(
    tag = "keys",
    responses((status = 200, description = "A JSON Web Key Set", content_type = "application/json",
        body = Object, example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": "C5gT1aQ0xLr2yM8b", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})),
    )
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AuthState>) -> Result<HttpResponse, ApiError> {
    let set = state.keys.jwks().await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=60"))
        .json(set))
}

/// A new signing key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kid": "C5gT1aQ0xLr2yM8b"}))]
pub struct Rotated {
    /// Key id of the new current key.
    #[schema(example = "C5gT1aQ0xLr2yM8b")]
    pub kid: String,
}

/// Generates a new signing key (platform operators). Tokens signed with the previous
/// key keep verifying until they expire.
#[utoipa::path(
    tag = "keys",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Rotated", body = Rotated),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Keys come from configuration", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/keys/rotate")]
pub async fn rotate(
    state: web::Data<AuthState>,
    _operator: Operator,
) -> Result<HttpResponse, ApiError> {
    match state.keys.rotate().await {
        Ok(kid) => Ok(HttpResponse::Created().json(Rotated { kid })),
        Err(RotationError::Configured) => Err(ApiError::conflict(
            ErrorCode::KeysConfigured,
            RotationError::Configured.to_string(),
        )),
        Err(RotationError::Store(error)) => Err(ApiError::internal(error)),
    }
}
