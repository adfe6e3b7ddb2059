//! Harvest pre-orders (预售): a campaign's terms, checked once at the edge, and
//! where a campaign stands.

use caravan_shared::domain::{Currency, Money};
use caravan_shared::error::FieldError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Most units one campaign may promise.
pub const MAX_ALLOCATION: i32 = 1_000_000;
/// How far ahead a harvest may ship, in days: the next season's.
pub const MAX_DAYS: i64 = 731;
/// Fewest and most days buyers may be given to pay a balance.
pub const BALANCE_DAYS: std::ops::RangeInclusive<i32> = 1..=60;

/// What an unpaid balance costs the buyer when its deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "forfeit")]
pub enum DepositPolicy {
    /// The order is cancelled and the shop keeps the deposit.
    Forfeit,
    /// The order is cancelled and the deposit refunded.
    Refund,
}

impl DepositPolicy {
    /// Every policy, as stored.
    pub const ALL: [DepositPolicy; 2] = [Self::Forfeit, Self::Refund];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forfeit => "forfeit",
            Self::Refund => "refund",
        }
    }

    /// The policy with this stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }
}

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "open")]
pub enum CampaignStatus {
    /// Taking pre-orders (until `ends_at`, if set).
    Open,
    /// The harvest is announced: paid pre-orders ship, balances are due.
    Harvested,
    /// The harvest failed (hail, frost): every pre-order was cancelled and refunded.
    CalledOff,
}

impl CampaignStatus {
    /// Every status, as stored.
    pub const ALL: [CampaignStatus; 3] = [Self::Open, Self::Harvested, Self::CalledOff];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Harvested => "harvested",
            Self::CalledOff => "called_off",
        }
    }

    /// The status with this stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// A campaign's terms, every one valid.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignTerms {
    /// Units the harvest is promised to.
    pub allocation: i32,
    /// The day the harvest ships from.
    pub ships_from: NaiveDate,
    /// The deposit per unit in each currency (each above zero); `None`: pre-orders
    /// are paid in full.
    pub deposits: Option<Vec<Money>>,
    /// Days to pay the balance once the harvest is announced.
    pub balance_days: i32,
    /// What an unpaid balance costs.
    pub deposit_policy: DepositPolicy,
    /// When sales close, if before the harvest.
    pub ends_at: Option<DateTime<Utc>>,
}

/// Terms as a request gives them.
#[derive(Debug, Clone)]
pub struct CampaignInput {
    pub allocation: i32,
    pub ships_from: NaiveDate,
    pub deposits: Option<Vec<Money>>,
    pub balance_days: Option<i32>,
    pub deposit_policy: Option<DepositPolicy>,
    pub ends_at: Option<DateTime<Utc>>,
}

impl CampaignTerms {
    /// The terms of `input` as of `now`; every invalid field is named.
    pub fn parse(input: CampaignInput, now: DateTime<Utc>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !(1..=MAX_ALLOCATION).contains(&input.allocation) {
            errors.push(FieldError::new(
                "allocation",
                format!("must be from 1 to {MAX_ALLOCATION}"),
            ));
        }
        if input.ships_from < now.date_naive() {
            errors.push(FieldError::new("ships_from", "must not be in the past"));
        } else if input.ships_from > (now + chrono::Duration::days(MAX_DAYS)).date_naive() {
            errors.push(FieldError::new(
                "ships_from",
                format!("must be at most {MAX_DAYS} days ahead"),
            ));
        }
        if let Some(deposits) = &input.deposits {
            if deposits.is_empty() {
                errors.push(FieldError::new(
                    "deposits",
                    "must name a deposit in at least one currency, or be null for full payment",
                ));
            }
            let mut seen: HashSet<Currency> = HashSet::new();
            for (index, deposit) in deposits.iter().enumerate() {
                if deposit.amount <= 0 {
                    errors.push(FieldError::new(
                        format!("deposits[{index}].amount"),
                        "must be above zero",
                    ));
                }
                if !seen.insert(deposit.currency) {
                    errors.push(FieldError::new(
                        format!("deposits[{index}].currency"),
                        format!("{} is named twice", deposit.currency),
                    ));
                }
            }
        }
        let balance_days = input.balance_days.unwrap_or(7);
        if !BALANCE_DAYS.contains(&balance_days) {
            errors.push(FieldError::new(
                "balance_days",
                format!(
                    "must be from {} to {}",
                    BALANCE_DAYS.start(),
                    BALANCE_DAYS.end()
                ),
            ));
        }
        match input.ends_at {
            Some(end) if end <= now => {
                errors.push(FieldError::new("ends_at", "must be in the future"));
            }
            Some(end) if end > now + chrono::Duration::days(MAX_DAYS) => {
                errors.push(FieldError::new(
                    "ends_at",
                    format!("must be at most {MAX_DAYS} days ahead"),
                ));
            }
            _ => {}
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            allocation: input.allocation,
            ships_from: input.ships_from,
            deposits: input.deposits,
            balance_days,
            deposit_policy: input.deposit_policy.unwrap_or(DepositPolicy::Forfeit),
            ends_at: input.ends_at,
        })
    }
}

/// The deposit per unit in `currency` among `deposits`, if any.
pub fn deposit_in(deposits: &[Money], currency: Currency) -> Option<Money> {
    deposits.iter().find(|d| d.currency == currency).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn input(now: DateTime<Utc>) -> CampaignInput {
        CampaignInput {
            allocation: 500,
            ships_from: (now + TimeDelta::days(200)).date_naive(),
            deposits: Some(vec![Money::new(2000, Currency::cny())]),
            balance_days: None,
            deposit_policy: None,
            ends_at: None,
        }
    }

    #[test]
    fn defaults_are_a_week_to_pay_and_a_forfeited_deposit() {
        let now = Utc::now();
        let terms = CampaignTerms::parse(input(now), now).unwrap();
        assert_eq!(terms.balance_days, 7);
        assert_eq!(terms.deposit_policy, DepositPolicy::Forfeit);
    }

    #[test]
    fn every_invalid_field_is_named() {
        let now = Utc::now();
        let bad = CampaignInput {
            allocation: 0,
            ships_from: (now - TimeDelta::days(2)).date_naive(),
            deposits: Some(vec![
                Money::new(0, Currency::cny()),
                Money::new(10, Currency::cny()),
            ]),
            balance_days: Some(61),
            deposit_policy: None,
            ends_at: Some(now - TimeDelta::hours(1)),
        };
        let fields: Vec<String> = CampaignTerms::parse(bad, now)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "allocation",
                "ships_from",
                "deposits[0].amount",
                "deposits[1].currency",
                "balance_days",
                "ends_at"
            ]
        );
    }

    #[test]
    fn names_round_trip() {
        for status in CampaignStatus::ALL {
            assert_eq!(CampaignStatus::parse(status.as_str()), Some(status));
        }
        for policy in DepositPolicy::ALL {
            assert_eq!(DepositPolicy::parse(policy.as_str()), Some(policy));
        }
    }
}
