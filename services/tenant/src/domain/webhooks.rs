//! Webhooks' closed sets: where a delivery stands.

/// Where a delivery of an event to an endpoint stands (`webhook_deliveries.status`):
/// `pending` until a try succeeds (`delivered`) or the tries run out or the
/// destination is refused (`failed`); a manual retry makes it `pending` again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Queued, or waiting for its next try.
    Pending,
    /// A try succeeded.
    Delivered,
    /// Given up on.
    Failed,
}

impl DeliveryStatus {
    /// The stored name, as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// Reads a stored name; `None` for one this code does not know (never a
    /// default).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_as_written_and_unknown_ones_are_refused() {
        for status in [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DeliveryStatus::parse("bounced"), None);
        assert_eq!(DeliveryStatus::parse("Pending"), None);
    }
}
