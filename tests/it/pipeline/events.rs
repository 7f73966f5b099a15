//! Every transition a broadcast and a keyword go through is announced on the events bus, in
//! the envelope, with the routing key of its type: in-process when embedded, on the
//! `floodgate.events` topic exchange on RabbitMQ.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use prost::Message as _;

use floodgate::bus::Bus;
use floodgate::domain::PhoneNumber;
use floodgate::events::{Event, v1};
use floodgate::sandbox::{Sandbox, SandboxConfig};

use super::setup::{Setup, quick_pipeline};
use crate::support::{fresh_postgres_url, fresh_vhost};

const MEMBERS: u32 = 30;

/// Where the test reads events from.
enum Observer {
    Embedded(tokio::sync::broadcast::Receiver<(String, bytes::Bytes)>),
    /// The connection stays open for as long as the consumer reads.
    Rabbit {
        consumer: lapin::Consumer,
        _connection: Connection,
    },
}

impl Observer {
    /// The next (type, envelope) or `None` after `wait` without one.
    async fn next(&mut self, wait: Duration) -> Option<(String, v1::Envelope)> {
        let bytes = match self {
            Self::Embedded(rx) => match tokio::time::timeout(wait, rx.recv()).await {
                Ok(Ok((_, bytes))) => bytes.to_vec(),
                Ok(Err(e)) => panic!("the in-process event feed failed: {e}"),
                Err(_) => return None,
            },
            Self::Rabbit { consumer, .. } => {
                match tokio::time::timeout(wait, consumer.next()).await {
                    Ok(Some(Ok(delivery))) => {
                        delivery.ack(BasicAckOptions::default()).await.expect("ack");
                        delivery.data
                    }
                    Ok(other) => panic!("the events consumer ended: {other:?}"),
                    Err(_) => return None,
                }
            }
        };
        let envelope = v1::Envelope::decode(bytes.as_slice()).expect("an envelope");
        Some((envelope.r#type.clone(), envelope))
    }
}

/// A queue bound to every routing key of the events exchange, declared before anything runs.
async fn bind_events(vhost_url: &str) -> Observer {
    let conn = Connection::connect(vhost_url, ConnectionProperties::default())
        .await
        .expect("connect to RabbitMQ");
    let channel = conn.create_channel().await.expect("channel");
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            "floodgate.events",
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await
        .expect("the events exchange");
    let exclusive = QueueDeclareOptions {
        exclusive: true,
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    let queue = channel
        .queue_declare("", exclusive, FieldTable::default())
        .await
        .expect("a private queue");
    channel
        .queue_bind(
            queue.name().as_str(),
            "floodgate.events",
            "#",
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind to every event");
    let consumer = channel
        .basic_consume(
            queue.name().as_str(),
            "events-test",
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    Observer::Rabbit {
        consumer,
        _connection: conn,
    }
}

async fn every_transition_is_announced(setup: Setup) {
    let mut config = SandboxConfig {
        members: MEMBERS,
        rate: 500.0,
        burst: 10,
        pipeline: quick_pipeline(),
        ..SandboxConfig::default()
    };
    let mut observer = None;
    match setup {
        Setup::SqliteEmbedded => {}
        Setup::PostgresEmbedded => config.database_url = Some(fresh_postgres_url().await),
        Setup::PostgresRabbit => {
            let vhost = fresh_vhost().await;
            observer = Some(bind_events(&vhost).await);
            config.database_url = Some(fresh_postgres_url().await);
            config.amqp_url = Some(vhost);
        }
    }
    let sb = Sandbox::start(config).await.expect("sandbox starts");
    let mut observer = match (observer, sb.ingest.bus()) {
        (Some(rabbit), _) => rabbit,
        (None, Bus::Embedded(bus)) => Observer::Embedded(bus.subscribe_events()),
        (None, Bus::Rabbit(_)) => unreachable!("the RabbitMQ observer is bound above"),
    };
    let broadcast = sb.start_broadcast("Announced, every step.").await.unwrap();
    let joiner = PhoneNumber::example(3_000_000);
    assert_eq!(
        sb.text(&joiner, "JOIN", "SMevents0000000000000000000000001")
            .await
            .unwrap(),
        200
    );
    sb.wait_until_sent(broadcast, Duration::from_secs(60))
        .await
        .unwrap();

    // Every broadcast message is sent and delivered (and announced so); the JOIN is received,
    // subscribes the member, and queues a welcome that is sent too.
    let messages: HashSet<i64> = sb
        .store
        .broadcast_messages(broadcast, None, None, 1_000)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    let mut sent = HashSet::new();
    let mut delivered = HashSet::new();
    let mut seen_types = HashSet::new();
    let mut queued_reply = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let complete = messages.is_subset(&sent)
            && messages.is_subset(&delivered)
            && queued_reply.is_some_and(|id| sent.contains(&id) && delivered.contains(&id))
            && seen_types.contains(v1::InboundReceived::TYPE)
            && seen_types.contains(v1::MemberSubscribed::TYPE);
        if complete {
            break;
        }
        let Some((kind, envelope)) = observer.next(Duration::from_secs(5)).await else {
            continue;
        };
        assert!(
            !envelope.id.is_empty() && envelope.occurred_at.is_some(),
            "{envelope:?}"
        );
        let payload = envelope.payload.as_slice();
        match kind.as_str() {
            // The deliver stage's own announcement, not the echo of a carrier's `sent` callback.
            v1::MessageSent::TYPE if envelope.producer == "floodgate/deliver" => {
                sent.insert(v1::MessageSent::decode(payload).unwrap().message_id);
            }
            v1::MessageDelivered::TYPE => {
                delivered.insert(v1::MessageDelivered::decode(payload).unwrap().message_id);
            }
            v1::MessageQueued::TYPE => {
                let queued = v1::MessageQueued::decode(payload).unwrap();
                assert_eq!(queued.to, joiner.as_str());
                queued_reply = Some(queued.message_id);
            }
            _ => {}
        }
        seen_types.insert(kind);
    }
    let missing_sent: Vec<_> = messages.difference(&sent).collect();
    let missing_delivered: Vec<_> = messages.difference(&delivered).collect();
    assert!(
        missing_sent.is_empty(),
        "no MessageSent for {missing_sent:?}"
    );
    assert!(
        missing_delivered.is_empty(),
        "no MessageDelivered for {missing_delivered:?}"
    );
    let reply = queued_reply.expect("the welcome was announced as MessageQueued");
    assert!(sent.contains(&reply), "the welcome's MessageSent");
    for kind in [v1::InboundReceived::TYPE, v1::MemberSubscribed::TYPE] {
        assert!(seen_types.contains(kind), "no {kind}: saw {seen_types:?}");
    }
    sb.stop().await;
}

crate::all_setups!(every_transition_is_announced);
