//! Confirmed publishing: every message is persistent, every publish waits for the broker's
//! confirm, and nothing waits longer than `publish_timeout`.

use std::time::Duration;

use bytes::Bytes;
use lapin::BasicProperties;
use lapin::options::BasicPublishOptions;
use lapin::publisher_confirm::Confirmation;
use lapin::types::{AMQPValue, FieldTable};

use super::Shared;
use super::connection::Link;
use super::topology;
use crate::bus::{BusError, QueueName};

/// Which delivery of an item this is; 1 on the first publish, +1 per retry.
pub(super) const ATTEMPT_HEADER: &str = "x-floodgate-attempt";
/// The work queue a dead-lettered item came from.
pub(super) const QUEUE_HEADER: &str = "x-floodgate-queue";
/// Why an item was dead-lettered.
pub(super) const REASON_HEADER: &str = "x-floodgate-reason";
/// When the item was published, or is due after its retry delay, in Unix milliseconds:
/// consumers use it to bound the age of the queue's head (`head_age`).
pub(super) const PUBLISHED_HEADER: &str = "x-floodgate-published-ms";

/// AMQP delivery mode 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;
/// Longest reason kept in a header; the rest is cut.
const MAX_REASON: usize = 1024;

/// The attempt number in a delivery's headers; 1 when missing or unreadable.
pub(super) fn attempt_of(properties: &BasicProperties) -> u32 {
    let value = properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(ATTEMPT_HEADER));
    let attempt = match value {
        Some(AMQPValue::LongUInt(n)) => Some(*n),
        Some(AMQPValue::LongInt(n)) => u32::try_from(*n).ok(),
        Some(AMQPValue::LongLongInt(n)) => u32::try_from(*n).ok(),
        Some(AMQPValue::ShortUInt(n)) => Some(u32::from(*n)),
        Some(AMQPValue::ShortInt(n)) => u32::try_from(*n).ok(),
        Some(AMQPValue::ShortShortUInt(n)) => Some(u32::from(*n)),
        Some(AMQPValue::ShortShortInt(n)) => u32::try_from(*n).ok(),
        Some(AMQPValue::LongString(s)) => s.to_string().parse().ok(),
        _ => None,
    };
    attempt.filter(|n| *n >= 1).unwrap_or(1)
}

/// The publish (or due) time in a delivery's headers, if it carries one.
pub(super) fn published_of(properties: &BasicProperties) -> Option<i64> {
    let value = properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(PUBLISHED_HEADER));
    match value {
        Some(AMQPValue::LongLongInt(ms)) => Some(*ms),
        Some(AMQPValue::Timestamp(ms)) => i64::try_from(*ms).ok(),
        _ => None,
    }
}

/// Headers of a work item: its attempt number, and when it is ready to be consumed.
fn attempt_headers(attempt: u32, ready_at_ms: i64) -> FieldTable {
    let mut headers = FieldTable::default();
    headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongUInt(attempt));
    headers.insert(PUBLISHED_HEADER.into(), AMQPValue::LongLongInt(ready_at_ms));
    headers
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn truncate(reason: &str) -> &str {
    if reason.len() <= MAX_REASON {
        return reason;
    }
    let mut end = MAX_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// Where a batch goes: `mandatory` turns an unroutable message into an error instead of a silent drop.
struct Target<'a> {
    exchange: &'a str,
    routing_key: &'a str,
    mandatory: bool,
}

/// Publishes every message, then awaits every confirm (one round of confirms per batch).
async fn confirmed(
    link: &Link,
    target: Target<'_>,
    messages: Vec<(&[u8], FieldTable)>,
) -> Result<(), BusError> {
    let channel = link.publisher().await?;
    let options = BasicPublishOptions {
        mandatory: target.mandatory,
        ..BasicPublishOptions::default()
    };
    let mut confirms = Vec::with_capacity(messages.len());
    for (payload, headers) in messages {
        let properties = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_headers(headers);
        let confirm = channel
            .basic_publish(
                target.exchange,
                target.routing_key,
                options,
                payload,
                properties,
            )
            .await
            .map_err(|e| link.classify(e))?;
        confirms.push(confirm);
    }
    for confirmation in futures::future::join_all(confirms).await {
        match confirmation.map_err(|e| link.classify(e))? {
            Confirmation::Ack(None) => {}
            Confirmation::Ack(Some(returned)) => {
                return Err(BusError::Broker(format!(
                    "unroutable on {}: {} {}",
                    target.routing_key, returned.reply_code, returned.reply_text
                )));
            }
            Confirmation::Nack(_) => return Err(BusError::Nacked(target.routing_key.to_owned())),
            Confirmation::NotRequested => {
                return Err(BusError::Broker(
                    "publishing channel is not in confirm mode".into(),
                ));
            }
        }
    }
    Ok(())
}

impl Shared {
    /// Runs a publish under `publish_timeout`; a slow broker counts as unavailable (use the outbox).
    async fn bounded<T>(
        &self,
        what: impl Future<Output = Result<T, BusError>>,
    ) -> Result<T, BusError> {
        let limit = self.config.publish_timeout;
        tokio::time::timeout(limit, what)
            .await
            .map_err(|_| BusError::Unavailable(format!("no publisher confirm within {limit:?}")))?
    }

    /// Publishes fresh items (attempt 1) to a work queue.
    pub(super) async fn publish(
        &self,
        queue: &QueueName,
        payloads: &[Bytes],
    ) -> Result<(), BusError> {
        if payloads.is_empty() {
            return Ok(());
        }
        self.manager.remember(queue);
        self.bounded(async {
            let link = self.manager.require()?;
            link.ensure_queue(queue).await?;
            let name = topology::queue_name(queue);
            let target = Target {
                exchange: "",
                routing_key: &name,
                mandatory: true,
            };
            let now = now_ms();
            let messages = payloads
                .iter()
                .map(|p| (p.as_ref(), attempt_headers(1, now)))
                .collect();
            confirmed(&link, target, messages).await
        })
        .await
    }

    /// Publishes to the delay bucket at or above `delay`; returns the bucket, the real delay.
    pub(super) async fn publish_delayed(
        &self,
        queue: &QueueName,
        payload: &[u8],
        attempt: u32,
        delay: Duration,
    ) -> Result<Duration, BusError> {
        let bucket = topology::bucket_for(delay);
        self.manager.remember(queue);
        self.bounded(async {
            let link = self.manager.require()?;
            link.ensure_delay_queue(queue, bucket).await?;
            let name = topology::delay_queue_name(queue, bucket);
            let target = Target {
                exchange: "",
                routing_key: &name,
                mandatory: true,
            };
            let due =
                now_ms().saturating_add(i64::try_from(bucket.as_millis()).unwrap_or(i64::MAX));
            confirmed(
                &link,
                target,
                vec![(payload, attempt_headers(attempt, due))],
            )
            .await
        })
        .await?;
        Ok(bucket)
    }

    /// Publishes a failed item to the dead-letter queue with where it came from and why.
    pub(super) async fn publish_dead_letter(
        &self,
        queue: &QueueName,
        payload: &[u8],
        attempt: u32,
        reason: &str,
    ) -> Result<(), BusError> {
        self.bounded(async {
            let link = self.manager.require()?;
            let mut headers = attempt_headers(attempt, now_ms());
            headers.insert(
                QUEUE_HEADER.into(),
                AMQPValue::LongString(queue.as_str().into()),
            );
            headers.insert(
                REASON_HEADER.into(),
                AMQPValue::LongString(truncate(reason).into()),
            );
            let name = topology::dead_letter_name();
            let target = Target {
                exchange: "",
                routing_key: &name,
                mandatory: true,
            };
            confirmed(&link, target, vec![(payload, headers)]).await
        })
        .await
    }

    /// Publishes an event; not mandatory, since an event nobody subscribed to is not an error.
    pub(super) async fn publish_event(
        &self,
        routing_key: &str,
        payload: &[u8],
    ) -> Result<(), BusError> {
        self.bounded(async {
            let link = self.manager.require()?;
            let target = Target {
                exchange: topology::EVENTS_EXCHANGE,
                routing_key,
                mandatory: false,
            };
            confirmed(&link, target, vec![(payload, FieldTable::default())]).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attempt_header_defaults_to_one() {
        assert_eq!(attempt_of(&BasicProperties::default()), 1);
        let with = |v: AMQPValue| {
            let mut h = FieldTable::default();
            h.insert(ATTEMPT_HEADER.into(), v);
            attempt_of(&BasicProperties::default().with_headers(h))
        };
        assert_eq!(with(AMQPValue::LongUInt(3)), 3);
        assert_eq!(with(AMQPValue::LongLongInt(4)), 4);
        assert_eq!(with(AMQPValue::LongInt(-2)), 1);
        assert_eq!(with(AMQPValue::LongUInt(0)), 1);
        assert_eq!(with(AMQPValue::Boolean(true)), 1);
    }

    #[test]
    fn the_publish_time_round_trips_through_the_headers() {
        assert_eq!(published_of(&BasicProperties::default()), None);
        let headers = attempt_headers(2, 1_700_000_000_123);
        let properties = BasicProperties::default().with_headers(headers);
        assert_eq!(published_of(&properties), Some(1_700_000_000_123));
        assert_eq!(attempt_of(&properties), 2);
    }

    #[test]
    fn long_reasons_are_cut_on_a_char_boundary() {
        let reason = "é".repeat(MAX_REASON);
        let cut = truncate(&reason);
        assert!(cut.len() <= MAX_REASON);
        assert!(reason.starts_with(cut));
    }
}
