//! What a recorded movement of money is (`PaymentKind`) and how it ended
//! (`PaymentStatus`): closed sets, so a stored value Caravan does not know is an
//! error when read, never taken for another.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A movement of money: in, or out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "payment")]
pub enum PaymentKind {
    /// Money in, from the buyer.
    Payment,
    /// Money back, to the buyer.
    Refund,
}

impl PaymentKind {
    /// Every kind, as stored.
    pub const ALL: [PaymentKind; 2] = [Self::Payment, Self::Refund];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::Refund => "refund",
        }
    }

    /// The kind with this stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

impl fmt::Display for PaymentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a payment or refund ended, or that it has not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "succeeded")]
pub enum PaymentStatus {
    /// The money moved.
    Succeeded,
    /// The provider refused.
    Declined,
    /// It went wrong (a timeout with nothing charged, a failed refund, money taken
    /// too late and returned).
    Failed,
    /// Waiting: for a transfer, or for a provider that has not answered.
    Pending,
}

impl PaymentStatus {
    /// Every status, as stored.
    pub const ALL: [PaymentStatus; 4] =
        [Self::Succeeded, Self::Declined, Self::Failed, Self::Pending];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Declined => "declined",
            Self::Failed => "failed",
            Self::Pending => "pending",
        }
    }

    /// The status with this stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip_and_unknown_ones_are_refused() {
        for kind in PaymentKind::ALL {
            assert_eq!(PaymentKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.as_str())
            );
        }
        assert_eq!(PaymentKind::parse("chargeback"), None);
        assert_eq!(PaymentStatus::parse("Succeeded"), None);
    }
}
