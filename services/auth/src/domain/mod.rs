//! Auth's domain types: values that cannot hold an invalid email, password, name or
//! scope. The secrets it hands out are `caravan_shared::secrets`.

pub mod password;

use caravan_shared::identity::Role;
use caravan_shared::{ApiError, FieldError};

pub use caravan_shared::domain::Email;

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
