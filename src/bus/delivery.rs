//! One work item taken from a queue, and how it is settled.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::{BusError, QueueName, embedded, rabbitmq};

/// What became of a work item; the acknowledger acts on it only after its effect is durable.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The effect is durable: remove the item.
    Done,
    /// A passing failure (timeout, 5xx, 429): deliver again later, at most `max_attempts` times.
    Retry {
        hint: Option<Duration>,
        reason: String,
    },
    /// It can never succeed (undecodable, invalid): straight to the dead-letter queue.
    Reject { reason: String },
}

/// What the acknowledger did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Settled {
    Acked,
    RetryScheduled(Duration),
    DeadLettered,
}

/// How a delivery is acknowledged on its backend.
#[derive(Debug)]
pub(crate) enum Acker {
    Embedded(embedded::EmbeddedAck),
    Rabbit(rabbitmq::RabbitAck),
}

/// A work item with its payload, its queue and how many times it has been delivered.
#[derive(Debug)]
pub struct Delivery {
    /// The encoded command (protobuf).
    pub payload: Bytes,
    /// Where it came from, so a retry goes back there.
    pub queue: QueueName,
    /// 1 on the first delivery; a retry is attempt + 1.
    pub attempt: u32,
    pub(crate) acker: Acker,
}

impl Delivery {
    /// Acknowledges, schedules a retry, or dead-letters, per `outcome` and the bus's retry policy.
    pub async fn settle(self, outcome: Outcome) -> Result<Settled, BusError> {
        let Delivery {
            payload,
            queue,
            attempt,
            acker,
        } = self;
        let settled = match acker {
            Acker::Embedded(ack) => ack.settle(&queue, payload, attempt, &outcome).await?,
            Acker::Rabbit(ack) => ack.settle(&queue, payload, attempt, &outcome).await?,
        };
        if settled == Settled::DeadLettered {
            metrics::counter!(crate::telemetry::metrics::DEAD_LETTERS_TOTAL, "queue" => queue.as_str().to_owned())
                .increment(1);
        }
        Ok(settled)
    }
}

/// A stream of deliveries from one queue, bounded by its prefetch; dropping it stops consuming.
pub struct Consumer {
    pub(crate) rx: mpsc::Receiver<Delivery>,
    pub(crate) cancel: tokio_util::sync::CancellationToken,
}

impl Consumer {
    /// The next delivery, or `None` once the consumer is cancelled and drained.
    pub async fn next(&mut self) -> Option<Delivery> {
        self.rx.recv().await
    }

    /// Stops taking new work (the first step of a drain); already-received items stay valid.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
