//! Why a publish or consume failed.

/// A bus failure; `Unavailable` means "write to the outbox and try later".
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    #[error("broker refused the message (nack) on {0}")]
    Nacked(String),
    #[error("broker error: {0}")]
    Broker(String),
    /// The embedded bus's group commit failed or stopped.
    #[error("embedded queue: {0}")]
    Embedded(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
