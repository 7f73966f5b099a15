//! The bus's behaviour, the same on every backend: durable publish, bounded consume,
//! retries with attempt counts, and dead-lettering after the fifth attempt.

use std::time::Duration;

use bytes::Bytes;
use floodgate::bus::{
    Bus, ConsumeOptions, EmbeddedBus, EmbeddedConfig, Lane, Outcome, QueueName, RetryPolicy,
    Settled,
};

use crate::support::{Backend, fresh_store};

const FAST_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 5,
    base_delay: Duration::from_millis(20),
    max_delay: Duration::from_millis(100),
};

async fn embedded_bus(backend: Backend) -> (Bus, crate::support::TestDb) {
    let db = fresh_store(backend).await;
    let config = EmbeddedConfig {
        retry: FAST_RETRY,
        lease: Duration::from_millis(600),
        max_idle: Duration::from_millis(20),
    };
    (
        Bus::Embedded(EmbeddedBus::new(db.store.clone(), config)),
        db,
    )
}

fn opts(prefetch: u16) -> ConsumeOptions {
    ConsumeOptions {
        prefetch,
        single_active: false,
    }
}

async fn next(consumer: &mut floodgate::bus::Consumer) -> floodgate::bus::Delivery {
    tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("a delivery within 10 s")
        .expect("consumer open")
}

async fn published_items_arrive_in_order_and_acks_remove_them(backend: Backend) {
    let (bus, _db) = embedded_bus(backend).await;
    let queue = QueueName::deliver("sim", Lane::Broadcast);
    let payloads: Vec<Bytes> = (0..50).map(|i| Bytes::from(format!("item-{i}"))).collect();
    bus.publish(&queue, &payloads).await.unwrap();
    assert_eq!(bus.depth(&queue).await.unwrap().messages, 50);

    let mut consumer = bus.consume(&queue, opts(8)).await.unwrap();
    for i in 0..50 {
        let d = next(&mut consumer).await;
        assert_eq!(d.payload, Bytes::from(format!("item-{i}")));
        assert_eq!(d.attempt, 1);
        assert_eq!(d.settle(Outcome::Done).await.unwrap(), Settled::Acked);
    }
    assert_eq!(bus.depth(&queue).await.unwrap().messages, 0);
}

async fn prefetch_bounds_unacknowledged_work(backend: Backend) {
    let (bus, _db) = embedded_bus(backend).await;
    let queue = QueueName::inbound();
    let payloads: Vec<Bytes> = (0..20).map(|i| Bytes::from(vec![i])).collect();
    bus.publish(&queue, &payloads).await.unwrap();
    let mut consumer = bus.consume(&queue, opts(3)).await.unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(next(&mut consumer).await);
    }
    let extra = tokio::time::timeout(Duration::from_millis(300), consumer.next()).await;
    assert!(
        extra.is_err(),
        "a fourth delivery arrived while three were unacknowledged"
    );
    held.pop().unwrap().settle(Outcome::Done).await.unwrap();
    let _fourth = next(&mut consumer).await;
}

async fn a_retried_item_comes_back_with_the_next_attempt(backend: Backend) {
    let (bus, _db) = embedded_bus(backend).await;
    let queue = QueueName::receipts();
    bus.publish(&queue, &[Bytes::from_static(b"again")])
        .await
        .unwrap();
    let mut consumer = bus.consume(&queue, opts(4)).await.unwrap();
    let first = next(&mut consumer).await;
    let settled = first
        .settle(Outcome::Retry {
            hint: None,
            reason: "carrier 503".into(),
        })
        .await
        .unwrap();
    assert!(matches!(settled, Settled::RetryScheduled(_)), "{settled:?}");
    let second = next(&mut consumer).await;
    assert_eq!(second.attempt, 2);
    assert_eq!(second.payload, Bytes::from_static(b"again"));
    second.settle(Outcome::Done).await.unwrap();
}

async fn a_poison_item_is_dead_lettered_after_five_attempts_while_others_flow(backend: Backend) {
    let (bus, db) = embedded_bus(backend).await;
    let queue = QueueName::fanout();
    let mut payloads = vec![Bytes::from_static(b"poison")];
    payloads.extend((0..10).map(|i| Bytes::from(format!("good-{i}"))));
    bus.publish(&queue, &payloads).await.unwrap();
    let mut consumer = bus.consume(&queue, opts(4)).await.unwrap();
    let (mut good, mut poison_attempts, mut dead) = (0, Vec::new(), false);
    while !(dead && good == 10) {
        let d = next(&mut consumer).await;
        if d.payload.as_ref() == b"poison" {
            poison_attempts.push(d.attempt);
            let s = d
                .settle(Outcome::Retry {
                    hint: None,
                    reason: "always fails".into(),
                })
                .await
                .unwrap();
            dead = s == Settled::DeadLettered;
        } else {
            good += 1;
            d.settle(Outcome::Done).await.unwrap();
        }
    }
    assert_eq!(poison_attempts, [1, 2, 3, 4, 5]);
    assert_eq!(db.store.dead_letter_count(Some("fanout")).await.unwrap(), 1);
    assert_eq!(bus.depth(&queue).await.unwrap().messages, 0);
}

async fn a_rejected_item_goes_straight_to_the_dead_letters(backend: Backend) {
    let (bus, db) = embedded_bus(backend).await;
    let queue = QueueName::inbound();
    bus.publish(&queue, &[Bytes::from_static(b"\xff\xfe not protobuf")])
        .await
        .unwrap();
    let mut consumer = bus.consume(&queue, opts(1)).await.unwrap();
    let d = next(&mut consumer).await;
    assert_eq!(
        d.settle(Outcome::Reject {
            reason: "undecodable".into()
        })
        .await
        .unwrap(),
        Settled::DeadLettered
    );
    assert_eq!(db.store.dead_letter_count(None).await.unwrap(), 1);
}

async fn an_abandoned_delivery_comes_back_after_its_lease(backend: Backend) {
    let (bus, _db) = embedded_bus(backend).await;
    let queue = QueueName::inbound();
    bus.publish(&queue, &[Bytes::from_static(b"crash-me")])
        .await
        .unwrap();
    {
        let mut consumer = bus.consume(&queue, opts(1)).await.unwrap();
        let d = next(&mut consumer).await;
        drop(d); // the worker "crashed" before settling
    }
    let mut consumer = bus.consume(&queue, opts(1)).await.unwrap();
    let again = next(&mut consumer).await;
    assert_eq!(again.payload, Bytes::from_static(b"crash-me"));
    again.settle(Outcome::Done).await.unwrap();
}

async fn a_long_running_delivery_keeps_its_lease(backend: Backend) {
    let (bus, _db) = embedded_bus(backend).await;
    let queue = QueueName::fanout();
    bus.publish(&queue, &[Bytes::from_static(b"slow")])
        .await
        .unwrap();
    let mut consumer = bus.consume(&queue, opts(2)).await.unwrap();
    let d = next(&mut consumer).await;
    // Three lease periods pass while the work is in flight: the heartbeat must keep it ours.
    let twice = tokio::time::timeout(Duration::from_millis(1800), consumer.next()).await;
    assert!(
        twice.is_err(),
        "an in-flight item was delivered a second time"
    );
    d.settle(Outcome::Done).await.unwrap();
}

/// Acks settled at the same moment share one delete: each still removes exactly its own row,
/// and what was not acknowledged stays queued.
async fn concurrent_acks_remove_exactly_their_rows(backend: Backend) {
    let (bus, _db) = embedded_bus(backend).await;
    let queue = QueueName::inbound();
    let payloads: Vec<Bytes> = (0..300).map(|i| Bytes::from(format!("item-{i}"))).collect();
    bus.publish(&queue, &payloads).await.unwrap();
    let mut consumer = bus.consume(&queue, opts(300)).await.unwrap();
    let mut deliveries = Vec::new();
    for _ in 0..300 {
        deliveries.push(next(&mut consumer).await);
    }
    let kept: Vec<_> = deliveries.split_off(250);
    let settles: Vec<_> = deliveries
        .into_iter()
        .map(|d| tokio::spawn(d.settle(Outcome::Done)))
        .collect();
    for settle in settles {
        assert_eq!(settle.await.unwrap().unwrap(), Settled::Acked);
    }
    assert_eq!(bus.depth(&queue).await.unwrap().messages, 50);
    for d in kept {
        d.settle(Outcome::Done).await.unwrap();
    }
    assert_eq!(bus.depth(&queue).await.unwrap().messages, 0);
}

crate::both_backends!(
    concurrent_acks_remove_exactly_their_rows,
    published_items_arrive_in_order_and_acks_remove_them,
    prefetch_bounds_unacknowledged_work,
    a_retried_item_comes_back_with_the_next_attempt,
    a_poison_item_is_dead_lettered_after_five_attempts_while_others_flow,
    a_rejected_item_goes_straight_to_the_dead_letters,
    an_abandoned_delivery_comes_back_after_its_lease,
    a_long_running_delivery_keeps_its_lease,
);
