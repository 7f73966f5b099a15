//! The life of one outbound message; it only ever moves forward.

use std::fmt;

/// Where an outbound message is; callbacks arrive out of order, so only forward moves apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Queued,
    Sending,
    Sent,
    Delivered,
    Undelivered,
    Failed,
    Cancelled,
}

/// A status name that no carrier mapping or stored row should produce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown message status `{0}`")]
pub struct UnknownStatus(pub String);

impl MessageStatus {
    /// Every status, in rank order.
    pub const ALL: [MessageStatus; 7] = [
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Delivered,
        Self::Undelivered,
        Self::Failed,
        Self::Cancelled,
    ];

    /// Position in the forward order `queued < sending < sent < terminal`.
    pub fn rank(self) -> u8 {
        match self {
            Self::Queued => 0,
            Self::Sending => 1,
            Self::Sent => 2,
            Self::Delivered | Self::Undelivered | Self::Failed | Self::Cancelled => 3,
        }
    }

    /// A terminal status never changes again.
    pub fn is_terminal(self) -> bool {
        self.rank() == 3
    }

    /// True when `next` is a move forward from `self` (a late `sent` never overwrites `delivered`).
    pub fn can_advance_to(self, next: MessageStatus) -> bool {
        next.rank() > self.rank()
    }

    /// The status to store after `next` is reported, or `None` to ignore the report, because
    /// carriers retry callbacks and deliver them out of order.
    pub fn advance(self, next: MessageStatus) -> Option<MessageStatus> {
        self.can_advance_to(next).then_some(next)
    }

    /// The name stored in the database and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a stored status name.
    pub fn parse(text: &str) -> Result<Self, UnknownStatus> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_round_trip() {
        for status in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(status.as_str()), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
            let json = serde_json::to_string(&status).expect("serialize");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert_eq!(
            MessageStatus::parse("Sent"),
            Err(UnknownStatus("Sent".into()))
        );
    }

    #[test]
    fn advances_only_forward() {
        use MessageStatus::*;
        assert_eq!(Queued.advance(Sending), Some(Sending));
        assert_eq!(
            Queued.advance(Delivered),
            Some(Delivered),
            "a skipped step is fine"
        );
        assert_eq!(
            Sent.advance(Sent),
            None,
            "a duplicate callback changes nothing"
        );
        assert_eq!(
            Delivered.advance(Sent),
            None,
            "a late `sent` never overwrites `delivered`"
        );
        assert_eq!(
            Delivered.advance(Failed),
            None,
            "a terminal status is final"
        );
        assert_eq!(Cancelled.advance(Sending), None);
        assert!(
            MessageStatus::ALL
                .iter()
                .filter(|s| s.is_terminal())
                .count()
                == 4
        );
    }

    fn status() -> impl Strategy<Value = MessageStatus> {
        prop::sample::select(MessageStatus::ALL.to_vec())
    }

    fn apply(start: MessageStatus, reports: &[MessageStatus]) -> Vec<MessageStatus> {
        let mut history = vec![start];
        for next in reports {
            let current = *history.last().unwrap_or(&start);
            history.push(current.advance(*next).unwrap_or(current));
        }
        history
    }

    proptest! {
        #[test]
        fn advance_is_some_exactly_for_a_forward_move(a in status(), b in status()) {
            prop_assert_eq!(a.advance(b), if b.rank() > a.rank() { Some(b) } else { None });
        }

        #[test]
        fn reports_in_any_order_never_move_backward_or_replace_a_terminal(
            start in status(),
            reports in prop::collection::vec(status(), 0..12).prop_shuffle(),
        ) {
            let history = apply(start, &reports);
            for pair in history.windows(2) {
                prop_assert!(pair[1].rank() >= pair[0].rank(), "{:?}", history);
                if pair[0].is_terminal() {
                    prop_assert_eq!(pair[1], pair[0]);
                }
            }
            // Whatever the order, the result reaches the highest rank reported.
            let highest = reports.iter().chain([&start]).map(|s| s.rank()).max();
            prop_assert_eq!(history.last().map(|s| s.rank()), highest);
        }
    }
}
