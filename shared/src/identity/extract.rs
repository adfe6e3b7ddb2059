//! Extractors for the caller. A handler that needs a kind of caller takes it as an
//! argument and cannot be written without it.

use super::{JwksVerifier, Principal, Role, TokenError};
use crate::error::ApiError;
use crate::service::ServiceContext;
use crate::tenancy::TenantId;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use std::marker::PhantomData;

fn bearer(request: &HttpRequest) -> Result<String, TokenError> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(TokenError::Missing)?;
    let (scheme, token) = value.split_once(' ').ok_or(TokenError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(TokenError::Missing);
    }
    Ok(token.trim().to_owned())
}

async fn authenticate(request: HttpRequest) -> Result<Principal, ApiError> {
    let verifier = request
        .app_data::<web::Data<JwksVerifier>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no JwksVerifier in app data")))?;
    let token =
        bearer(&request).map_err(|_| ApiError::unauthorized("a bearer token is required"))?;
    match verifier.verify(&token).await {
        Ok(principal)
            if principal.role == Role::Service && crate::http::through_gateway(&request) =>
        {
            tracing::warn!(subject = %principal.subject, "service token presented through the gateway");
            Err(ApiError::unauthorized(
                "the access token is invalid or expired",
            ))
        }
        Ok(principal) if session_ended(&request, &principal).await? => {
            tracing::info!(caller = %principal.describe(), "token of an ended session refused");
            Err(ApiError::unauthorized(
                "the session has ended (logged out, password changed or revoked); log in again",
            ))
        }
        Ok(principal) => {
            crate::telemetry::record_caller(
                &request,
                principal.tenant.map(TenantId::into_uuid),
                &principal.describe(),
            );
            Ok(principal)
        }
        Err(TokenError::KeysUnavailable(reason)) => {
            tracing::error!(%reason, "token could not be checked");
            Err(ApiError::unavailable("tokens cannot be verified right now"))
        }
        Err(error) => {
            tracing::info!(%error, "token refused");
            Err(ApiError::unauthorized(
                "the access token is invalid or expired",
            ))
        }
    }
}

/// The service context a check of the caller needs (ended sessions, the shop's
/// status). Without it the check cannot be made, and a request is never let through
/// unchecked: its absence is a wiring mistake, answered 500 and logged as such.
fn service_context(
    request: &HttpRequest,
    check: &'static str,
) -> Result<web::Data<ServiceContext>, ApiError> {
    request
        .app_data::<web::Data<ServiceContext>>()
        .cloned()
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "configuration error: the app has no ServiceContext in its app data, so \
                 {check} cannot be checked; the request is refused"
            ))
        })
}

/// Whether the token's session was ended (logout, password change, a revoked app
/// client): one Redis round trip, only for tokens that belong to a session.
///
/// When Redis cannot answer, the token is accepted: an outage must not log the whole
/// platform out, the token still had to be validly signed and unexpired (it lives 15
/// minutes at most), and an ended session cannot be renewed (its refresh tokens are
/// revoked in PostgreSQL). Ending a session, for its part, refuses to report success
/// unless Redis recorded it. An app without the service context is another matter:
/// that is a wiring mistake, refused (see [`service_context`]).
async fn session_ended(request: &HttpRequest, principal: &Principal) -> Result<bool, ApiError> {
    let Some(session) = principal.session else {
        return Ok(false);
    };
    let context = service_context(request, "whether the session has ended")?;
    Ok(super::sessions::has_ended(&context.redis, session)
        .await
        .unwrap_or(false))
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(request.clone()))
    }
}

/// A person who may be signed in: a buyer on the storefront, who needs no account.
/// `None` without an `Authorization` header; a token that does not verify is refused
/// (401), never taken for no token; apps and services are refused (403), since these
/// routes are for people.
#[derive(Debug, Clone)]
pub struct MaybeSignedIn(pub Option<Principal>);

impl FromRequest for MaybeSignedIn {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let header = actix_web::http::header::AUTHORIZATION;
            if !request.headers().contains_key(header) {
                return Ok(Self(None));
            }
            let principal = authenticate(request).await?;
            match principal.role {
                Role::App | Role::Service => Err(ApiError::forbidden(
                    "this is for people; apps use the staff API",
                )),
                _ => Ok(Self(Some(principal))),
            }
        })
    }
}

/// Refuses a suspended or closed shop's callers (within a second of the suspension:
/// the replica is updated as the event arrives, and the directory of shops drops the
/// shop as the update commits). Fails closed: an app without the
/// service context answers 500 rather than skip the check.
async fn ensure_shop_active(request: &HttpRequest, tenant: TenantId) -> Result<(), ApiError> {
    let context = service_context(request, "whether the shop is suspended")?;
    crate::tenant_status::ensure_active(&context.shops, tenant).await
}

/// A platform operator.
#[derive(Debug, Clone)]
pub struct Operator(pub Principal);

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let principal = authenticate(request).await?;
            if principal.role == Role::PlatformAdmin {
                Ok(Self(principal))
            } else {
                Err(ApiError::forbidden("only platform operators may do this"))
            }
        })
    }
}

/// An owner or staff member acting in their shop.
#[derive(Debug, Clone)]
pub struct Staff {
    /// The caller.
    pub principal: Principal,
    /// The shop they act in.
    pub tenant: TenantId,
}

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let principal = authenticate(request.clone()).await?;
            match (principal.is_staff(), principal.tenant) {
                (true, Some(tenant)) => {
                    ensure_shop_active(&request, tenant).await?;
                    Ok(Self { principal, tenant })
                }
                _ => Err(ApiError::forbidden(
                    "only a shop's owner or staff may do this",
                )),
            }
        })
    }
}

/// Another Caravan service (for `/internal` routes).
#[derive(Debug, Clone)]
pub struct ServiceCaller(pub Principal);

impl FromRequest for ServiceCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            // Service routes are never public: a request from outside the platform
            // is refused whatever token it carries.
            if crate::http::through_gateway(&request) {
                return Err(ApiError::not_found("no such resource"));
            }
            let principal = authenticate(request).await?;
            if principal.role == Role::Service {
                Ok(Self(principal))
            } else {
                Err(ApiError::forbidden("only Caravan services may call this"))
            }
        })
    }
}

/// A named permission a token can carry.
pub trait Scope {
    /// The scope as it appears in the token, e.g. `catalog:write`.
    const NAME: &'static str;
}

/// The scopes of the platform.
pub mod scopes {
    macro_rules! scope {
        ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {$(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl super::Scope for $name {
                const NAME: &'static str = $value;
            }
        )*};
    }

    scope! {
        /// Read products, categories and stock.
        CatalogRead = "catalog:read";
        /// Change products, categories and stock.
        CatalogWrite = "catalog:write";
        /// Read orders.
        OrdersRead = "orders:read";
        /// Change orders: pay, fulfil, cancel, refund.
        OrdersWrite = "orders:write";
        /// Manage webhook endpoints.
        WebhooksWrite = "webhooks:write";
    }
}

/// A caller acting in a tenant whose token carries scope `S`.
#[derive(Debug, Clone)]
pub struct RequireScope<S: Scope> {
    /// The caller.
    pub principal: Principal,
    /// The tenant they act in.
    pub tenant: TenantId,
    scope: PhantomData<S>,
}

impl<S: Scope + 'static> FromRequest for RequireScope<S> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let principal = authenticate(request.clone()).await?;
            match principal.tenant {
                Some(tenant) if principal.has_scope(S::NAME) => {
                    ensure_shop_active(&request, tenant).await?;
                    Ok(Self {
                        principal,
                        tenant,
                        scope: PhantomData,
                    })
                }
                _ => Err(ApiError::forbidden(format!(
                    "the token lacks the {} scope",
                    S::NAME
                ))),
            }
        })
    }
}
