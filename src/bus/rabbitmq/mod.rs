//! The bus on RabbitMQ (lapin): quorum queues, publisher confirms, manual acks,
//! delayed retries, a dead-letter queue, and reconnection with backoff.
//!
//! # Layout
//! - `connection`: the manager task that connects, reconnects and holds the live [`Link`](connection::Link).
//! - `topology`: names and arguments of the exchange and queues, delay buckets.
//! - `publish`: confirmed, persistent, time-bounded publishing.
//! - `consume`: the task feeding a [`Consumer`] and resubscribing after reconnects.
//! - `ack`: [`RabbitAck`], settling one delivery.
//! - `head_age`: the upper bound on a queue's oldest message age reported with its depth.

mod ack;
mod connection;
mod consume;
mod head_age;
mod publish;
mod topology;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use lapin::options::QueueDeclareOptions;
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::FieldTable;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{BusError, ConsumeOptions, Consumer, QueueDepth, QueueName, RetryPolicy};
pub use ack::RabbitAck;
use connection::Manager;

/// How to reach and use the broker.
#[derive(Debug, Clone)]
pub struct RabbitConfig {
    /// `amqp://user:pass@host:port/vhost`.
    pub url: String,
    /// Retry and dead-letter policy for every queue.
    pub retry: RetryPolicy,
    /// How long a publish may wait for its confirm before the caller falls back to the outbox.
    pub publish_timeout: Duration,
}

/// A connection to RabbitMQ that heals itself; cheap to clone.
#[derive(Clone)]
pub struct RabbitBus {
    shared: Arc<Shared>,
}

/// What every clone of the bus, every consumer task and every unsettled delivery shares.
struct Shared {
    config: RabbitConfig,
    /// Stops the connection task when the last holder drops it.
    manager: Manager,
    /// What consumers here saw of each queue's head, for [`RabbitBus::depth`].
    heads: head_age::HeadAges,
}

impl RabbitBus {
    /// Returns at once and connects in the background, so the engine starts (and answers
    /// `/readyz` with "not ready") while the broker is down; only an invalid URL is an error.
    pub async fn connect(config: RabbitConfig) -> Result<Self, BusError> {
        let manager = Manager::start(&config.url)?;
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                manager,
                heads: head_age::HeadAges::new(chrono::Utc::now().timestamp_millis()),
            }),
        })
    }

    /// Publishes persistent messages (attempt 1) and returns once the broker confirmed them all;
    /// fails fast with `Unavailable` when disconnected, so the caller writes to the outbox.
    pub async fn publish(&self, queue: &QueueName, payloads: &[Bytes]) -> Result<(), BusError> {
        self.shared.publish(queue, payloads).await
    }

    /// Publishes to the queue's delay queue for the bucket at or above `delay` (rounded up, so
    /// never early); it comes back on `queue` as delivery number `attempt`.
    pub async fn publish_delayed(
        &self,
        queue: &QueueName,
        payload: Bytes,
        attempt: u32,
        delay: Duration,
    ) -> Result<(), BusError> {
        self.shared
            .publish_delayed(queue, &payload, attempt, delay)
            .await
            .map(drop)
    }

    /// Consumes with manual acks and `prefetch` unacked items at most; resubscribes by itself
    /// after reconnects. Single active consumer is a queue property: every `deliver.*` lane
    /// has it and no other queue can, so `single_active` on another queue is an error.
    pub async fn consume(
        &self,
        queue: &QueueName,
        options: ConsumeOptions,
    ) -> Result<Consumer, BusError> {
        if options.single_active && !topology::is_lane(queue) {
            return Err(BusError::Broker(format!(
                "{queue} is not a deliver lane: it cannot have a single active consumer"
            )));
        }
        self.shared.manager.remember(queue);
        // Subscribe now when connected, so errors surface here and the subscription exists on return.
        let session = match self.shared.manager.current() {
            Some(link) => match consume::subscribe(link, queue, options).await {
                Ok(session) => Some(session),
                // The connection dropped meanwhile: the task subscribes after the reconnect.
                Err(BusError::Unavailable(_)) => None,
                Err(err) => return Err(err),
            },
            None => None,
        };
        let (tx, rx) = mpsc::channel(usize::from(options.prefetch.max(1)));
        let cancel = CancellationToken::new();
        let shared = Arc::clone(&self.shared);
        tokio::spawn(consume::run(
            shared,
            queue.clone(),
            options,
            tx,
            cancel.clone(),
            session,
        ));
        Ok(Consumer { rx, cancel })
    }

    /// Publishes an event to the `floodgate.events` topic exchange, confirmed.
    pub async fn publish_event(&self, routing_key: &str, payload: Bytes) -> Result<(), BusError> {
        self.shared.publish_event(routing_key, &payload).await
    }

    /// Whether a connection is up (for `/readyz`).
    pub fn is_connected(&self) -> bool {
        self.shared.manager.current().is_some()
    }

    /// Ready messages in the queue (passive declare; AMQP does not report unacked ones) and an
    /// upper bound on the oldest one's age. The queue is declared first (idempotent, same
    /// arguments), so the passive declare cannot fail with NOT_FOUND, which would close the
    /// topology channel under a concurrent declaration.
    pub async fn depth(&self, queue: &QueueName) -> Result<QueueDepth, BusError> {
        let limit = self.shared.config.publish_timeout;
        let link = self.shared.manager.require()?;
        let counted = async {
            link.ensure_queue(queue).await?;
            let channel = link.topology_channel().await?;
            let options = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            let name = topology::queue_name(queue);
            match channel
                .queue_declare(&name, options, FieldTable::default())
                .await
            {
                Ok(q) => Ok(u64::from(q.message_count())),
                Err(lapin::Error::ProtocolError(e))
                    if *e.kind() == AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND) =>
                {
                    // Deleted behind our back: declare it again next time.
                    link.forget_queue(queue);
                    Ok(0)
                }
                Err(e) => Err(link.classify(e)),
            }
        };
        let messages = tokio::time::timeout(limit, counted)
            .await
            .map_err(|_| BusError::Unavailable(format!("no queue depth within {limit:?}")))??;
        let now = chrono::Utc::now().timestamp_millis();
        Ok(QueueDepth {
            messages,
            oldest_age: self.shared.heads.age(queue, messages, now),
        })
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.shared.config.retry
    }
}
