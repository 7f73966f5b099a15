//! Ingest: make a piece of incoming work durable before anyone is told "accepted".
//!
//! On RabbitMQ that means a publisher confirm; if the broker cannot confirm in time,
//! the payload goes to the outbox table instead, and the forwarder publishes it once
//! the broker is back. Embedded, the bus *is* the store, so the commit is the answer.
//!
//! Embedded, accepts are group-committed: concurrent webhooks for one queue wait together for
//! one transaction instead of queueing one by one for SQLite's single writer. A lone webhook
//! does not wait for company: a batch commits as soon as the previous one has, carrying
//! whatever arrived meanwhile, and goes to the writer ahead of the stages' transactions
//! (`store::at_the_edge`). On RabbitMQ each accept publishes at once: publishes on the
//! shared confirm channel are pipelined already, and a broker that stops answering must cost
//! each webhook one publish timeout, not one per batch queued ahead of it.

use std::time::Duration;

use bytes::Bytes;

use crate::bus::{Bus, BusError, QueueName};
use crate::pipeline::{BatchConfig, Batcher};
use crate::store::{Store, StoreError};
use crate::telemetry::metrics::INGEST_OUTBOX_TOTAL;

/// Payloads made durable together at most; far below both stores' parameter limits.
const GROUP_COMMIT_MAX: usize = 512;

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
    Embedded(String),
    /// The broker did not confirm and the outbox did not commit either.
    #[error("work could not be made durable: {0}")]
    BusAndOutbox(String),
}

/// Accepts work for the pipeline; cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    bus: Bus,
    store: Store,
    /// The embedded bus's group commit; `None` on RabbitMQ.
    commits: Option<Batcher<QueueName, Bytes, ()>>,
}

impl Ingest {
    /// Ingest onto `bus`, falling back to `store`'s outbox; starts the group commit when embedded.
    pub fn new(bus: Bus, store: Store) -> Self {
        let commits = matches!(bus, Bus::Embedded(_)).then(|| {
            let config = BatchConfig {
                size: GROUP_COMMIT_MAX,
                timeout: Duration::ZERO,
                capacity: GROUP_COMMIT_MAX * 8,
            };
            let target = bus.clone();
            let (commits, _task) =
                Batcher::spawn(config, move |queue: QueueName, payloads: Vec<Bytes>, _| {
                    let bus = target.clone();
                    async move {
                        let n = payloads.len();
                        // A carrier waits for this commit: it goes before the stages' writes.
                        crate::store::at_the_edge(bus.publish(&queue, &payloads))
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok(vec![(); n])
                    }
                });
            commits
        });
        Self {
            bus,
            store,
            commits,
        }
    }

    /// The bus behind this ingest.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Makes `payload` durable on `queue` (or in the outbox) and says where.
    pub async fn accept(&self, queue: &QueueName, payload: Bytes) -> Result<Durable, IngestError> {
        if let Some(commits) = &self.commits {
            return commits
                .submit(queue.clone(), payload)
                .await
                .map(|()| Durable::Queue)
                .map_err(|e| IngestError::Embedded(e.to_string()));
        }
        publish_or_park(&self.bus, &self.store, queue, payload).await
    }
}

/// RabbitMQ: the broker's confirm, else a committed outbox row.
async fn publish_or_park(
    bus: &Bus,
    store: &Store,
    queue: &QueueName,
    payload: Bytes,
) -> Result<Durable, IngestError> {
    let published: Result<(), BusError> = bus.publish(queue, std::slice::from_ref(&payload)).await;
    let Err(bus_error) = published else {
        return Ok(Durable::Queue);
    };
    tracing::warn!(queue = %queue, error = %bus_error, "broker did not confirm; writing to the outbox");
    let pushed: Result<i64, StoreError> = store.outbox_push(queue.as_str(), &payload).await;
    match pushed {
        Ok(_) => {
            metrics::counter!(INGEST_OUTBOX_TOTAL, "queue" => queue.as_str().to_owned())
                .increment(1);
            Ok(Durable::Outbox)
        }
        Err(outbox) => Err(IngestError::BusAndOutbox(format!(
            "bus: {bus_error}; outbox: {outbox}"
        ))),
    }
}
