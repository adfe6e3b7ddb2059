//! What the auth service keeps only for a while, beyond [`caravan_shared::retention::COMMON`].

use caravan_shared::retention::{Action, Rule};

/// Refresh tokens a day past their expiry (a rotated one is kept until then, so a
/// stolen copy replayed is still recognised and its family revoked).
pub const EXPIRED_REFRESH_TOKENS: Rule = Rule {
    name: "expired_refresh_tokens",
    setting: "RETENTION_EXPIRED_TOKEN_HOURS",
    default_hours: 24,
    table: "refresh_tokens",
    key: &["token_hash"],
    due: "expires_at < $1",
    action: Action::Remove,
};

/// Email verification and password reset links a day past their expiry.
pub const EXPIRED_EMAIL_TOKENS: Rule = Rule {
    name: "expired_email_tokens",
    setting: "RETENTION_EXPIRED_TOKEN_HOURS",
    default_hours: 24,
    table: "email_tokens",
    key: &["token_hash"],
    due: "expires_at < $1",
    action: Action::Remove,
};

/// Invitations never accepted, a week past their expiry (the shop's people page
/// shows them as expired until then).
pub const EXPIRED_INVITATIONS: Rule = Rule {
    name: "expired_invitations",
    setting: "RETENTION_EXPIRED_INVITATION_HOURS",
    default_hours: 7 * 24,
    table: "invitations",
    key: &["id"],
    due: "accepted_at IS NULL AND expires_at < $1",
    action: Action::Remove,
};

/// The auth service's own rules.
pub const RULES: [Rule; 3] = [
    EXPIRED_REFRESH_TOKENS,
    EXPIRED_EMAIL_TOKENS,
    EXPIRED_INVITATIONS,
];
