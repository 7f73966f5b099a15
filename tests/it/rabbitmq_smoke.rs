//! Proves the harness: the private RabbitMQ node started by `scripts/test` is reachable and
//! does what the at-scale bus relies on (quorum queues, publisher confirms, manual acks).

use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::publisher_confirm::Confirmation;
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};

use crate::support;

const PERSISTENT: u8 = 2;

#[tokio::test]
async fn quorum_queue_publish_confirm_consume_ack() {
    let _broker = support::shared_broker().await;
    let url = support::amqp_url();
    let conn = tokio::time::timeout(
        Duration::from_secs(15),
        Connection::connect(&url, ConnectionProperties::default()),
    )
    .await
    .unwrap_or_else(|_| panic!("timed out connecting to RabbitMQ at {url}"))
    .unwrap_or_else(|e| {
        panic!("cannot connect to RabbitMQ at {url}: {e}. Is `scripts/test` running it?")
    });
    let channel = conn.create_channel().await.expect("create channel");

    let queue = format!("floodgate.smoke.{}", unique_suffix());
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    let declared = channel
        .queue_declare(
            &queue,
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            args,
        )
        .await
        .expect("declare quorum queue");
    assert_eq!(declared.message_count(), 0);

    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm_select");

    let payload = format!("smoke test payload for {queue}").into_bytes();
    let confirmation = channel
        .basic_publish(
            "",
            &queue,
            BasicPublishOptions {
                mandatory: true,
                ..BasicPublishOptions::default()
            },
            &payload,
            BasicProperties::default()
                .with_delivery_mode(PERSISTENT)
                .with_content_type("text/plain".into()),
        )
        .await
        .expect("publish")
        .await
        .expect("publisher confirm");
    match confirmation {
        Confirmation::Ack(None) => {}
        other => {
            panic!("expected a plain broker Ack for a routable persistent message, got {other:?}")
        }
    }

    let mut consumer = channel
        .basic_consume(
            &queue,
            "floodgate-smoke",
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("basic_consume");
    let delivery = tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("no delivery within 10 s")
        .expect("consumer stream ended")
        .expect("delivery error");
    assert_eq!(delivery.data, payload);
    assert_eq!(delivery.routing_key.as_str(), queue);
    assert!(
        !delivery.redelivered,
        "first delivery must not be flagged redelivered"
    );
    assert_eq!(delivery.properties.delivery_mode(), &Some(PERSISTENT));
    delivery.ack(BasicAckOptions::default()).await.expect("ack");

    // The ack precedes the delete on this channel, so the queue must now be empty.
    let remaining = channel
        .queue_delete(&queue, QueueDeleteOptions::default())
        .await
        .expect("delete queue");
    assert_eq!(
        remaining, 0,
        "the acked message should be gone from {queue}"
    );

    channel.close(200, "done").await.expect("close channel");
    conn.close(200, "done").await.expect("close connection");
}

fn unique_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::thread_rng().r#gen();
    format!("{n:016x}")
}
