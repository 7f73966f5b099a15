//! The bus on RabbitMQ (lapin): quorum queues, publisher confirms, manual acks,
//! delayed retries, a dead-letter queue, and reconnection with backoff.
//!
//! PLACEHOLDER SIGNATURES: the implementation lands with the RabbitMQ work.

use std::time::Duration;

use bytes::Bytes;

use super::{
    BusError, ConsumeOptions, Consumer, Outcome, QueueDepth, QueueName, RetryPolicy, Settled,
};

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
    config: RabbitConfig,
}

/// Acknowledges one RabbitMQ delivery.
#[derive(Debug)]
pub struct RabbitAck {}

impl RabbitBus {
    /// Starts connecting in the background; never fails because the broker is down.
    pub async fn connect(config: RabbitConfig) -> Result<Self, BusError> {
        Ok(Self { config })
    }

    /// Publishes with confirms.
    pub async fn publish(&self, _queue: &QueueName, _payloads: &[Bytes]) -> Result<(), BusError> {
        Err(BusError::Unavailable("not implemented".into()))
    }

    /// Publishes to the queue's delay queue.
    pub async fn publish_delayed(
        &self,
        _queue: &QueueName,
        _payload: Bytes,
        _attempt: u32,
        _delay: Duration,
    ) -> Result<(), BusError> {
        Err(BusError::Unavailable("not implemented".into()))
    }

    /// Consumes with manual acks.
    pub async fn consume(
        &self,
        _queue: &QueueName,
        _options: ConsumeOptions,
    ) -> Result<Consumer, BusError> {
        Err(BusError::Unavailable("not implemented".into()))
    }

    /// Publishes an event to the topic exchange.
    pub async fn publish_event(&self, _routing_key: &str, _payload: Bytes) -> Result<(), BusError> {
        Err(BusError::Unavailable("not implemented".into()))
    }

    /// Whether a connection is up.
    pub fn is_connected(&self) -> bool {
        false
    }

    /// Messages in the queue.
    pub async fn depth(&self, _queue: &QueueName) -> Result<QueueDepth, BusError> {
        Err(BusError::Unavailable("not implemented".into()))
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.config.retry
    }
}

impl RabbitAck {
    /// Acks, retries through a delay queue, or dead-letters.
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
