//! Statuses the catalog stores: a product's lifecycle and a reservation's state.
//! Each travels as its enum from the row to the answer; the stored and answered
//! names are the `as_str` ones. A row naming a status the code does not know fails
//! to read (see `store/columns.rs`), never passes for another one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a product is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// Being written; not on the storefront.
    Draft,
    /// On the storefront, for sale.
    Active,
    /// Off the storefront, kept for orders and history.
    Archived,
}

impl ProductStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [ProductStatus; 3] = [Self::Draft, Self::Active, Self::Archived];

    /// The stored (and answered) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }

    /// The status with this name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

impl fmt::Display for ProductStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an order's reservation of stock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// Stock held for an unpaid order.
    Held,
    /// Paid: the units left on hand as a sale.
    Committed,
    /// Cancelled or expired before payment: the hold freed.
    Released,
    /// Cancelled after payment, before shipping: the units back on hand.
    Returned,
}

impl ReservationStatus {
    /// Every status.
    pub const ALL: [ReservationStatus; 4] =
        [Self::Held, Self::Committed, Self::Released, Self::Returned];

    /// The stored (and answered) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Committed => "committed",
            Self::Released => "released",
            Self::Returned => "returned",
        }
    }

    /// The status with this name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

impl fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{ProductStatus, ReservationStatus};

    #[test]
    fn names_round_trip_and_match_serde() {
        for status in ProductStatus::ALL {
            assert_eq!(ProductStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
            assert!(crate::domain::STATUSES.contains(&status.as_str()));
        }
        assert_eq!(crate::domain::STATUSES.len(), ProductStatus::ALL.len());
        for status in ReservationStatus::ALL {
            assert_eq!(ReservationStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert_eq!(ProductStatus::parse("published"), None);
        assert_eq!(ReservationStatus::parse("shipped"), None);
    }
}
