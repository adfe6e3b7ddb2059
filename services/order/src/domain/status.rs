//! The order's status: one state machine, one transition function.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "paid")]
pub enum OrderStatus {
    /// Placed, stock held, waiting for money.
    PendingPayment,
    /// Paid in full; stock committed.
    Paid,
    /// Some lines shipped.
    PartiallyFulfilled,
    /// Every line shipped.
    Fulfilled,
    /// The buyer has it.
    Delivered,
    /// Called off (and refunded if it had been paid); stock back.
    Cancelled,
    /// Not paid in time; stock released.
    Expired,
    /// Part of the money returned.
    PartiallyRefunded,
    /// All the money returned.
    Refunded,
}

impl OrderStatus {
    /// Every status, as stored.
    pub const ALL: [OrderStatus; 9] = [
        Self::PendingPayment,
        Self::Paid,
        Self::PartiallyFulfilled,
        Self::Fulfilled,
        Self::Delivered,
        Self::Cancelled,
        Self::Expired,
        Self::PartiallyRefunded,
        Self::Refunded,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::Paid => "paid",
            Self::PartiallyFulfilled => "partially_fulfilled",
            Self::Fulfilled => "fulfilled",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }

    /// The status with this stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// Moves the order by `action`, or says why it cannot move.
    pub fn apply(self, action: Action) -> Result<OrderStatus, IllegalTransition> {
        use Action as A;
        use OrderStatus as S;
        let next = match (self, action) {
            (S::PendingPayment, A::Pay) => S::Paid,
            (S::PendingPayment, A::Expire) => S::Expired,
            (S::PendingPayment | S::Paid, A::Cancel) => S::Cancelled,
            (S::Paid | S::PartiallyFulfilled | S::PartiallyRefunded, A::Fulfil { complete }) => {
                if complete {
                    S::Fulfilled
                } else {
                    S::PartiallyFulfilled
                }
            }
            (S::Fulfilled, A::Deliver) => S::Delivered,
            (
                S::Paid
                | S::PartiallyFulfilled
                | S::Fulfilled
                | S::Delivered
                | S::PartiallyRefunded,
                A::Refund { full },
            ) => {
                if full {
                    S::Refunded
                } else {
                    S::PartiallyRefunded
                }
            }
            _ => {
                return Err(IllegalTransition { from: self, action });
            }
        };
        Ok(next)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can happen to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The money arrived.
    Pay,
    /// Unpaid past its deadline.
    Expire,
    /// Called off by staff.
    Cancel,
    /// Lines shipped; `complete` when nothing is left to ship.
    Fulfil { complete: bool },
    /// The buyer received it.
    Deliver,
    /// Money returned; `full` when everything paid is now refunded.
    Refund { full: bool },
}

impl Action {
    /// The verb, for messages.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Pay => "pay",
            Self::Expire => "expire",
            Self::Cancel => "cancel",
            Self::Fulfil { .. } => "fulfil",
            Self::Deliver => "mark delivered",
            Self::Refund { .. } => "refund",
        }
    }
}

/// An action the order's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from} cannot {}", action.verb())]
pub struct IllegalTransition {
    /// The status it is in.
    pub from: OrderStatus,
    /// What was attempted.
    pub action: Action,
}

#[cfg(test)]
mod tests {
    use super::{Action, OrderStatus as S};

    #[test]
    fn the_happy_path_moves_forward() {
        let paid = S::PendingPayment.apply(Action::Pay).unwrap();
        let partly = paid.apply(Action::Fulfil { complete: false }).unwrap();
        let shipped = partly.apply(Action::Fulfil { complete: true }).unwrap();
        assert_eq!(shipped, S::Fulfilled);
        assert_eq!(shipped.apply(Action::Deliver).unwrap(), S::Delivered);
    }

    #[test]
    fn illegal_moves_are_refused_with_the_current_status() {
        let error = S::PendingPayment.apply(Action::Deliver).unwrap_err();
        assert_eq!(error.from, S::PendingPayment);
        assert_eq!(
            error.to_string(),
            "an order that is pending_payment cannot mark delivered"
        );
        for done in [S::Cancelled, S::Expired, S::Refunded] {
            assert!(done.apply(Action::Pay).is_err());
            assert!(done.apply(Action::Cancel).is_err());
            assert!(done.apply(Action::Refund { full: true }).is_err());
        }
        assert!(
            S::PendingPayment
                .apply(Action::Refund { full: true })
                .is_err()
        );
        assert!(S::Fulfilled.apply(Action::Cancel).is_err());
        assert!(S::Paid.apply(Action::Expire).is_err());
    }

    #[test]
    fn names_round_trip() {
        for status in S::ALL {
            assert_eq!(S::parse(status.as_str()), Some(status));
        }
        assert_eq!(S::parse("shipped"), None);
    }
}
