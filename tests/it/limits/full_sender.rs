//! A sender whose own queue at the carrier is full (Twilio 21611) pauses alone: the account's
//! other numbers keep sending, its messages wait without failing, and once the carrier takes
//! them again they all go, each once.

use std::time::Duration;

use floodgate_sim::{ConfigPatch, SimConfig};

use crate::support::engine::{Engine, EngineSpec, quick_pipeline_file, sim_account};
use crate::support::fresh_postgres_url;
use crate::support::settle::wait_until_settled;
use crate::support::world::World;

const FULL: &str = "+14155550110";
const FULL_MEMBERS: usize = 200;
const OTHER: &str = "+14155550111";
const OTHER_MEMBERS: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sender_queue_pauses_that_number_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_postgres_url().await;
    let sim = floodgate_sim::start(SimConfig {
        accounts: vec![sim_account(500.0)],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    sim.update_config(&ConfigPatch {
        full_senders: Some(vec![FULL.into()]),
        ..ConfigPatch::default()
    })
    .expect("the simulator takes the full sender");
    let engine = Engine::start(EngineSpec {
        database_url: database_url.clone(),
        amqp_url: None,
        sim_url: sim.base_url(),
        rate: 500.0,
        burst: 10,
        config_file: quick_pipeline_file(dir.path()),
    })
    .await;
    let full = World::seed_with(&database_url, None, FULL_MEMBERS as u32, FULL, None).await;
    let other = World::seed_with(&database_url, None, OTHER_MEMBERS as u32, OTHER, None).await;
    let full_id = full.broadcast("From the number whose queue is full.").await;
    let other_id = other.broadcast("From the other number.").await;

    // Had the whole account paused (as for a 429), this would wait minutes.
    let counts = wait_until_settled(&other.store, other_id, Duration::from_secs(60)).await;
    assert_eq!(
        counts.sent + counts.delivered,
        OTHER_MEMBERS as i64,
        "{counts:?}"
    );
    let refusals = || {
        sim.requests()
            .iter()
            .filter(|r| r.from == FULL && r.error_code == Some(21611))
            .count()
    };
    let refused = refusals();
    assert!(
        refused > 0,
        "the full number was never tried: the test proves nothing"
    );
    // Paused, the number is tried again now and then, not once for each of its messages.
    assert!(
        refused < FULL_MEMBERS / 2,
        "{refused} refusals for {FULL_MEMBERS} messages: the number did not pause"
    );
    let waiting = full.store.message_counts(full_id).await.expect("counts");
    assert_eq!(waiting.failed, 0, "a full queue fails nothing: {waiting:?}");

    // The carrier takes the number's messages again: they all go, each once.
    sim.update_config(&ConfigPatch {
        full_senders: Some(Vec::new()),
        ..ConfigPatch::default()
    })
    .expect("the simulator clears the full sender");
    let counts = wait_until_settled(&full.store, full_id, Duration::from_secs(60)).await;
    assert_eq!(
        counts.sent + counts.delivered,
        FULL_MEMBERS as i64,
        "{counts:?}"
    );
    assert_eq!(sim.report().duplicates, 0);
    eprintln!("{refused} refusals before the queue drained; then {counts:?}");
    drop(engine);
    sim.shutdown().await;
}
