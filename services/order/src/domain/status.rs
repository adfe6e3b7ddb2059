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
    /// A group order, paid, its stock still held: it ships once its group forms and
    /// is refunded if the group fails.
    AwaitingGroup,
    /// A harvest pre-order, its deposit or all of it paid: it ships once the shop
    /// announces the harvest (and the balance is paid).
    Preordered,
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
    pub const ALL: [OrderStatus; 11] = [
        Self::PendingPayment,
        Self::AwaitingGroup,
        Self::Preordered,
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
            Self::AwaitingGroup => "awaiting_group",
            Self::Preordered => "preordered",
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

    /// Moves the order by `action`, or says why it cannot move. The answer is the
    /// only way to a status write ([`Transition`]).
    pub fn apply(self, action: Action) -> Result<Transition, IllegalTransition> {
        use Action as A;
        use OrderStatus as S;
        let next = match (self, action) {
            (S::PendingPayment, A::Pay) => S::Paid,
            (S::PendingPayment, A::PayIntoGroup) => S::AwaitingGroup,
            (S::AwaitingGroup, A::FormGroup) => S::Paid,
            (S::PendingPayment, A::Preorder) => S::Preordered,
            (S::Preordered, A::Harvest) => S::Paid,
            (S::PendingPayment, A::Expire) => S::Expired,
            (S::PendingPayment | S::AwaitingGroup | S::Preordered | S::Paid, A::Cancel) => {
                S::Cancelled
            }
            // A shipment must ship something: an order with nothing left to ship
            // (a partially refunded one can be) does not move back to `fulfilled`.
            (S::Paid | S::PartiallyFulfilled | S::PartiallyRefunded, A::Fulfil(Shipping::Part)) => {
                S::PartiallyFulfilled
            }
            (S::Paid | S::PartiallyFulfilled | S::PartiallyRefunded, A::Fulfil(Shipping::Rest)) => {
                S::Fulfilled
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
        Ok(Transition {
            from: self,
            to: next,
        })
    }

    /// Whether `action` is allowed from this status, moving nothing: asked before
    /// an action's details are known (whether a shipment is the last, say).
    pub fn allows(self, action: Action) -> Result<(), IllegalTransition> {
        self.apply(action).map(drop)
    }
}

/// A move the state machine allowed, from one status to the next. Only
/// [`OrderStatus::apply`] makes one, and the store writes a status only from one:
/// no status is written that the table does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    from: OrderStatus,
    to: OrderStatus,
}

impl Transition {
    /// The status the order must be in.
    pub fn from(self) -> OrderStatus {
        self.from
    }

    /// The status it moves to.
    pub fn to(self) -> OrderStatus {
        self.to
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
    /// The money of a group order arrived; its group has not formed yet.
    PayIntoGroup,
    /// The order's group formed: it ships.
    FormGroup,
    /// The deposit of a pre-order, or all of it, arrived.
    Preorder,
    /// The pre-order's harvest is in and it is paid in full: it ships.
    Harvest,
    /// Unpaid past its deadline.
    Expire,
    /// Called off by staff.
    Cancel,
    /// Units shipped: how much of what was left to ship.
    Fulfil(Shipping),
    /// The buyer received it.
    Deliver,
    /// Money returned; `full` when everything paid is now refunded.
    Refund { full: bool },
}

impl Action {
    /// The verb, for messages.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Pay | Self::PayIntoGroup => "pay",
            Self::FormGroup => "join a formed group",
            Self::Preorder => "be pre-ordered",
            Self::Harvest => "ship from the harvest",
            Self::Expire => "expire",
            Self::Cancel => "cancel",
            Self::Fulfil(_) => "fulfil",
            Self::Deliver => "mark delivered",
            Self::Refund { .. } => "refund",
        }
    }
}

/// What a shipment ships of what was left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shipping {
    /// Nothing: nothing was left to ship, or the shipment holds no units.
    Nothing,
    /// Some units; others are still to ship.
    Part,
    /// Everything that was left.
    Rest,
}

/// An action the order's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(*from, *action))]
pub struct IllegalTransition {
    /// The status it is in.
    pub from: OrderStatus,
    /// What was attempted.
    pub action: Action,
}

fn describe(from: OrderStatus, action: Action) -> String {
    match action {
        Action::Fulfil(Shipping::Nothing) => {
            format!("nothing is left to ship on an order that is {from}")
        }
        _ => format!("an order that is {from} cannot {}", action.verb()),
    }
}

#[cfg(test)]
mod tests {
    use super::{Action, OrderStatus as S, Shipping};

    fn next(from: S, action: Action) -> S {
        from.apply(action).unwrap().to()
    }

    #[test]
    fn the_happy_path_moves_forward() {
        let paid = next(S::PendingPayment, Action::Pay);
        let partly = next(paid, Action::Fulfil(Shipping::Part));
        let shipped = next(partly, Action::Fulfil(Shipping::Rest));
        assert_eq!(shipped, S::Fulfilled);
        assert_eq!(next(shipped, Action::Deliver), S::Delivered);
        let step = S::Paid.apply(Action::Fulfil(Shipping::Rest)).unwrap();
        assert_eq!((step.from(), step.to()), (S::Paid, S::Fulfilled));
    }

    #[test]
    fn a_shipment_of_nothing_moves_no_order() {
        for status in S::ALL {
            let error = status.apply(Action::Fulfil(Shipping::Nothing)).unwrap_err();
            assert_eq!(error.from, status);
        }
        let error = S::PartiallyRefunded
            .apply(Action::Fulfil(Shipping::Nothing))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "nothing is left to ship on an order that is partially_refunded"
        );
        // Refunded in part before shipping: the rest still ships.
        assert_eq!(
            next(S::PartiallyRefunded, Action::Fulfil(Shipping::Rest)),
            S::Fulfilled
        );
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
    fn a_group_order_waits_paid_until_its_group_forms() {
        let waiting = next(S::PendingPayment, Action::PayIntoGroup);
        assert_eq!(waiting, S::AwaitingGroup);
        assert_eq!(next(waiting, Action::FormGroup), S::Paid);
        assert_eq!(next(waiting, Action::Cancel), S::Cancelled);
        // Nothing ships, and nothing is refunded in part, before the group forms.
        assert!(waiting.apply(Action::Fulfil(Shipping::Rest)).is_err());
        assert!(waiting.apply(Action::Refund { full: false }).is_err());
        assert!(waiting.apply(Action::Pay).is_err());
        assert!(waiting.apply(Action::Expire).is_err());
        assert!(S::Paid.apply(Action::FormGroup).is_err());
        assert!(S::PendingPayment.apply(Action::FormGroup).is_err());
    }

    #[test]
    fn a_pre_order_waits_for_its_harvest() {
        let waiting = next(S::PendingPayment, Action::Preorder);
        assert_eq!(waiting, S::Preordered);
        assert_eq!(next(waiting, Action::Harvest), S::Paid);
        assert_eq!(next(waiting, Action::Cancel), S::Cancelled);
        assert!(waiting.apply(Action::Fulfil(Shipping::Rest)).is_err());
        assert!(waiting.apply(Action::Expire).is_err());
        assert!(waiting.apply(Action::Preorder).is_err());
        assert!(S::Paid.apply(Action::Harvest).is_err());
    }

    #[test]
    fn names_round_trip() {
        for status in S::ALL {
            assert_eq!(S::parse(status.as_str()), Some(status));
        }
        assert_eq!(S::parse("shipped"), None);
    }
}
