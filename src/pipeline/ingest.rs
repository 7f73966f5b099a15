//! Ingest: make a piece of incoming work durable before anyone is told "accepted".
//!
//! On RabbitMQ that means a publisher confirm; if the broker cannot confirm in time,
//! the payload goes to the outbox table instead, and the forwarder publishes it once
//! the broker is back. Embedded, the bus *is* the store, so the commit is the answer.

use bytes::Bytes;

use crate::bus::{Bus, BusError, QueueName};
use crate::store::{Store, StoreError};
use crate::telemetry::metrics::INGEST_OUTBOX_TOTAL;

/// Where an accepted payload was made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durable {
    /// Confirmed by the broker, or committed to the embedded queue.
    Queue,
    /// The broker was unreachable: committed to the outbox, forwarded later.
    Outbox,
}

/// The payload is not durable anywhere: answer 503 so the sender retries.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The embedded bus is the store, so there is no second place to try.
    #[error("work could not be made durable: {0}")]
    Embedded(BusError),
    /// The broker did not confirm and the outbox did not commit either.
    #[error("work could not be made durable: bus: {bus}; outbox: {outbox}")]
    BusAndOutbox { bus: BusError, outbox: StoreError },
}

/// Accepts work for the pipeline; cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    bus: Bus,
    store: Store,
}

impl Ingest {
    /// Ingest onto `bus`, falling back to `store`'s outbox.
    pub fn new(bus: Bus, store: Store) -> Self {
        Self { bus, store }
    }

    /// The bus behind this ingest.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Makes `payload` durable on `queue` (or in the outbox) and says where.
    pub async fn accept(&self, queue: &QueueName, payload: Bytes) -> Result<Durable, IngestError> {
        match self
            .bus
            .publish(queue, std::slice::from_ref(&payload))
            .await
        {
            Ok(()) => Ok(Durable::Queue),
            Err(bus) if matches!(self.bus, Bus::Rabbit(_)) => {
                tracing::warn!(queue = %queue, error = %bus, "broker did not confirm; writing to the outbox");
                match self.store.outbox_push(queue.as_str(), &payload).await {
                    Ok(_) => {
                        metrics::counter!(INGEST_OUTBOX_TOTAL, "queue" => queue.as_str().to_owned()).increment(1);
                        Ok(Durable::Outbox)
                    }
                    Err(outbox) => Err(IngestError::BusAndOutbox { bus, outbox }),
                }
            }
            Err(bus) => Err(IngestError::Embedded(bus)),
        }
    }
}
