//! What the tenant service keeps only for a while, beyond [`caravan_shared::retention::COMMON`].

use caravan_shared::retention::Rule;

/// Webhook deliveries that ended (delivered or given up) a month ago, with their
/// attempts; one still being tried stays.
pub const FINISHED_WEBHOOK_DELIVERIES: Rule = Rule {
    name: "webhook_deliveries",
    setting: "RETENTION_WEBHOOK_DELIVERY_HOURS",
    default_hours: 30 * 24,
    batch: "DELETE FROM webhook_deliveries d USING ( \
                SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1 \
                LIMIT $2 FOR UPDATE SKIP LOCKED) old \
            WHERE d.id = old.id",
};

/// The tenant service's own rules.
pub const RULES: [Rule; 1] = [FINISHED_WEBHOOK_DELIVERIES];
