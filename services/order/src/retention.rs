//! What the order service keeps only for a while, beyond [`caravan_shared::retention::COMMON`].

use caravan_shared::retention::{Action, Rule};

/// Carts no one checked out and no one touched for a month (with their lines).
pub const ABANDONED_CARTS: Rule = Rule {
    name: "abandoned_carts",
    setting: "RETENTION_ABANDONED_CART_HOURS",
    default_hours: 30 * 24,
    table: "carts",
    key: &["id"],
    due: "order_id IS NULL AND updated_at < $1",
    action: Action::Remove,
};

/// The order service's own rules.
pub const RULES: [Rule; 1] = [ABANDONED_CARTS];
