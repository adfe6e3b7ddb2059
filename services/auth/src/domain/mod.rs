//! Auth's domain types: values that cannot hold an invalid email, password, name or
//! scope, and the secrets the service hands out.

pub mod password;
pub mod secret;

use caravan_shared::identity::Role;
use caravan_shared::{ApiError, FieldError};
use std::fmt;

/// A normalised email address (trimmed, lowercased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Checks and normalises an address; `field` names it in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        let refuse = |message: &str| Err(FieldError::new(field, message));
        if email.is_empty() {
            return refuse("is required");
        }
        if email.len() > 254 {
            return refuse("must be at most 254 characters");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return refuse("is not a valid email address");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains(char::is_whitespace)
            && !local.contains('@');
        if domain_ok && local_ok {
            Ok(Self(email))
        } else {
            refuse("is not a valid email address")
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's name as shown to others: 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks a name.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        match name.chars().count() {
            0 => Err(FieldError::new("display_name", "is required")),
            1..=100 => Ok(Self(name.to_owned())),
            _ => Err(FieldError::new(
                "display_name",
                "must be at most 100 characters",
            )),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A role within a shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    /// Owns the shop: everything, including staff, apps and webhooks.
    Owner,
    /// Works in the shop: catalog and orders.
    Staff,
    /// Buys from the shop.
    Customer,
}

impl MemberRole {
    /// The stored and claimed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Staff => "staff",
            Self::Customer => "customer",
        }
    }

    /// Reads a stored role.
    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "owner" => Some(Self::Owner),
            "staff" => Some(Self::Staff),
            "customer" => Some(Self::Customer),
            _ => None,
        }
    }

    /// The token role.
    pub fn role(self) -> Role {
        match self {
            Self::Owner => Role::Owner,
            Self::Staff => Role::Staff,
            Self::Customer => Role::Customer,
        }
    }

    /// What a member's access token may do.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            Self::Owner => ALL_SCOPES,
            Self::Staff => &[
                "catalog:read",
                "catalog:write",
                "orders:read",
                "orders:write",
            ],
            Self::Customer => &[],
        }
    }
}

/// Every scope an app client can be granted.
pub const ALL_SCOPES: &[&str] = &[
    "catalog:read",
    "catalog:write",
    "orders:read",
    "orders:write",
    "webhooks:write",
];

/// A checked, de-duplicated, sorted list of scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Checks requested scopes: known, at least one.
    pub fn parse(requested: &[String]) -> Result<Self, ApiError> {
        let mut scopes = Vec::new();
        for (index, scope) in requested.iter().enumerate() {
            if !ALL_SCOPES.contains(&scope.as_str()) {
                return Err(ApiError::invalid_field(
                    format!("scopes[{index}]"),
                    format!("unknown scope; one of {}", ALL_SCOPES.join(", ")),
                ));
            }
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        if scopes.is_empty() {
            return Err(ApiError::invalid_field(
                "scopes",
                "at least one scope is required",
            ));
        }
        scopes.sort();
        Ok(Self(scopes))
    }

    /// Scopes as stored.
    pub fn from_stored(scopes: Vec<String>) -> Self {
        Self(scopes)
    }

    /// The scopes.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether every scope in `other` is granted here.
    pub fn covers(&self, other: &[String]) -> bool {
        other.iter().all(|scope| self.0.contains(scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ayşe.Tursun@Example.CN ", "email")
                .unwrap()
                .as_str(),
            "ayşe.tursun@example.cn"
        );
        for bad in [
            "",
            "no-at-sign",
            "a@b",
            "a b@c.cn",
            "@c.cn",
            "a@.cn",
            "a@c.cn.",
        ] {
            assert!(Email::parse(bad, "email").is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_are_checked() {
        let scopes = Scopes::parse(&[
            "orders:read".into(),
            "catalog:read".into(),
            "orders:read".into(),
        ])
        .unwrap();
        assert_eq!(scopes.as_slice(), ["catalog:read", "orders:read"]);
        assert!(Scopes::parse(&["admin:all".into()]).is_err());
        assert!(Scopes::parse(&[]).is_err());
        assert!(scopes.covers(&["orders:read".into()]));
        assert!(!scopes.covers(&["orders:write".into()]));
    }
}
