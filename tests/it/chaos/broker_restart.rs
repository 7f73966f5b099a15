//! RabbitMQ stopped and started again in the middle of a broadcast, with webhooks arriving
//! while it is down.

use std::time::{Duration, Instant};

use floodgate::config::PipelineConfig;
use floodgate::domain::{MemberStatus, PhoneNumber};
use floodgate::sandbox::{Sandbox, SandboxConfig};

use crate::support::settle::{assert_each_member_served_once, wait_until_settled};
use crate::support::{exclusive_broker, fresh_postgres_url, fresh_vhost, rabbitmqctl};

const MEMBERS: u32 = 1_500;
const JOINS: u32 = 5;

/// The broker's app is stopped while this lives; dropping it (say, when an assertion failed)
/// starts it again, so the node is usable by the tests that run after this one.
struct Outage {
    over: bool,
}

impl Outage {
    async fn begin() -> Self {
        // The guard exists before the stop: a stop that half-happened is still undone.
        let outage = Self { over: false };
        rabbitmqctl(&["stop_app"]).await;
        outage
    }

    async fn end(mut self) {
        rabbitmqctl(&["start_app"]).await;
        rabbitmqctl(&["await_startup"]).await;
        self.over = true;
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if self.over {
            return;
        }
        let (Ok(ctl), Ok(node)) = (
            std::env::var("FLOODGATE_TEST_RABBITMQCTL"),
            std::env::var("FLOODGATE_TEST_RABBITMQ_NODE"),
        ) else {
            return;
        };
        // Blocking on purpose: Drop cannot await, and the node must be back before the lock goes.
        let status = std::process::Command::new(ctl)
            .args(["-n", &node, "start_app"])
            .status();
        eprintln!("broker outage guard: rabbitmqctl start_app -> {status:?}");
    }
}

async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_mid_broadcast_completes_and_outbox_forwards() {
    let _broker = exclusive_broker().await;
    let vhost_url = fresh_vhost().await;
    let sb = Sandbox::start(SandboxConfig {
        database_url: Some(fresh_postgres_url().await),
        amqp_url: Some(vhost_url),
        members: MEMBERS,
        rate: 150.0, // 10 s of sending: stop_app (seconds on a loaded machine) lands mid-broadcast
        burst: 10,
        // Small work items and prefetch: at most ~80 messages are in the engine's hands at a
        // time, so most of the broadcast waits in the broker when it stops (`stop_app` takes
        // seconds, during which the engine keeps sending what it holds).
        pipeline: PipelineConfig {
            deliver_chunk: 10,
            deliver_concurrency: 4,
            deliver_prefetch: 8,
            retry_base_ms: 100,
            retry_max_ms: 2000,
            claim_lease_ms: 3000,
            ..PipelineConfig::default()
        },
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox on PostgreSQL + RabbitMQ");
    let broadcast = sb
        .start_broadcast("Broker drill: this text must arrive exactly once.")
        .await
        .unwrap();
    eventually(
        Duration::from_secs(60),
        "the carrier accepted 10% of the broadcast",
        // `stop_app` itself takes a few seconds while sends go on: start it early.
        || async { sb.sim.report().accepted >= u64::from(MEMBERS) / 10 },
    )
    .await;

    let stopping = Instant::now();
    let outage = Outage::begin().await;
    let accepted_at_stop = sb.sim.report().accepted;
    let joiners: Vec<PhoneNumber> = (0..JOINS)
        .map(|i| PhoneNumber::example(2_000_000 + i))
        .collect();
    for (i, phone) in joiners.iter().enumerate() {
        let status = sb
            .text(phone, "JOIN", &format!("SMoutage{i:028}"))
            .await
            .expect("webhook answered");
        assert!(
            (200..300).contains(&status),
            "a webhook during the outage must be made durable (outbox) and answered 2xx, got {status}"
        );
    }
    let parked = sb.store.outbox_len().await.unwrap();
    assert!(
        parked >= i64::from(JOINS),
        "the webhooks went to the outbox while the broker was down: {parked}"
    );
    let counts_in_outage = sb.store.message_counts(broadcast).await.unwrap();
    assert!(
        counts_in_outage.queued > 0,
        "part of the broadcast waits in the stopped broker: {counts_in_outage:?}"
    );
    eprintln!(
        "broker stopped ({:?}) after {accepted_at_stop} accepted sends; outbox {parked}; {counts_in_outage:?}",
        stopping.elapsed()
    );
    outage.end().await;
    eprintln!("broker back after {:?}", stopping.elapsed());

    let counts = wait_until_settled(&sb.store, broadcast, Duration::from_secs(120)).await;
    assert_each_member_served_once(&sb.store, &sb.sim, broadcast, MEMBERS).await;
    eventually(Duration::from_secs(30), "the outbox drained", || async {
        sb.store.outbox_len().await.unwrap() == 0
    })
    .await;
    eventually(
        Duration::from_secs(60),
        "every JOIN sent during the outage took effect",
        || async {
            for phone in &joiners {
                let member = sb
                    .store
                    .member_by_phone(sb.community_id, phone)
                    .await
                    .unwrap();
                if member.is_none_or(|m| m.status != MemberStatus::Subscribed) {
                    return false;
                }
            }
            true
        },
    )
    .await;
    eventually(
        Duration::from_secs(60),
        "every joiner's welcome reached the carrier",
        || async {
            joiners.iter().all(|p| {
                sb.sim
                    .requests_to(p.as_str())
                    .iter()
                    .any(|r| r.status == 201)
            })
        },
    )
    .await;
    // Status callbacks are webhooks too: every one must be answered 2xx, straight through the
    // broker or, during the outage, through the outbox.
    eventually(
        Duration::from_secs(60),
        "the simulator posted every status callback",
        || async {
            let r = sb.sim.report();
            r.callbacks.sent + r.callbacks.failed + r.callbacks.dropped >= 2 * r.accepted
        },
    )
    .await;
    let callbacks = sb.sim.report().callbacks;
    assert_eq!(
        (callbacks.failed, callbacks.dropped),
        (0, 0),
        "every status callback was answered 2xx, even during the outage: {callbacks:?}"
    );
    // Every message ends `delivered` (the simulator reports delivered for all): a receipt
    // answered 2xx is never lost, even when its retry waited in a delay queue across the
    // outage. (Quorum delay queues lost one about once in five runs; classic ones did not.)
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut applied = sb.store.message_counts(broadcast).await.unwrap();
    while applied.delivered < i64::from(MEMBERS) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        applied = sb.store.message_counts(broadcast).await.unwrap();
    }
    assert_eq!(
        applied.delivered,
        i64::from(MEMBERS),
        "every delivered receipt is applied: {applied:?}"
    );
    let report = sb.sim.report();
    eprintln!(
        "after the outage: {counts:?}; simulator accepted {}, duplicates {}, windows over limit {}",
        report.accepted, report.duplicates, report.accounts[0].windows_over_limit
    );
    assert_eq!(
        report.duplicates, 0,
        "the engine kept running: no send may repeat"
    );
    assert_eq!(
        report.accepted,
        u64::from(MEMBERS + JOINS),
        "one send per member and one welcome per joiner"
    );
    assert_eq!(report.accounts[0].windows_over_limit, 0, "{report:?}");
    sb.stop().await;
}
