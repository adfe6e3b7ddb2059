//! A card gateway's authorisation of an order's payment: recorded as `requested`
//! before the gateway is asked (one at a time per order), then settled once, by the
//! gateway's answer or by its later signed notification; a gateway that does not
//! answer in time leaves it `pending` for the notification. Only an open
//! (`requested` or `pending`) authorisation can still be settled, so a notification
//! can never pay an order twice, nor pay one the gateway was never asked to charge.

use std::fmt;

/// Where an authorisation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorisationStatus {
    /// The gateway is being asked now; its answer is not recorded yet.
    Requested,
    /// Asked for; the gateway has not said how it ended (it timed out).
    Pending,
    /// The money was taken.
    Captured,
    /// The gateway refused at once.
    Declined,
    /// The gateway reported later that it failed.
    Failed,
    /// Abandoned: the order was paid otherwise, cancelled or expired first.
    Voided,
}

impl AuthorisationStatus {
    /// Every status, as stored.
    pub const ALL: [AuthorisationStatus; 6] = [
        Self::Requested,
        Self::Pending,
        Self::Captured,
        Self::Declined,
        Self::Failed,
        Self::Voided,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Pending => "pending",
            Self::Captured => "captured",
            Self::Declined => "declined",
            Self::Failed => "failed",
            Self::Voided => "voided",
        }
    }

    /// The status with this stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// Whether it can still be settled: requested, or pending.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Requested | Self::Pending)
    }

    /// Settles an open authorisation as `outcome` (a requested one may also become
    /// pending: the gateway did not answer in time); a settled one stays as it is.
    pub fn settle(self, outcome: AuthorisationStatus) -> Result<AuthorisationStatus, Settled> {
        match (self, outcome) {
            (Self::Requested, Self::Pending) => Ok(outcome),
            (Self::Requested | Self::Pending, Self::Requested | Self::Pending) => {
                Err(Settled { status: self })
            }
            (Self::Requested | Self::Pending, outcome) => Ok(outcome),
            (settled, _) => Err(Settled { status: settled }),
        }
    }

    /// Whether a report that the payment `succeeded` (or not) says what is already
    /// recorded: a repeat of a notification that changed this authorisation before.
    pub fn already_reports(self, succeeded: bool) -> bool {
        if succeeded {
            self == Self::Captured
        } else {
            matches!(self, Self::Declined | Self::Failed | Self::Voided)
        }
    }
}

impl fmt::Display for AuthorisationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authorisation that was already settled (or a settlement that settles nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the authorisation is {status}; it cannot change any more")]
pub struct Settled {
    /// Where it stands.
    pub status: AuthorisationStatus,
}

#[cfg(test)]
mod tests {
    use super::AuthorisationStatus as S;

    #[test]
    fn only_an_open_authorisation_settles_and_only_once() {
        for outcome in [S::Captured, S::Declined, S::Failed, S::Voided] {
            assert_eq!(S::Pending.settle(outcome), Ok(outcome));
            assert_eq!(S::Requested.settle(outcome), Ok(outcome));
            for settled in [S::Captured, S::Declined, S::Failed, S::Voided] {
                assert!(!settled.is_open());
                assert!(settled.settle(outcome).is_err(), "{settled} -> {outcome}");
                assert!(settled.settle(S::Pending).is_err(), "{settled} -> pending");
            }
        }
        // A gateway that did not answer in time leaves it open, waiting.
        assert_eq!(S::Requested.settle(S::Pending), Ok(S::Pending));
        assert!(S::Pending.settle(S::Pending).is_err());
        assert!(S::Pending.settle(S::Requested).is_err());
        assert!(S::Requested.settle(S::Requested).is_err());
    }

    #[test]
    fn stored_names_round_trip_and_unknown_ones_are_refused() {
        for status in S::ALL {
            assert_eq!(S::parse(status.as_str()), Some(status));
        }
        assert_eq!(S::parse("approved"), None);
    }

    #[test]
    fn repeats_are_recognised() {
        assert!(S::Captured.already_reports(true));
        assert!(!S::Pending.already_reports(true));
        assert!(!S::Requested.already_reports(true));
        assert!(!S::Requested.already_reports(false));
        assert!(!S::Voided.already_reports(true));
        assert!(S::Failed.already_reports(false));
        assert!(!S::Captured.already_reports(false));
    }
}
