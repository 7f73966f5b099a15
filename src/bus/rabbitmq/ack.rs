//! Settling one RabbitMQ delivery: ack, retry through a delay queue, or dead-letter.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use lapin::Channel;
use lapin::acker::Acker;
use lapin::options::{BasicAckOptions, BasicNackOptions};

use super::Shared;
use crate::bus::{BusError, Outcome, QueueName, RetryDecision, Settled};

/// Acknowledges one RabbitMQ delivery on the channel that delivered it (AMQP acks are per channel).
///
/// Dropped unsettled, it hands the item back to the queue (nack with requeue) instead of
/// holding a prefetch slot until the channel closes.
pub struct RabbitAck {
    acker: Acker,
    /// Keeps the delivering channel open while this item is unsettled, even after the consumer stopped.
    channel: Arc<Channel>,
    shared: Arc<Shared>,
}

impl fmt::Debug for RabbitAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitAck")
            .field("channel", &self.channel.id())
            .field("used", &self.acker.used())
            .finish()
    }
}

impl RabbitAck {
    pub(super) fn new(acker: Acker, channel: Arc<Channel>, shared: Arc<Shared>) -> Self {
        Self {
            acker,
            channel,
            shared,
        }
    }

    /// Acks only after any retry or dead-letter copy is confirmed, so a crash in between
    /// duplicates the item (the broker redelivers it) rather than losing it.
    ///
    /// `RetryScheduled` carries the delay bucket actually used (the policy's delay rounded up).
    pub async fn settle(
        self,
        queue: &QueueName,
        payload: Bytes,
        attempt: u32,
        outcome: &Outcome,
    ) -> Result<Settled, BusError> {
        let settled = match outcome {
            Outcome::Done => Settled::Acked,
            Outcome::Retry { hint, reason } => {
                match self.shared.config.retry.decide(attempt, *hint) {
                    RetryDecision::RetryAfter(delay) => {
                        let next = attempt.saturating_add(1);
                        let bucket = self
                            .shared
                            .publish_delayed(queue, &payload, next, delay)
                            .await?;
                        tracing::debug!(%queue, attempt, ?bucket, reason, "retry scheduled");
                        Settled::RetryScheduled(bucket)
                    }
                    RetryDecision::DeadLetter => {
                        let reason = format!("gave up after {attempt} attempts: {reason}");
                        self.shared
                            .publish_dead_letter(queue, &payload, attempt, &reason)
                            .await?;
                        Settled::DeadLettered
                    }
                }
            }
            Outcome::Reject { reason } => {
                self.shared
                    .publish_dead_letter(queue, &payload, attempt, reason)
                    .await?;
                Settled::DeadLettered
            }
        };
        self.ack().await?;
        Ok(settled)
    }

    /// Acks on the delivering channel; after a reconnect that channel is gone, the ack fails, and
    /// the broker has already requeued the item, so the failure is harmless.
    async fn ack(&self) -> Result<(), BusError> {
        if !self.channel.status().connected() {
            return Err(BusError::Unavailable(
                "the delivering channel is closed; the broker will redeliver".into(),
            ));
        }
        let limit = self.shared.config.publish_timeout;
        match tokio::time::timeout(limit, self.acker.ack(BasicAckOptions::default())).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(BusError::Unavailable(format!(
                "ack failed, the broker will redeliver: {err}"
            ))),
            Err(_) => Err(BusError::Unavailable(format!(
                "ack not sent within {limit:?}"
            ))),
        }
    }
}

impl Drop for RabbitAck {
    fn drop(&mut self) {
        if self.acker.used() || !self.channel.status().connected() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let acker = self.acker.clone();
            runtime.spawn(async move {
                let requeue = BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                };
                let _ = tokio::time::timeout(Duration::from_secs(5), acker.nack(requeue)).await;
            });
        }
    }
}
