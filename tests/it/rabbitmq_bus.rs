//! The RabbitMQ bus against the real broker: confirms, prefetch, delayed retries,
//! dead-lettering, single active consumer, and surviving a broker restart.

use std::time::{Duration, Instant};

use bytes::Bytes;
use floodgate::bus::{
    BusError, ConsumeOptions, Consumer, Delivery, Lane, Outcome, QueueName, RabbitBus,
    RabbitConfig, RetryPolicy, Settled,
};
use lapin::options::BasicGetOptions;
use lapin::types::AMQPValue;
use lapin::{Connection, ConnectionProperties};

use crate::support;

const PUBLISH_TIMEOUT: Duration = Duration::from_secs(3);

fn config(url: String, retry: RetryPolicy) -> RabbitConfig {
    RabbitConfig {
        url,
        retry,
        publish_timeout: PUBLISH_TIMEOUT,
    }
}

/// A bus on `url` that has connected, or a failure saying how to start the broker.
async fn connected(url: String, retry: RetryPolicy) -> RabbitBus {
    let bus = RabbitBus::connect(config(url.clone(), retry))
        .await
        .expect("connect returns at once");
    wait_until(Duration::from_secs(15), || bus.is_connected())
        .await
        .unwrap_or_else(|_| {
            panic!("no connection to RabbitMQ at {url} within 15 s. Is `scripts/test` running it?")
        });
    bus
}

async fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> Result<(), ()> {
    let deadline = Instant::now() + limit;
    while !check() {
        if Instant::now() > deadline {
            return Err(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// A lane no other test uses.
fn fresh_lane() -> QueueName {
    use rand::Rng;
    let carrier = format!("t{:016x}", rand::thread_rng().r#gen::<u64>());
    QueueName::deliver(&carrier, Lane::Broadcast)
}

fn options(prefetch: u16) -> ConsumeOptions {
    ConsumeOptions {
        prefetch,
        single_active: true,
    }
}

async fn next(consumer: &mut Consumer, within: Duration) -> Delivery {
    tokio::time::timeout(within, consumer.next())
        .await
        .unwrap_or_else(|_| panic!("no delivery within {within:?}"))
        .expect("consumer ended")
}

async fn assert_quiet(consumer: &mut Consumer, during: Duration) {
    if let Ok(Some(delivery)) = tokio::time::timeout(during, consumer.next()).await {
        panic!("unexpected delivery {:?}", delivery.payload);
    }
}

fn payloads(prefix: &str, n: usize) -> Vec<Bytes> {
    (0..n)
        .map(|i| Bytes::from(format!("{prefix}-{i}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_consume_ack_round_trip_with_confirms() {
    let _broker = support::shared_broker().await;
    let bus = connected(support::amqp_url(), RetryPolicy::default()).await;
    let queue = fresh_lane();
    let sent = payloads("round-trip", 5);
    bus.publish(&queue, &sent).await.expect("confirmed publish");
    assert_eq!(bus.depth(&queue).await.expect("depth").messages, 5);

    let mut consumer = bus.consume(&queue, options(10)).await.expect("consume");
    for expected in &sent {
        let delivery = next(&mut consumer, Duration::from_secs(5)).await;
        assert_eq!(&delivery.payload, expected);
        assert_eq!(delivery.attempt, 1);
        assert_eq!(delivery.queue, queue);
        assert_eq!(
            delivery.settle(Outcome::Done).await.expect("ack"),
            Settled::Acked
        );
    }
    assert_quiet(&mut consumer, Duration::from_millis(300)).await;
    assert_eq!(bus.depth(&queue).await.expect("depth").messages, 0);

    bus.publish_event("broadcast.started", Bytes::from_static(b"event"))
        .await
        .expect("confirmed event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetch_bounds_the_unacked_deliveries() {
    let _broker = support::shared_broker().await;
    let bus = connected(support::amqp_url(), RetryPolicy::default()).await;
    let queue = fresh_lane();
    bus.publish(&queue, &payloads("prefetch", 10))
        .await
        .expect("publish");

    let mut consumer = bus.consume(&queue, options(3)).await.expect("consume");
    let mut held = Vec::new();
    while let Ok(Some(delivery)) =
        tokio::time::timeout(Duration::from_millis(1500), consumer.next()).await
    {
        held.push(delivery);
    }
    assert_eq!(
        held.len(),
        3,
        "prefetch 3 must bound the unacked deliveries"
    );

    let first = held.remove(0);
    first.settle(Outcome::Done).await.expect("ack");
    let fourth = next(&mut consumer, Duration::from_secs(5)).await;
    assert_eq!(fourth.payload, Bytes::from_static(b"prefetch-3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_comes_back_through_the_delay_queue_with_the_next_attempt() {
    let _broker = support::shared_broker().await;
    let bus = connected(support::amqp_url(), RetryPolicy::default()).await;
    let queue = fresh_lane();
    bus.publish(&queue, &[Bytes::from_static(b"flaky")])
        .await
        .expect("publish");
    let mut consumer = bus.consume(&queue, options(5)).await.expect("consume");

    let first = next(&mut consumer, Duration::from_secs(5)).await;
    assert_eq!(first.attempt, 1);
    let settled_at = Instant::now();
    let retry = Outcome::Retry {
        hint: None,
        reason: "carrier 503".into(),
    };
    let settled = first.settle(retry).await.expect("retry scheduled");
    // The default policy asks for 0.5–1 s before the second attempt: the 1 s bucket.
    assert_eq!(settled, Settled::RetryScheduled(Duration::from_secs(1)));

    let again = next(&mut consumer, Duration::from_secs(10)).await;
    assert!(
        settled_at.elapsed() >= Duration::from_secs(1),
        "came back after {:?}, before its 1 s delay",
        settled_at.elapsed()
    );
    assert_eq!(again.payload, Bytes::from_static(b"flaky"));
    assert_eq!(again.attempt, 2);
    again.settle(Outcome::Done).await.expect("ack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fifth_failure_dead_letters_with_headers_while_other_items_flow() {
    let _broker = support::shared_broker().await;
    // A private vhost: its dead-letter queue holds only this test's items.
    let url = support::fresh_vhost().await;
    let retry = RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(10),
    };
    let bus = connected(url.clone(), retry).await;
    let queue = fresh_lane();
    let mut consumer = bus.consume(&queue, options(10)).await.expect("consume");
    bus.publish(&queue, &[Bytes::from_static(b"poison")])
        .await
        .expect("publish");
    bus.publish(&queue, &payloads("good", 20))
        .await
        .expect("publish");

    let mut good_done = 0;
    let mut poison_attempts = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            Instant::now() < deadline,
            "poison not dead-lettered in 30 s"
        );
        let delivery = next(&mut consumer, Duration::from_secs(10)).await;
        if delivery.payload == Bytes::from_static(b"poison") {
            poison_attempts.push(delivery.attempt);
            let outcome = Outcome::Retry {
                hint: None,
                reason: "always fails".into(),
            };
            match delivery.settle(outcome).await.expect("settle") {
                Settled::RetryScheduled(_) => {}
                Settled::DeadLettered => break,
                Settled::Acked => panic!("a retry is never a plain ack"),
            }
        } else {
            delivery.settle(Outcome::Done).await.expect("ack");
            good_done += 1;
        }
    }
    assert_eq!(poison_attempts, vec![1, 2, 3, 4, 5]);
    assert_eq!(good_done, 20, "every other item went through meanwhile");

    let conn = Connection::connect(&url, ConnectionProperties::default())
        .await
        .expect("connect to the test vhost");
    let channel = conn.create_channel().await.expect("channel");
    let dead = channel
        .basic_get("floodgate.dead-letter", BasicGetOptions { no_ack: true })
        .await
        .expect("basic_get")
        .expect("one item in the dead-letter queue");
    assert_eq!(dead.delivery.data, b"poison");
    let headers = dead
        .delivery
        .properties
        .headers()
        .clone()
        .expect("dead letter has headers");
    let header = |name: &str| headers.inner().get(name).cloned();
    assert_eq!(
        header("x-floodgate-queue"),
        Some(AMQPValue::LongString(queue.as_str().into()))
    );
    assert_eq!(header("x-floodgate-attempt"), Some(AMQPValue::LongUInt(5)));
    match header("x-floodgate-reason") {
        Some(AMQPValue::LongString(reason)) => {
            assert!(reason.to_string().contains("always fails"), "{reason}")
        }
        other => panic!("no reason header: {other:?}"),
    }
    conn.close(200, "done").await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_has_one_active_consumer_and_another_takes_over() {
    let _broker = support::shared_broker().await;
    let bus = connected(support::amqp_url(), RetryPolicy::default()).await;
    let queue = fresh_lane();
    let mut active = bus.consume(&queue, options(5)).await.expect("consume");
    let mut standby = bus.consume(&queue, options(5)).await.expect("consume");

    bus.publish(&queue, &payloads("sac", 3))
        .await
        .expect("publish");
    let mut received = Vec::new();
    for _ in 0..3 {
        received.push(next(&mut active, Duration::from_secs(5)).await);
    }
    assert_quiet(&mut standby, Duration::from_millis(500)).await;
    let held = received.pop().expect("three deliveries");
    for delivery in received {
        delivery.settle(Outcome::Done).await.expect("ack");
    }

    active.cancel();
    drop(active);
    // Cancelling stops new work only: what was already handed out can still be acked.
    assert_eq!(
        held.settle(Outcome::Done).await.expect("ack after cancel"),
        Settled::Acked
    );
    bus.publish(&queue, &[Bytes::from_static(b"after")])
        .await
        .expect("publish");
    let delivery = next(&mut standby, Duration::from_secs(10)).await;
    assert_eq!(delivery.payload, Bytes::from_static(b"after"));
    delivery.settle(Outcome::Done).await.expect("ack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_active_is_refused_on_a_queue_that_is_not_a_lane() {
    let _broker = support::shared_broker().await;
    let bus = connected(support::amqp_url(), RetryPolicy::default()).await;
    let refused = bus.consume(&QueueName::inbound(), options(5)).await;
    assert!(matches!(refused, Err(BusError::Broker(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bus_survives_a_broker_restart() {
    let _broker = support::exclusive_broker().await;
    let bus = connected(support::amqp_url(), RetryPolicy::default()).await;
    let queue = fresh_lane();
    let mut consumer = bus.consume(&queue, options(5)).await.expect("consume");
    bus.publish(&queue, &payloads("before", 2))
        .await
        .expect("publish");
    let before = next(&mut consumer, Duration::from_secs(5)).await;
    assert_eq!(before.payload, Bytes::from_static(b"before-0"));
    before.settle(Outcome::Done).await.expect("ack");
    let in_flight = next(&mut consumer, Duration::from_secs(5)).await;

    support::rabbitmqctl(&["stop_app"]).await;
    let down = wait_until(Duration::from_secs(15), || !bus.is_connected()).await;
    if down.is_err() {
        support::rabbitmqctl(&["start_app"]).await;
        panic!("is_connected() still true 15 s after stop_app");
    }
    let started = Instant::now();
    let refused = bus
        .publish(&queue, &[Bytes::from_static(b"while down")])
        .await;
    let took = started.elapsed();
    support::rabbitmqctl(&["start_app"]).await;
    assert!(
        matches!(refused, Err(BusError::Unavailable(_))),
        "{refused:?}"
    );
    assert!(
        took <= PUBLISH_TIMEOUT,
        "a publish while down took {took:?}"
    );

    wait_until(Duration::from_secs(30), || bus.is_connected())
        .await
        .expect("reconnected within 30 s of start_app");
    // Its channel died with the connection: the late ack fails, and the broker redelivers it.
    assert!(matches!(
        in_flight.settle(Outcome::Done).await,
        Err(BusError::Unavailable(_))
    ));
    bus.publish(&queue, &[Bytes::from_static(b"after")])
        .await
        .expect("publish after the restart");
    let mut resumed = Vec::new();
    for _ in 0..2 {
        let delivery = next(&mut consumer, Duration::from_secs(20)).await;
        assert_eq!(delivery.attempt, 1);
        resumed.push(delivery.payload.clone());
        delivery.settle(Outcome::Done).await.expect("ack");
    }
    resumed.sort();
    assert_eq!(
        resumed,
        vec![
            Bytes::from_static(b"after"),
            Bytes::from_static(b"before-1")
        ]
    );
}

#[tokio::test]
async fn connect_returns_at_once_and_publishing_fails_fast_without_a_broker() {
    // A port nothing listens on: connect must not wait for it, publish must not hang.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let bus = tokio::time::timeout(
        Duration::from_secs(1),
        RabbitBus::connect(config(
            format!("amqp://guest:guest@127.0.0.1:{port}/%2f"),
            RetryPolicy::default(),
        )),
    )
    .await
    .expect("connect returns at once")
    .expect("connect never fails for a down broker");
    assert!(!bus.is_connected());
    let queue = fresh_lane();
    let started = Instant::now();
    let published = bus.publish(&queue, &[Bytes::from_static(b"x")]).await;
    assert!(
        matches!(published, Err(BusError::Unavailable(_))),
        "{published:?}"
    );
    assert!(started.elapsed() <= PUBLISH_TIMEOUT);
    let delayed = bus
        .publish_delayed(&queue, Bytes::from_static(b"x"), 2, Duration::from_secs(1))
        .await;
    assert!(matches!(delayed, Err(BusError::Unavailable(_))));
    let event = bus.publish_event("x", Bytes::from_static(b"x")).await;
    assert!(matches!(event, Err(BusError::Unavailable(_))));

    let invalid = RabbitBus::connect(config("not-amqp://".into(), RetryPolicy::default())).await;
    assert!(matches!(invalid, Err(BusError::Broker(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_publish_concurrently_on_the_shared_confirm_channel() {
    let _broker = support::shared_broker().await;
    let bus = connected(support::amqp_url(), RetryPolicy::default()).await;
    let queue = fresh_lane();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..20 {
        let (bus, queue) = (bus.clone(), queue.clone());
        tasks.spawn(async move {
            for batch in 0..5 {
                let items = payloads(&format!("c{task}-{batch}"), 10);
                bus.publish(&queue, &items)
                    .await
                    .expect("confirmed publish");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("publisher task");
    }
    assert_eq!(bus.depth(&queue).await.expect("depth").messages, 1000);
}
