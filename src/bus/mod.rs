//! The work queues between stages, on RabbitMQ (at scale) or in the store (embedded).
//!
//! Both backends offer the same operations: durable publish (returns only once the
//! broker confirmed or the store committed), consume with a bound on unacknowledged
//! work, settle each delivery with an [`Outcome`], delayed retries with the one
//! [`RetryPolicy`], and a dead-letter queue.

pub(crate) mod delivery;
pub mod embedded;
mod error;
mod queue;
pub mod rabbitmq;
mod retry;

use std::time::Duration;

use bytes::Bytes;

pub use delivery::{Consumer, Delivery, Outcome, Settled};
pub use embedded::{EmbeddedBus, EmbeddedConfig};
pub use error::BusError;
pub use queue::{Lane, QueueName};
pub use rabbitmq::{RabbitBus, RabbitConfig};
pub use retry::{RetryDecision, RetryPolicy};

/// Options for one consumer.
#[derive(Debug, Clone, Copy)]
pub struct ConsumeOptions {
    /// Most unacknowledged deliveries held at once (RabbitMQ prefetch).
    pub prefetch: u16,
    /// Only one consumer across all instances receives from the queue; used for delivery lanes
    /// so that lane's token bucket is the global truth.
    pub single_active: bool,
}

/// Depth of a queue, for metrics and ETAs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Embedded: items waiting or being worked on. RabbitMQ: ready items only.
    pub messages: u64,
    /// How long the oldest item waiting to be picked up has waited (zero when none waits):
    /// since its publish, or the end of its retry delay. Exact when embedded; on RabbitMQ an
    /// upper bound (see `rabbitmq::head_age`).
    pub oldest_age: Duration,
}

/// The bus the pipeline runs on; cheap to clone.
#[derive(Clone)]
pub enum Bus {
    Embedded(EmbeddedBus),
    Rabbit(RabbitBus),
}

impl Bus {
    /// Durably enqueues every payload on `queue`; returns once all are durable.
    pub async fn publish(&self, queue: &QueueName, payloads: &[Bytes]) -> Result<(), BusError> {
        match self {
            Self::Embedded(bus) => bus.publish(queue, payloads).await,
            Self::Rabbit(bus) => bus.publish(queue, payloads).await,
        }
    }

    /// Enqueues `payload` to appear on `queue` after `delay`, as delivery number `attempt`.
    pub async fn publish_delayed(
        &self,
        queue: &QueueName,
        payload: Bytes,
        attempt: u32,
        delay: Duration,
    ) -> Result<(), BusError> {
        match self {
            Self::Embedded(bus) => bus.publish_delayed(queue, payload, attempt, delay).await,
            Self::Rabbit(bus) => bus.publish_delayed(queue, payload, attempt, delay).await,
        }
    }

    /// Starts consuming `queue`.
    pub async fn consume(
        &self,
        queue: &QueueName,
        options: ConsumeOptions,
    ) -> Result<Consumer, BusError> {
        match self {
            Self::Embedded(bus) => bus.consume(queue, options).await,
            Self::Rabbit(bus) => bus.consume(queue, options).await,
        }
    }

    /// Publishes an event envelope with its type as routing key (best effort when embedded).
    pub async fn publish_event(&self, routing_key: &str, payload: Bytes) -> Result<(), BusError> {
        match self {
            Self::Embedded(bus) => bus.publish_event(routing_key, payload).await,
            Self::Rabbit(bus) => bus.publish_event(routing_key, payload).await,
        }
    }

    /// Publishes many events at once (pipelined on RabbitMQ); the first failure is returned,
    /// after every publish was tried.
    pub async fn publish_events(&self, events: Vec<(&'static str, Bytes)>) -> Result<(), BusError> {
        let results = futures::future::join_all(
            events
                .into_iter()
                .map(|(key, payload)| async move { self.publish_event(key, payload).await }),
        )
        .await;
        results.into_iter().collect()
    }

    /// Whether the bus can take work now (for `/readyz`).
    pub fn is_ready(&self) -> bool {
        match self {
            Self::Embedded(_) => true,
            Self::Rabbit(bus) => bus.is_connected(),
        }
    }

    /// How much work waits in `queue`, and for how long; `dead-letter` counts dead letters.
    pub async fn depth(&self, queue: &QueueName) -> Result<QueueDepth, BusError> {
        match self {
            Self::Embedded(bus) => bus.depth(queue).await,
            Self::Rabbit(bus) => bus.depth(queue).await,
        }
    }

    /// The retry policy settling deliveries.
    pub fn retry_policy(&self) -> RetryPolicy {
        match self {
            Self::Embedded(bus) => bus.retry_policy(),
            Self::Rabbit(bus) => bus.retry_policy(),
        }
    }
}
