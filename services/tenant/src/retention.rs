//! What the tenant service keeps only for a while, beyond [`caravan_shared::retention::COMMON`].

use caravan_shared::retention::{Action, Rule};

/// Webhook deliveries that ended (delivered or given up) a month ago, with their
/// attempts; one still being tried stays.
pub const FINISHED_WEBHOOK_DELIVERIES: Rule = Rule {
    name: "webhook_deliveries",
    setting: "RETENTION_WEBHOOK_DELIVERY_HOURS",
    default_hours: 30 * 24,
    table: "webhook_deliveries",
    key: &["id"],
    due: "status <> 'pending' AND created_at < $1",
    action: Action::Remove,
};

/// The tenant service's own rules.
pub const RULES: [Rule; 1] = [FINISHED_WEBHOOK_DELIVERIES];
