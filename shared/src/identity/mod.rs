//! Who is calling: access-token claims, their verification against the auth service's
//! JWKS, and the extractors handlers take to require a kind of caller.

mod extract;
pub mod keys;
pub mod service_token;
pub mod sessions;
mod verify;

pub use extract::{MaybeSignedIn, Operator, RequireScope, Scope, ServiceCaller, Staff, scopes};
pub use keys::{SigningKey, TokenSigner};
pub use verify::{JwksVerifier, LEEWAY_SECS, TokenError};

use crate::tenancy::TenantId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// What a caller is on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the platform; belongs to no tenant.
    PlatformAdmin,
    /// Owns a shop.
    Owner,
    /// Works in a shop.
    Staff,
    /// Buys from a shop.
    Customer,
    /// A third-party application acting for one tenant with scopes.
    App,
    /// Another Caravan service.
    Service,
}

impl Role {
    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlatformAdmin => "platform_admin",
            Self::Owner => "owner",
            Self::Staff => "staff",
            Self::Customer => "customer",
            Self::App => "app",
            Self::Service => "service",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of a Caravan access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: the auth service.
    pub iss: String,
    /// Audience: the platform's APIs.
    pub aud: String,
    /// Subject: the user, app client or service.
    pub sub: String,
    /// The tenant the token acts in; absent for platform operators and services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<uuid::Uuid>,
    /// What the subject is.
    pub role: Role,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    /// Unique token id.
    pub jti: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// The session the token belongs to (a person's login, or an app client), so that
    /// ending it ends the token at once ([`sessions`]); absent for service tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<uuid::Uuid>,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user, app client or service.
    pub subject: String,
    /// The tenant the caller acts in.
    pub tenant: Option<TenantId>,
    /// What the caller is.
    pub role: Role,
    /// What the caller may do.
    pub scopes: BTreeSet<String>,
    /// The token's id, for audit.
    pub token_id: String,
    /// The session the token belongs to, if any.
    pub session: Option<uuid::Uuid>,
}

impl Principal {
    /// Whether the token grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// Whether the caller is an owner or staff member of a shop.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Owner | Role::Staff)
    }

    /// A short description for logs: `role:subject`.
    pub fn describe(&self) -> String {
        format!("{}:{}", self.role, self.subject)
    }
}

impl From<Claims> for Principal {
    fn from(claims: Claims) -> Self {
        Self {
            subject: claims.sub,
            tenant: claims.tid.map(TenantId::from),
            role: claims.role,
            scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
            token_id: claims.jti,
            session: claims.sid,
        }
    }
}
