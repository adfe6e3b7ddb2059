//! The auth service's HTTP routes (parse, call, map).

mod accounts;
mod clients;
mod invitations;
mod keys;
mod operations;
mod operators;
mod sessions;
mod staff;
mod token;

use crate::domain::password::{NewPassword, PasswordHashing};
use crate::keys::KeyRing;
use crate::throttle::LoginThrottle;
use actix_web::HttpRequest;
use caravan_shared::identity::{Role, Staff};
use caravan_shared::service::ServiceContext;
use caravan_shared::{ApiError, FieldError};
use std::sync::Arc;
use utoipa::openapi::schema::Object;
use utoipa_actix_web::service_config::ServiceConfig;

pub use sessions::TokenPair;

/// What the auth routes share.
pub struct AuthState {
    /// Database, Redis, settings.
    pub context: ServiceContext,
    /// argon2id.
    pub hashing: PasswordHashing,
    /// Signing keys.
    pub keys: Arc<KeyRing>,
    /// Failed-login counters.
    pub throttle: LoginThrottle,
}

impl AuthState {
    /// The client's address, for throttling.
    pub fn client_address(&self, request: &HttpRequest) -> String {
        caravan_shared::http::client_address(request, &self.context.settings.trusted_proxies)
    }

    /// Ends sessions at once: their access tokens are refused by every service. Call
    /// it before committing the change that ends them, so that when Redis cannot
    /// record it nothing changes and the caller is told to retry (503).
    pub async fn end_sessions(&self, sessions: &[uuid::Uuid]) -> Result<(), ApiError> {
        caravan_shared::identity::sessions::end(&self.context.redis, sessions)
            .await
            .map_err(|error| {
                tracing::error!(error = %format!("{error:#}"), "sessions could not be ended");
                ApiError::unavailable("the session could not be ended right now; try again")
            })
    }

    /// Runs argon2 on the blocking pool, off the async workers.
    pub async fn hash_password(&self, password: &str) -> Result<String, ApiError> {
        let hashing = self.hashing.clone();
        let password = password.to_owned();
        actix_web::web::block(move || hashing.hash(&password))
            .await
            .map_err(|error| ApiError::internal(anyhow::anyhow!("blocking pool: {error}")))?
            .map_err(ApiError::internal)
    }

    /// Verifies on the blocking pool; without a stored hash, takes as long and fails.
    pub async fn verify_password(
        &self,
        password: &str,
        stored: Option<String>,
    ) -> Result<bool, ApiError> {
        let hashing = self.hashing.clone();
        let password = password.to_owned();
        actix_web::web::block(move || hashing.verify(&password, stored.as_deref()))
            .await
            .map_err(|error| ApiError::internal(anyhow::anyhow!("blocking pool: {error}")))
    }
}

/// A new password as documented: the policy of [`NewPassword`].
pub(crate) fn new_password_schema() -> Object {
    NewPassword::schema()
        .description(Some("10 to 256 characters, not a common password."))
        .build()
}

/// Lets only the shop's owner through; anyone else acting in the shop gets 403 with
/// `detail`.
pub(crate) fn owner_only(staff: &Staff, detail: &'static str) -> Result<(), ApiError> {
    if staff.principal.role == Role::Owner {
        Ok(())
    } else {
        Err(ApiError::forbidden(detail))
    }
}

/// The account of a person acting in a shop.
pub(crate) fn account_of(staff: &Staff) -> Result<uuid::Uuid, ApiError> {
    staff
        .principal
        .subject
        .parse()
        .map_err(|_| ApiError::unauthorized("the token's subject is not an account"))
}

/// Collects field errors: the value when all parsed, else one 422 naming every field.
pub(crate) fn all_valid(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_fields(errors))
    }
}

/// Registers the service's routes; each is collected into its OpenAPI document.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(operators::create)
        .service(accounts::register)
        .service(accounts::verify_email)
        .service(accounts::me)
        .service(accounts::change_password)
        .service(accounts::forgot_password)
        .service(accounts::reset_password)
        .service(sessions::login)
        .service(sessions::refresh)
        .service(sessions::switch)
        .service(sessions::logout)
        .service(staff::list)
        .service(staff::remove)
        .service(invitations::invite)
        .service(invitations::list)
        .service(invitations::accept)
        .service(invitations::revoke)
        .service(clients::create)
        .service(clients::list)
        .service(clients::revoke)
        .service(token::token)
        .service(keys::jwks)
        .service(keys::rotate)
        .service(operations::auth_usage);
}
