//! Names and arguments of everything the bus declares on the broker.
//!
//! Arguments are a pure function of the name: RabbitMQ refuses a redeclaration with other
//! arguments (`PRECONDITION_FAILED`), so every instance must compute the same ones.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

use crate::bus::QueueName;

/// Prefix of every name the bus owns on the broker.
const PREFIX: &str = "floodgate.";

/// The topic exchange for events; routing key = event type.
pub(super) const EVENTS_EXCHANGE: &str = "floodgate.events";

/// Redeliveries without a settle (a consumer crashing on the item) before the broker itself
/// dead-letters it; far above the retry policy's attempts, it only stops crash loops.
const DELIVERY_LIMIT: i64 = 20;

/// Delay queue TTLs. A requested delay is rounded UP to the next bucket (never earlier than the
/// retry policy asked) and every message in one delay queue has the same TTL, so the queue's
/// head always expires first: no head-of-line blocking.
pub(super) const DELAY_BUCKETS: [Duration; 5] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(300),
];

/// The broker-side name of a work queue, e.g. `floodgate.deliver.twilio.broadcast`.
pub(super) fn queue_name(queue: &QueueName) -> String {
    format!("{PREFIX}{}", queue.as_str())
}

/// The broker-side name of the dead-letter queue.
pub(super) fn dead_letter_name() -> String {
    queue_name(&QueueName::dead_letter())
}

/// Whether a queue is a carrier lane, consumed by one instance at a time.
pub(super) fn is_lane(queue: &QueueName) -> bool {
    queue.as_str().starts_with("deliver.")
}

/// The smallest bucket at least as long as `delay`; the longest bucket beyond it.
pub(super) fn bucket_for(delay: Duration) -> Duration {
    DELAY_BUCKETS
        .iter()
        .copied()
        .find(|bucket| *bucket >= delay)
        .unwrap_or(DELAY_BUCKETS[DELAY_BUCKETS.len() - 1])
}

/// The delay queue holding items for `queue` during `bucket`, e.g. `floodgate.delay.inbound.5000`.
pub(super) fn delay_queue_name(queue: &QueueName, bucket: Duration) -> String {
    format!("{PREFIX}delay.{}.{}", queue.as_str(), bucket.as_millis())
}

fn quorum() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    args
}

/// Work queues: quorum; a crash-loop guard to the dead-letter queue; lanes are single active consumer.
pub(super) fn work_queue_args(queue: &QueueName) -> FieldTable {
    let mut args = quorum();
    if *queue == QueueName::dead_letter() {
        return args;
    }
    args.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongLongInt(DELIVERY_LIMIT),
    );
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString("".into()),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(dead_letter_name().into()),
    );
    if is_lane(queue) {
        args.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
    }
    args
}

/// Delay queues: TTL then dead-lettering back to the work queue through the default exchange.
///
/// Classic durable queues, not quorum ones: with RabbitMQ 3.10's quorum-queue TTL and
/// at-least-once dead-lettering, about one retried item in a few thousand never came back
/// from its delay queue in our broker-restart test. Classic TTL expiry plus dead-lettering to a
/// quorum queue on the same broker has no such gap; the items are persistent, so they survive
/// a restart while they wait.
pub(super) fn delay_queue_args(queue: &QueueName, bucket: Duration) -> FieldTable {
    let mut args = FieldTable::default();
    let ttl = i64::try_from(bucket.as_millis()).unwrap_or(i64::MAX);
    args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl));
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString("".into()),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(queue_name(queue).into()),
    );
    args
}

fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    }
}

/// Declares a work queue (idempotent).
pub(super) async fn declare_work_queue(channel: &Channel, queue: &QueueName) -> lapin::Result<()> {
    channel
        .queue_declare(&queue_name(queue), durable(), work_queue_args(queue))
        .await
        .map(drop)
}

/// Declares the delay queue of `queue` for `bucket` (idempotent).
pub(super) async fn declare_delay_queue(
    channel: &Channel,
    queue: &QueueName,
    bucket: Duration,
) -> lapin::Result<()> {
    channel
        .queue_declare(
            &delay_queue_name(queue, bucket),
            durable(),
            delay_queue_args(queue, bucket),
        )
        .await
        .map(drop)
}

/// Declares what every instance needs: the events exchange and the dead-letter queue.
pub(super) async fn declare_base(channel: &Channel) -> lapin::Result<()> {
    let options = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            EVENTS_EXCHANGE,
            ExchangeKind::Topic,
            options,
            FieldTable::default(),
        )
        .await?;
    declare_work_queue(channel, &QueueName::dead_letter()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Lane;

    #[test]
    fn delays_round_up_to_the_next_bucket_and_cap_at_the_last() {
        assert_eq!(bucket_for(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(bucket_for(Duration::from_secs(1)), Duration::from_secs(1));
        assert_eq!(
            bucket_for(Duration::from_millis(1001)),
            Duration::from_secs(5)
        );
        assert_eq!(
            bucket_for(Duration::from_secs(31)),
            Duration::from_secs(120)
        );
        assert_eq!(
            bucket_for(Duration::from_secs(3600)),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn names_are_prefixed() {
        let lane = QueueName::deliver("twilio", Lane::Broadcast);
        assert_eq!(queue_name(&lane), "floodgate.deliver.twilio.broadcast");
        assert_eq!(
            delay_queue_name(&lane, Duration::from_secs(5)),
            "floodgate.delay.deliver.twilio.broadcast.5000"
        );
        assert_eq!(dead_letter_name(), "floodgate.dead-letter");
    }

    #[test]
    fn only_lanes_are_single_active_consumer() {
        let sac = |q: &QueueName| {
            work_queue_args(q)
                .inner()
                .contains_key("x-single-active-consumer")
        };
        assert!(sac(&QueueName::deliver("twilio", Lane::Transactional)));
        assert!(!sac(&QueueName::inbound()));
        assert!(!sac(&QueueName::dead_letter()));
    }
}
