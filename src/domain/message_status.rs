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
