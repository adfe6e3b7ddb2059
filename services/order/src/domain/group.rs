//! Group deals (拼团): a deal's terms, checked once at the edge, where a deal stands
//! in its time, and the status of a group.

use super::collect;
use caravan_shared::domain::{Currency, Money};
use caravan_shared::error::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Fewest and most buyers a group may need.
pub const GROUP_SIZES: std::ops::RangeInclusive<i32> = 2..=50;
/// Shortest and longest time a group stays open, in hours.
pub const OPEN_HOURS: std::ops::RangeInclusive<i32> = 1..=72;
/// Most units one deal may sell.
pub const MAX_UNITS: i32 = 1_000_000;
/// How far ahead a deal may run, in days.
pub const MAX_DAYS: i64 = 366;

/// The terms of a deal, every one valid: group prices (one per currency, each
/// above zero), the group size, how long a group stays open, the units the deal
/// may sell, and when it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct DealTerms {
    /// The group price in each currency it is offered in.
    pub prices: Vec<Money>,
    /// Paid orders a group needs to form.
    pub group_size: i32,
    /// Hours a group stays open after it opens.
    pub open_hours: i32,
    /// Units the deal may sell in all.
    pub max_units: i32,
    /// When groups may first open.
    pub starts_at: DateTime<Utc>,
    /// When groups may no longer open.
    pub ends_at: DateTime<Utc>,
}

/// Terms as a request gives them, whole or in part.
#[derive(Debug, Clone, Default)]
pub struct TermsInput {
    pub prices: Option<Vec<Money>>,
    pub group_size: Option<i32>,
    pub open_hours: Option<i32>,
    pub max_units: Option<i32>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

fn within(
    field: &str,
    value: Option<i32>,
    range: std::ops::RangeInclusive<i32>,
) -> Result<i32, FieldError> {
    match value {
        Some(value) if range.contains(&value) => Ok(value),
        Some(_) => Err(FieldError::new(
            field,
            format!("must be from {} to {}", range.start(), range.end()),
        )),
        None => Err(FieldError::new(field, "is required")),
    }
}

fn prices(prices: Option<Vec<Money>>) -> Result<Vec<Money>, Vec<FieldError>> {
    let Some(prices) = prices else {
        return Err(vec![FieldError::new("prices", "is required")]);
    };
    if prices.is_empty() {
        return Err(vec![FieldError::new(
            "prices",
            "must name a group price in at least one currency",
        )]);
    }
    let mut errors = Vec::new();
    let mut seen: HashSet<Currency> = HashSet::new();
    for (index, price) in prices.iter().enumerate() {
        if price.amount <= 0 {
            errors.push(FieldError::new(
                format!("prices[{index}].amount"),
                "must be above zero",
            ));
        }
        if !seen.insert(price.currency) {
            errors.push(FieldError::new(
                format!("prices[{index}].currency"),
                format!("{} is priced twice", price.currency),
            ));
        }
    }
    if errors.is_empty() {
        Ok(prices)
    } else {
        Err(errors)
    }
}

impl DealTerms {
    /// The terms of `input` over `base` (a deal's current terms, for an edit), as
    /// of `now`; every invalid field is named.
    pub fn parse(
        input: TermsInput,
        base: Option<&DealTerms>,
        now: DateTime<Utc>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let prices = match prices(input.prices.or_else(|| base.map(|b| b.prices.clone()))) {
            Ok(prices) => Some(prices),
            Err(found) => {
                errors.extend(found);
                None
            }
        };
        let group_size = collect(
            &mut errors,
            within(
                "group_size",
                input.group_size.or(base.map(|b| b.group_size)),
                GROUP_SIZES,
            ),
        );
        let open_hours = collect(
            &mut errors,
            within(
                "open_hours",
                input.open_hours.or(base.map(|b| b.open_hours)),
                OPEN_HOURS,
            ),
        );
        let max_units = collect(
            &mut errors,
            within(
                "max_units",
                input.max_units.or(base.map(|b| b.max_units)),
                1..=MAX_UNITS,
            ),
        );
        // A start already past is now.
        let starts_at = input
            .starts_at
            .or(base.map(|b| b.starts_at))
            .unwrap_or(now)
            .max(now);
        let ends_at = input.ends_at.or(base.map(|b| b.ends_at));
        let ends_at = match ends_at {
            None => {
                errors.push(FieldError::new("ends_at", "is required"));
                None
            }
            Some(end) if end > now + chrono::Duration::days(MAX_DAYS) => {
                errors.push(FieldError::new(
                    "ends_at",
                    format!("must be at most {MAX_DAYS} days ahead"),
                ));
                None
            }
            Some(end) if end <= starts_at => {
                errors.push(FieldError::new("ends_at", "must be after starts_at"));
                None
            }
            Some(end) if end <= now => {
                errors.push(FieldError::new("ends_at", "must be in the future"));
                None
            }
            Some(end) => Some(end),
        };
        match (prices, group_size, open_hours, max_units, ends_at) {
            (Some(prices), Some(group_size), Some(open_hours), Some(max_units), Some(ends_at))
                if errors.is_empty() =>
            {
                Ok(Self {
                    prices,
                    group_size,
                    open_hours,
                    max_units,
                    starts_at,
                    ends_at,
                })
            }
            _ => Err(errors),
        }
    }

    /// The group price in `currency`, if the deal is offered in it.
    pub fn price_in(&self, currency: Currency) -> Option<Money> {
        self.prices.iter().find(|p| p.currency == currency).copied()
    }
}

/// Where a deal stands in its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "live")]
pub enum DealStatus {
    /// Groups cannot open yet.
    Scheduled,
    /// Groups may open.
    Live,
    /// Past its end, or ended early: no new group opens; groups already forming
    /// run their time.
    Ended,
}

impl DealStatus {
    /// The status at `now` of a deal running from `starts_at` to `ends_at`, ended
    /// early at `ended_at` if so.
    pub fn at(
        now: DateTime<Utc>,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        ended_at: Option<DateTime<Utc>>,
    ) -> Self {
        if ended_at.is_some_and(|ended| ended <= now) || ends_at <= now {
            Self::Ended
        } else if starts_at > now {
            Self::Scheduled
        } else {
            Self::Live
        }
    }
}

/// Where a group stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "forming")]
pub enum GroupStatus {
    /// Open: buyers may join until it is full or its time runs out.
    Forming,
    /// Its last place was paid for: every order ships.
    Formed,
    /// Its time ran out short of its size: every order was cancelled and refunded.
    Failed,
}

impl GroupStatus {
    /// Every status, as stored.
    pub const ALL: [GroupStatus; 3] = [Self::Forming, Self::Formed, Self::Failed];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forming => "forming",
            Self::Formed => "formed",
            Self::Failed => "failed",
        }
    }

    /// The status with this stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn cny(amount: i64) -> Money {
        Money::new(amount, Currency::cny())
    }

    fn input(now: DateTime<Utc>) -> TermsInput {
        TermsInput {
            prices: Some(vec![cny(1990)]),
            group_size: Some(3),
            open_hours: Some(24),
            max_units: Some(100),
            starts_at: None,
            ends_at: Some(now + TimeDelta::days(7)),
        }
    }

    #[test]
    fn valid_terms_start_now_unless_told() {
        let now = Utc::now();
        let terms = DealTerms::parse(input(now), None, now).unwrap();
        assert_eq!(terms.starts_at, now);
        let past = TermsInput {
            starts_at: Some(now - TimeDelta::days(400_000)),
            ..input(now)
        };
        assert_eq!(DealTerms::parse(past, None, now).unwrap().starts_at, now);
        let far = TermsInput {
            ends_at: Some(now + TimeDelta::days(367)),
            ..input(now)
        };
        assert_eq!(
            DealTerms::parse(far, None, now).unwrap_err()[0].field,
            "ends_at"
        );
        assert_eq!(terms.price_in(Currency::cny()), Some(cny(1990)));
    }

    #[test]
    fn every_invalid_field_is_named() {
        let now = Utc::now();
        let bad = TermsInput {
            prices: Some(vec![cny(0), cny(5)]),
            group_size: Some(1),
            open_hours: Some(73),
            max_units: Some(0),
            starts_at: Some(now + TimeDelta::days(2)),
            ends_at: Some(now + TimeDelta::days(1)),
        };
        let errors = DealTerms::parse(bad, None, now).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "prices[0].amount",
                "prices[1].currency",
                "group_size",
                "open_hours",
                "max_units",
                "ends_at"
            ]
        );
        let missing = DealTerms::parse(TermsInput::default(), None, now).unwrap_err();
        assert_eq!(missing.len(), 5);
    }

    #[test]
    fn an_edit_keeps_what_it_does_not_name() {
        let now = Utc::now();
        let base = DealTerms::parse(input(now), None, now).unwrap();
        let edit = TermsInput {
            group_size: Some(5),
            ..TermsInput::default()
        };
        let edited = DealTerms::parse(edit, Some(&base), now).unwrap();
        assert_eq!(edited.group_size, 5);
        assert_eq!(edited.prices, base.prices);
        assert_eq!(edited.ends_at, base.ends_at);
    }

    #[test]
    fn a_deal_is_live_between_its_start_and_its_end() {
        let now = Utc::now();
        let (start, end) = (now - TimeDelta::hours(1), now + TimeDelta::hours(1));
        assert_eq!(DealStatus::at(now, start, end, None), DealStatus::Live);
        assert_eq!(
            DealStatus::at(now, now + TimeDelta::minutes(1), end, None),
            DealStatus::Scheduled
        );
        assert_eq!(DealStatus::at(end, start, end, None), DealStatus::Ended);
        assert_eq!(
            DealStatus::at(now, start, end, Some(now)),
            DealStatus::Ended
        );
    }

    #[test]
    fn group_statuses_round_trip() {
        for status in GroupStatus::ALL {
            assert_eq!(GroupStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(GroupStatus::parse("open"), None);
    }
}
