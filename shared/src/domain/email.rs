//! Email addresses as the platform keeps them.

use crate::FieldError;
use std::fmt;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// Characters a local part may hold besides letters and digits (RFC 5322 `atext`,
/// and the dots between its words).
const LOCAL_SYMBOLS: &str = "!#$%&'*+/=?^_`{|}~-.";

/// What the contract says an address looks like: one or two ASCII words of `atext`
/// joined by a dot before the `@` (at most 48 characters), and two to five dotted
/// labels after it. The server takes more (letters beyond ASCII, more words, longer
/// labels, up to 64 characters before the `@`), trims and lowercases; the pattern
/// stays simple enough for generators that cannot handle look-ahead.
pub const PATTERN: &str = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15})?@[A-Za-z0-9]([A-Za-z0-9-]{0,28}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,28}[A-Za-z0-9])?){1,4}$";

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
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || LOCAL_SYMBOLS.contains(c));
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

/// Request fields that take an address are strings checked with [`Email::parse`];
/// `#[schema(value_type = Email)]` documents them with [`PATTERN`].
impl PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An email address."))
            .max_length(Some(254))
            .pattern(Some(PATTERN))
            .examples(["owner@zhongning-goji.example.cn"])
            .into()
    }
}

impl ToSchema for Email {}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
            "a,b@c.cn",
            "<a>@c.cn",
            ".a@c.cn",
            "a..b@c.cn",
            "a\"b@c.cn",
        ] {
            assert!(Email::parse(bad, "email").is_err(), "{bad}");
        }
    }
}
