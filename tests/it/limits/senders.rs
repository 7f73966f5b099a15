//! A sender number with a low limit of its own does not hold up the other senders on the same
//! carrier account: its surplus work is parked until its backlog drains.

use std::time::{Duration, Instant};

use floodgate_sim::SimConfig;

use crate::support::engine::{Engine, EngineSpec, quick_pipeline_file, sim_account};
use crate::support::fresh_postgres_url;
use crate::support::settle::wait_until_settled;
use crate::support::world::World;

const SLOW: &str = "+14155550100";
const SLOW_RATE: f64 = 5.0;
const FAST: &str = "+14155550101";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sender_does_not_hold_up_the_others() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_postgres_url().await;
    let sim = floodgate_sim::start(SimConfig {
        accounts: vec![sim_account(500.0)],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let engine = Engine::start(EngineSpec {
        database_url: database_url.clone(),
        amqp_url: None,
        sim_url: sim.base_url(),
        rate: 500.0,
        burst: 10,
        config_file: quick_pipeline_file(dir.path()),
    })
    .await;
    // The slow number's broadcast alone needs 20 chunks of 50 at 5/s: 200 s, far more
    // chunks than the lane works on at once.
    let slow = World::seed_with(&database_url, None, 1_000, SLOW, Some(SLOW_RATE)).await;
    let fast = World::seed_with(&database_url, None, 300, FAST, None).await;
    slow.broadcast("From the slow number.").await;
    let started = Instant::now();
    let fast_id = fast.broadcast("From the fast number.").await;
    let counts = wait_until_settled(&fast.store, fast_id, Duration::from_secs(60)).await;
    eprintln!(
        "the fast number's 300 messages settled in {:?}: {counts:?}",
        started.elapsed()
    );
    assert_eq!(counts.sent + counts.delivered, 300, "{counts:?}");

    // Meanwhile the slow number kept to its own limit.
    let slow_sends: Vec<f64> = sim
        .requests()
        .iter()
        .filter(|r| r.from == SLOW && r.status == 201)
        .map(|r| r.at_ms)
        .collect();
    let densest = slow_sends
        .iter()
        .map(|start| {
            slow_sends
                .iter()
                .filter(|at| **at >= *start && **at < start + 1000.0)
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(
        slow_sends.len() < 1_000,
        "the slow number finished first: the test proves nothing"
    );
    assert!(
        densest as f64 <= SLOW_RATE + 1.0,
        "the slow number sent {densest} in one second (limit {SLOW_RATE}/s + burst 1)"
    );
    drop(engine);
    sim.shutdown().await;
}
