//! The tenant service's domain: slugs, the shop status machine, applications and
//! settings, each parsed once at the edge.

pub mod languages;
pub mod settings;
pub mod theme;

use caravan_shared::ErrorCode;
use caravan_shared::{ApiError, FieldError};
use std::fmt;
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Slugs no shop may take: they name platform paths or invite confusion.
const RESERVED: &[&str] = &[
    "admin",
    "api",
    "app",
    "apps",
    "assets",
    "auth",
    "billing",
    "blog",
    "caravan",
    "cdn",
    "checkout",
    "dashboard",
    "docs",
    "help",
    "internal",
    "login",
    "logout",
    "mail",
    "metrics",
    "new",
    "operator",
    "operators",
    "platform",
    "register",
    "root",
    "settings",
    "shop",
    "shops",
    "signup",
    "static",
    "status",
    "support",
    "system",
    "www",
];

/// A shop's address: 3 to 40 of `a-z`, `0-9` and `-`, not at either end, not reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// Checks a slug.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let slug = raw.trim();
        let refuse = |message: &str| Err(FieldError::new("slug", message));
        if !(3..=40).contains(&slug.len()) {
            return refuse("must be 3 to 40 characters");
        }
        if !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return refuse("may contain only a-z, 0-9 and -");
        }
        if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
            return refuse("may not start or end with - or contain --");
        }
        if RESERVED.contains(&slug) {
            return refuse("is reserved");
        }
        Ok(Self(slug.to_owned()))
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Alternatives to offer when this one is taken.
    pub fn alternatives(&self) -> Vec<String> {
        let base: String = self.0.chars().take(36).collect();
        let mut options = vec![format!("{base}-coop"), format!("{base}-shop")];
        options.extend((2..=9).map(|n| format!("{base}-{n}")));
        options
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What [`Slug::parse`] accepts (leading and trailing spaces aside), for the API
/// documentation; the reserved words are excluded by a lookahead.
impl PartialSchema for Slug {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A shop's address: 3 to 40 of a-z, 0-9 and -, not at either end and not \
                 doubled; reserved words such as `admin` or `shop` are refused.",
            ))
            .min_length(Some(3))
            .max_length(Some(40))
            .pattern(Some(format!(
                "^(?!(?:{})$)[a-z0-9]+(?:-[a-z0-9]+)*$",
                RESERVED.join("|")
            )))
            .examples(["zhongning-goji"])
            .into()
    }
}

/// The plans migration `0001_tenants` seeds. No route adds or removes a plan, so the
/// API documents these as the only plan codes.
pub const PLAN_CODES: &[&str] = &["free", "standard", "pro"];

/// A plan code as documented: one of [`PLAN_CODES`].
pub fn plan_code_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(PLAN_CODES.iter().copied()))
}

/// Where a shop stands. One machine for applications and shops:
/// `pending → active ⇄ suspended → closed`, `active → closed`, `pending → rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopStatus {
    /// Applied, not yet decided.
    Pending,
    /// Selling.
    Active,
    /// Stopped by an operator; may be reinstated.
    Suspended,
    /// Ended for good.
    Closed,
    /// The application was turned down.
    Rejected,
}

/// What an operator does to a shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopAction {
    /// Accept an application.
    Approve,
    /// Turn an application down.
    Reject,
    /// Stop a shop.
    Suspend,
    /// Let a suspended shop sell again.
    Reinstate,
    /// End a shop.
    Close,
}

impl ShopAction {
    /// The action's name in audit records and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
            Self::Close => "close",
        }
    }
}

impl ShopStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Closed => "closed",
            Self::Rejected => "rejected",
        }
    }

    /// Reads a stored status.
    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "active" | "approved" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            "closed" => Some(Self::Closed),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }

    /// The status after `action`, or 409 for a move the machine does not have.
    pub fn after(self, action: ShopAction) -> Result<Self, ApiError> {
        use ShopAction::*;
        use ShopStatus::*;
        match (self, action) {
            (Pending, Approve) => Ok(Active),
            (Pending, Reject) => Ok(Rejected),
            (Active, Suspend) => Ok(Suspended),
            (Suspended, Reinstate) => Ok(Active),
            (Active | Suspended, Close) => Ok(Closed),
            (from, action) => Err(ApiError::conflict(
                ErrorCode::InvalidStatusChange,
                format!(
                    "a {} shop cannot be {}d",
                    from.as_str(),
                    action.as_str().trim_end_matches('e')
                ),
            )),
        }
    }
}

/// Checks free text: trimmed, between `min` and `max` characters.
pub fn text(raw: &str, field: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    let length = value.chars().count();
    if length < min {
        return Err(FieldError::new(
            field,
            if min == 1 {
                "is required".to_owned()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    }
    if length > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Checks an email address (normalised to lowercase).
pub fn email(raw: &str, field: &str) -> Result<String, FieldError> {
    caravan_shared::domain::Email::parse(raw, field).map(|email| email.as_str().to_owned())
}

/// Checks a phone number: digits with optional `+`, spaces, dashes; 5 to 20 digits.
pub fn phone(raw: &str, field: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (c == '+' && i == 0));
    if allowed && (5..=20).contains(&digits) {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "must be a phone number, e.g. +86 951 555 0100",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_checked() {
        assert!(Slug::parse("zhongning-goji").is_ok());
        for bad in [
            "ab",
            "Has-Caps",
            "under_score",
            "-edge",
            "edge-",
            "dou--ble",
            "admin",
            &"x".repeat(41),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Slug::parse("turpan").unwrap().alternatives()[0],
            "turpan-coop"
        );
    }

    #[test]
    fn the_documented_plans_are_the_seeded_ones() {
        let migration = include_str!("../../migrations/0001_tenants.sql");
        let seeded = migration
            .lines()
            .filter_map(|line| line.trim().strip_prefix("('"))
            .filter_map(|rest| rest.split_once('\''))
            .map(|(code, _)| code)
            .collect::<Vec<_>>();
        assert_eq!(seeded, PLAN_CODES);
    }

    #[test]
    fn the_status_machine_has_only_its_moves() {
        use ShopAction::*;
        use ShopStatus::*;
        assert_eq!(Pending.after(Approve).unwrap(), Active);
        assert_eq!(Pending.after(Reject).unwrap(), Rejected);
        assert_eq!(Active.after(Suspend).unwrap(), Suspended);
        assert_eq!(Suspended.after(Reinstate).unwrap(), Active);
        assert_eq!(Suspended.after(Close).unwrap(), Closed);
        assert_eq!(Active.after(Close).unwrap(), Closed);
        for (from, action) in [
            (Closed, Reinstate),
            (Rejected, Approve),
            (Active, Approve),
            (Pending, Suspend),
            (Active, Reinstate),
            (Closed, Suspend),
        ] {
            assert_eq!(
                from.after(action).unwrap_err().problem().status,
                409,
                "{from:?} {action:?}"
            );
        }
    }

    #[test]
    fn contacts_are_checked() {
        assert_eq!(
            email(" Ma.Jun@Example.CN ", "email").unwrap(),
            "ma.jun@example.cn"
        );
        assert!(email("nope", "email").is_err());
        assert!(phone("+86 951 555 0100", "phone").is_ok());
        assert!(phone("call me", "phone").is_err());
    }
}
