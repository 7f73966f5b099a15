//! The bus inside the store: queues are rows, so a crash loses nothing here either.

use std::time::Duration;

use bytes::Bytes;

use super::{
    BusError, ConsumeOptions, Consumer, Outcome, QueueDepth, QueueName, RetryPolicy, Settled,
};
use crate::store::Store;

/// Work queues kept in the store's `queue_items` table; cheap to clone.
#[derive(Clone)]
pub struct EmbeddedBus {
    store: Store,
    retry: RetryPolicy,
}

/// Acknowledges one embedded delivery by its row id.
#[derive(Debug)]
pub struct EmbeddedAck {
    #[allow(dead_code, reason = "read once the embedded backend lands")]
    pub(crate) id: i64,
}

impl EmbeddedBus {
    /// A bus on `store`.
    pub fn new(store: Store, retry: RetryPolicy) -> Self {
        Self { store, retry }
    }

    /// Inserts rows in one transaction.
    pub async fn publish(&self, _queue: &QueueName, _payloads: &[Bytes]) -> Result<(), BusError> {
        let _ = &self.store;
        Err(BusError::Unavailable("not implemented".into()))
    }

    /// Inserts a row visible after `delay`.
    pub async fn publish_delayed(
        &self,
        _queue: &QueueName,
        _payload: Bytes,
        _attempt: u32,
        _delay: Duration,
    ) -> Result<(), BusError> {
        Err(BusError::Unavailable("not implemented".into()))
    }

    /// Polls visible rows.
    pub async fn consume(
        &self,
        _queue: &QueueName,
        _options: ConsumeOptions,
    ) -> Result<Consumer, BusError> {
        Err(BusError::Unavailable("not implemented".into()))
    }

    /// Events stay in-process when embedded.
    pub async fn publish_event(&self, _routing_key: &str, _payload: Bytes) -> Result<(), BusError> {
        Ok(())
    }

    /// Rows waiting in the queue.
    pub async fn depth(&self, _queue: &QueueName) -> Result<QueueDepth, BusError> {
        Ok(QueueDepth::default())
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }
}

impl EmbeddedAck {
    /// Deletes, delays, or dead-letters the row.
    pub async fn settle(
        self,
        _queue: &QueueName,
        _payload: Bytes,
        _attempt: u32,
        _outcome: &Outcome,
    ) -> Result<Settled, BusError> {
        Err(BusError::Unavailable("not implemented".into()))
    }
}
