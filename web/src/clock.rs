//! Times as the shops read them: in China Standard Time (UTC+8), where the shops
//! and most of their buyers are, whatever the server's own zone.

use chrono::{DateTime, FixedOffset, Utc};

/// China Standard Time.
pub const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// `at` in China time.
pub fn in_china(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&CHINA)
}
