//! The tenant service's domain: slugs, the shop status machine, applications and
//! settings, each parsed once at the edge.

pub mod languages;
pub mod settings;
pub mod theme;
pub mod webhooks;

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

/// A stored status this code does not know: the row was written by something else
/// (a newer version, a hand edit). Never read as a default: answered 500 and logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column} holds {value:?}, which is not a known status")]
pub struct UnknownStatus {
    /// The column read, e.g. `tenants.status`.
    pub column: &'static str,
    /// What it held.
    pub value: String,
}

impl From<UnknownStatus> for ApiError {
    fn from(unknown: UnknownStatus) -> Self {
        ApiError::internal(unknown)
    }
}

/// A move one of the status machines does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusRefusal {
    /// A shop cannot take this action in its status.
    #[error("{} cannot be {}{}", .from.described(), .action.participle(), again(.from.as_str(), .action.participle()))]
    Shop {
        /// Where the shop stands.
        from: ShopStatus,
        /// What was asked.
        action: ShopAction,
    },
    /// An application cannot take this decision in its status.
    #[error("{} cannot be {}{}", .from.described(), .decision.participle(), again(.from.as_str(), .decision.participle()))]
    Application {
        /// Where the application stands.
        from: ApplicationStatus,
        /// What was asked.
        decision: ApplicationDecision,
    },
}

/// " again" when the refused action names the status the thing is already in ("a
/// closed shop cannot be closed again").
fn again(status: &str, participle: &str) -> &'static str {
    if status == participle { " again" } else { "" }
}

/// Every refusal answers the same way: 409 `invalid_status_change`, in words.
impl From<StatusRefusal> for ApiError {
    fn from(refusal: StatusRefusal) -> Self {
        ApiError::conflict(ErrorCode::InvalidStatusChange, refusal.to_string())
    }
}

/// Where a shop stands (`tenants.status`): `active ⇄ suspended → closed`,
/// `active → closed`. A shop is born active, from an approved application or an
/// operator's hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopStatus {
    /// Selling.
    Active,
    /// Stopped by an operator; may be reinstated.
    Suspended,
    /// Ended for good.
    Closed,
}

/// What an operator does to a shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopAction {
    /// Stop a shop.
    Suspend,
    /// Let a suspended shop sell again.
    Reinstate,
    /// End a shop.
    Close,
}

impl ShopAction {
    /// The action's name in audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
            Self::Close => "close",
        }
    }

    /// The action as a past participle, for sentences.
    fn participle(self) -> &'static str {
        match self {
            Self::Suspend => "suspended",
            Self::Reinstate => "reinstated",
            Self::Close => "closed",
        }
    }
}

impl ShopStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Closed => "closed",
        }
    }

    /// Reads a stored status; an unknown one is an error, never a default.
    pub fn from_stored(raw: &str) -> Result<Self, UnknownStatus> {
        match raw {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            "closed" => Ok(Self::Closed),
            _ => Err(UnknownStatus {
                column: "tenants.status",
                value: raw.to_owned(),
            }),
        }
    }

    /// "a suspended shop", with the right article.
    fn described(self) -> &'static str {
        match self {
            Self::Active => "an active shop",
            Self::Suspended => "a suspended shop",
            Self::Closed => "a closed shop",
        }
    }

    /// The machine, every pair written out: the status after `action`, or the
    /// refusal.
    pub fn after(self, action: ShopAction) -> Result<Self, StatusRefusal> {
        use ShopAction::*;
        use ShopStatus::*;
        match (self, action) {
            (Active, Suspend) => Ok(Suspended),
            (Suspended, Reinstate) => Ok(Active),
            (Active | Suspended, Close) => Ok(Closed),
            (Active, Reinstate) | (Suspended, Suspend) | (Closed, Suspend | Reinstate | Close) => {
                Err(StatusRefusal::Shop { from: self, action })
            }
        }
    }
}

/// Where an application stands (`applications.status`): `pending → approved`,
/// `pending → rejected`; a decision is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    /// Not yet decided.
    Pending,
    /// Accepted: a shop was opened from it.
    Approved,
    /// Turned down.
    Rejected,
}

/// What an operator decides on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationDecision {
    /// Accept it: a shop opens.
    Approve,
    /// Turn it down.
    Reject,
}

impl ApplicationDecision {
    /// The decision's name in audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
        }
    }

    /// The decision as a past participle, for sentences.
    fn participle(self) -> &'static str {
        match self {
            Self::Approve => "approved",
            Self::Reject => "rejected",
        }
    }
}

impl ApplicationStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    /// Reads a stored status; an unknown one is an error, never a default.
    pub fn from_stored(raw: &str) -> Result<Self, UnknownStatus> {
        match raw {
            "pending" => Ok(Self::Pending),
            "approved" => Ok(Self::Approved),
            "rejected" => Ok(Self::Rejected),
            _ => Err(UnknownStatus {
                column: "applications.status",
                value: raw.to_owned(),
            }),
        }
    }

    /// "an approved application", with the right article.
    fn described(self) -> &'static str {
        match self {
            Self::Pending => "a pending application",
            Self::Approved => "an approved application",
            Self::Rejected => "a rejected application",
        }
    }

    /// The machine, every pair written out: the status after `decision`, or the
    /// refusal.
    pub fn after(self, decision: ApplicationDecision) -> Result<Self, StatusRefusal> {
        use ApplicationDecision::*;
        use ApplicationStatus::*;
        match (self, decision) {
            (Pending, Approve) => Ok(Approved),
            (Pending, Reject) => Ok(Rejected),
            (Approved | Rejected, Approve | Reject) => Err(StatusRefusal::Application {
                from: self,
                decision,
            }),
        }
    }
}

/// Checks an email address (normalised to lowercase).
pub fn email(raw: &str, field: &str) -> Result<String, FieldError> {
    caravan_shared::domain::Email::parse(raw, field).map(|email| email.as_str().to_owned())
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
    fn the_shop_machine_has_only_its_moves_and_says_why_in_words() {
        use ShopAction::*;
        use ShopStatus::*;
        assert_eq!(Active.after(Suspend), Ok(Suspended));
        assert_eq!(Suspended.after(Reinstate), Ok(Active));
        assert_eq!(Suspended.after(Close), Ok(Closed));
        assert_eq!(Active.after(Close), Ok(Closed));
        for (from, action, sentence) in [
            (Active, Reinstate, "an active shop cannot be reinstated"),
            (
                Suspended,
                Suspend,
                "a suspended shop cannot be suspended again",
            ),
            (Closed, Suspend, "a closed shop cannot be suspended"),
            (Closed, Reinstate, "a closed shop cannot be reinstated"),
            (Closed, Close, "a closed shop cannot be closed again"),
        ] {
            let refusal = from.after(action).unwrap_err();
            assert_eq!(refusal.to_string(), sentence);
            let problem = ApiError::from(refusal).problem();
            assert_eq!(problem.status, 409, "{from:?} {action:?}");
            assert_eq!(problem.code, ErrorCode::InvalidStatusChange);
            assert_eq!(problem.detail.as_deref(), Some(sentence));
        }
    }

    #[test]
    fn the_application_machine_decides_once_and_says_why_in_words() {
        use ApplicationDecision::*;
        use ApplicationStatus::*;
        assert_eq!(Pending.after(Approve), Ok(Approved));
        assert_eq!(Pending.after(Reject), Ok(Rejected));
        for (from, decision, sentence) in [
            (
                Approved,
                Approve,
                "an approved application cannot be approved again",
            ),
            (
                Approved,
                Reject,
                "an approved application cannot be rejected",
            ),
            (
                Rejected,
                Approve,
                "a rejected application cannot be approved",
            ),
            (
                Rejected,
                Reject,
                "a rejected application cannot be rejected again",
            ),
        ] {
            let refusal = from.after(decision).unwrap_err();
            assert_eq!(refusal.to_string(), sentence);
            assert_eq!(
                ApiError::from(refusal).problem().detail.as_deref(),
                Some(sentence)
            );
        }
    }

    #[test]
    fn stored_statuses_round_trip_and_an_unknown_one_is_an_error() {
        for status in [
            ShopStatus::Active,
            ShopStatus::Suspended,
            ShopStatus::Closed,
        ] {
            assert_eq!(ShopStatus::from_stored(status.as_str()), Ok(status));
        }
        use ApplicationStatus::*;
        for status in [Pending, Approved, Rejected] {
            assert_eq!(ApplicationStatus::from_stored(status.as_str()), Ok(status));
        }
        // A shop is never "pending" or "approved": those are an application's.
        for unknown in ["pending", "approved", "Active", ""] {
            let error = ShopStatus::from_stored(unknown).unwrap_err();
            assert_eq!(error.column, "tenants.status");
            assert_eq!(ApiError::from(error).problem().status, 500);
        }
        let error = ApplicationStatus::from_stored("withdrawn").unwrap_err();
        assert_eq!(
            error.to_string(),
            "applications.status holds \"withdrawn\", which is not a known status"
        );
        assert_eq!(ApiError::from(error).problem().status, 500);
    }

    #[test]
    fn contacts_are_checked() {
        assert_eq!(
            email(" Ma.Jun@Example.CN ", "email").unwrap(),
            "ma.jun@example.cn"
        );
        assert!(email("nope", "email").is_err());
    }
}
