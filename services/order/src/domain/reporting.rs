//! The windows of time a shop's reports cover, and how money is written in exports.

use caravan_shared::domain::Currency;
use caravan_shared::error::FieldError;
use chrono::{DateTime, Datelike, FixedOffset, Offset, TimeDelta, TimeZone, Utc};

/// China time (Asia/Shanghai): UTC+8 all year, no daylight saving since 1991. The
/// cooperatives' "this month" begins at midnight there.
pub fn china_time() -> FixedOffset {
    // 8 hours is always a valid offset; the fallback is never taken.
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

/// The first instant of the calendar month (in China time) that `at` falls in.
pub fn month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    let zone = china_time();
    let local = at.with_timezone(&zone);
    zone.with_ymd_and_hms(local.year(), local.month(), 1, 0, 0, 0)
        .single()
        .map_or(at, |start| start.with_timezone(&Utc))
}

/// A half-open window of time, `from` included, `to` excluded; never reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Window {
    /// The window asked for: `to` defaults to `now`, `from` to the start of the
    /// calendar month (China time) of the window's last instant, so `to` at the
    /// turn of a month means the whole month before it.
    pub fn parse(
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, FieldError> {
        let to = to.unwrap_or(now);
        let from = from.unwrap_or_else(|| month_start(to - TimeDelta::microseconds(1)));
        if from > to {
            return Err(FieldError::new("from", "must not be after `to`"));
        }
        Ok(Self { from, to })
    }

    /// Its first instant.
    pub fn from(self) -> DateTime<Utc> {
        self.from
    }

    /// The instant just after it.
    pub fn to(self) -> DateTime<Utc> {
        self.to
    }
}

/// Minor units as an exact decimal in major units, the way a spreadsheet reads
/// them: `12850` CNY is `128.50`, `1500` JPY is `1500`, `-5` USD is `-0.05`.
pub fn major_units(amount: i64, currency: Currency) -> String {
    let digits = currency.minor_units();
    if digits == 0 {
        return amount.to_string();
    }
    let magnitude = amount.unsigned_abs();
    let scale = 10_u64.pow(u32::from(digits));
    let sign = if amount < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = usize::from(digits),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_month_begins_at_midnight_in_china() {
        // 2026-11-30 17:00 UTC is already 1 December in Shanghai.
        assert_eq!(
            month_start(at("2026-11-30T17:00:00Z")),
            at("2026-11-30T16:00:00Z")
        );
        assert_eq!(
            month_start(at("2026-11-30T15:59:59Z")),
            at("2026-10-31T16:00:00Z")
        );
        assert_eq!(
            month_start(at("2026-01-01T03:00:00Z")),
            at("2025-12-31T16:00:00Z")
        );
    }

    #[test]
    fn windows_default_to_this_month_and_are_never_reversed() {
        let now = at("2026-11-28T09:00:00Z");
        let window = Window::parse(None, None, now).unwrap();
        assert_eq!(
            (window.from(), window.to()),
            (at("2026-10-31T16:00:00Z"), now)
        );
        let october = Window::parse(None, Some(at("2026-10-15T00:00:00Z")), now).unwrap();
        assert_eq!(october.from(), at("2026-09-30T16:00:00Z"));
        // Up to the turn of November in China: all of October.
        let whole = Window::parse(None, Some(at("2026-10-31T16:00:00Z")), now).unwrap();
        assert_eq!(whole.from(), at("2026-09-30T16:00:00Z"));
        assert!(Window::parse(Some(now), Some(at("2026-11-01T00:00:00Z")), now).is_err());
        assert!(Window::parse(Some(now), Some(now), now).is_ok());
    }

    #[test]
    fn major_units_are_exact() {
        let cny = Currency::parse("CNY").unwrap();
        assert_eq!(major_units(12850, cny), "128.50");
        assert_eq!(major_units(5, cny), "0.05");
        assert_eq!(major_units(-5, cny), "-0.05");
        assert_eq!(major_units(1500, Currency::parse("JPY").unwrap()), "1500");
        assert_eq!(major_units(1234, Currency::parse("KWD").unwrap()), "1.234");
    }
}
