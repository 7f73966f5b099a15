//! kill -9 of the engine in the middle of a broadcast, then a restart on the same store and bus.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use floodgate::domain::MessageStatus;
use floodgate::store::Store;
use floodgate_sim::{Account, Latency, SimConfig, Unit};

use crate::support::engine::{ACCOUNT_SID, AUTH_TOKEN, Engine, EngineSpec, quick_pipeline_file};
use crate::support::settle::{assert_each_member_served_once, wait_until_settled};
use crate::support::world::World;
use crate::support::{fresh_postgres_url, fresh_sqlite_url, fresh_vhost, shared_broker};

const MEMBERS: u32 = 1_500;
const RATE: f64 = 300.0;
const BURST: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    SqliteEmbedded,
    PostgresRabbit,
}

/// The rows in `sending` at the kill, by recipient.
async fn sending_rows(store: &Store, broadcast_id: i64) -> Vec<String> {
    let mut to = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .broadcast_messages(broadcast_id, Some(MessageStatus::Sending), after, 1000)
            .await
            .expect("sending rows");
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        to.extend(page.iter().map(|m| m.to.as_str().to_owned()));
    }
    to
}

async fn kill_9_mid_broadcast_loses_nothing(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sqlite_dir, database_url, amqp_url) = match backend {
        Backend::SqliteEmbedded => {
            let (d, url) = fresh_sqlite_url();
            (Some(d), url, None)
        }
        Backend::PostgresRabbit => (None, fresh_postgres_url().await, Some(fresh_vhost().await)),
    };
    let sim = floodgate_sim::start(SimConfig {
        accounts: vec![Account {
            sid: ACCOUNT_SID.into(),
            auth_token: AUTH_TOKEN.into(),
            rate: RATE,
            burst: f64::from(BURST),
            unit: Unit::Segments,
            ..Account::default()
        }],
        latency: Latency::Uniform {
            min: Duration::from_millis(1),
            max: Duration::from_millis(5),
        },
        callback_delay: Duration::from_millis(100),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");

    let mut engine = Engine::start(EngineSpec {
        database_url: database_url.clone(),
        amqp_url: amqp_url.clone(),
        sim_url: sim.base_url(),
        rate: RATE,
        burst: BURST,
        config_file: quick_pipeline_file(dir.path()),
    })
    .await;

    // The child has migrated (it is ready); seed beside it through the same store.
    let world = World::seed(&database_url, amqp_url.as_deref(), MEMBERS, None).await;
    let store = world.store.clone();
    let broadcast_id = world
        .broadcast("Chaos drill: this text must arrive exactly once.")
        .await;

    // Mid-broadcast: the carrier has accepted at least 30% of the members.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.report().accepted < u64::from(MEMBERS) * 3 / 10 {
        assert!(
            Instant::now() < deadline,
            "the broadcast never reached 30%: {:?}",
            store.message_counts(broadcast_id).await
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = engine.pid();
    engine.kill9();
    // Requests the dead process already wrote to its socket may still be read by the
    // simulator: let them land before taking its snapshot (nothing new can arrive).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let at_kill = store.message_counts(broadcast_id).await.unwrap();
    let sending = sending_rows(&store, broadcast_id).await;
    let accepted_before: HashSet<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.status == 201)
        .map(|r| r.to)
        .collect();
    // The sends truly in flight: claimed (`sending`) and already accepted by the carrier, but
    // whose result the dead process never made durable.
    let sent_in_flight = sending
        .iter()
        .filter(|to| accepted_before.contains(*to))
        .count() as u64;
    eprintln!(
        "{backend:?}: killed pid {pid:?} after {} accepted sends; at the kill: {at_kill:?}; \
         {} rows sending, {sent_in_flight} of them already accepted by the carrier",
        accepted_before.len(),
        sending.len()
    );

    engine.restart().await;
    let counts = wait_until_settled(&store, broadcast_id, Duration::from_secs(90)).await;
    assert_each_member_served_once(&store, &sim, broadcast_id, MEMBERS).await;

    let report = sim.report();
    eprintln!(
        "{backend:?}: after restart {counts:?}; simulator: accepted {}, duplicates {}, throttled {}, \
         max/1s {}, windows over limit {}",
        report.accepted,
        report.duplicates,
        report.throttled,
        report.accounts[0].max_units_1s,
        report.accounts[0].windows_over_limit
    );
    // The bound (DESIGN.md "Guarantees"): a message reaches the carrier only while its row is
    // `sending` under a claim, and a row recorded `sent` (or later) is never claimed again. So
    // only a row that was `sending` at the kill can be sent twice, and only if the carrier had
    // already accepted it from the dead process (its result was not yet durable): the restarted
    // run claims it once more (after its lease, or at once on SQLite where start-up releases
    // every claim) and sends it again. Each such row gives at most one duplicate, hence
    //   duplicates <= |{sending at the kill} ∩ {accepted by the simulator before the restart}|
    //              <= rows `sending` at the kill (which also counts claims still waiting on the throttle).
    assert!(
        report.duplicates <= sent_in_flight,
        "{} duplicates, but only {sent_in_flight} sends were in flight at the kill",
        report.duplicates
    );
    assert!(sent_in_flight <= at_kill.sending as u64);
    assert_eq!(
        report.accepted,
        u64::from(MEMBERS) + report.duplicates,
        "one accepted send per member, plus the duplicates counted above"
    );
    assert_eq!(
        report.accounts[0].windows_over_limit, 0,
        "the carrier's limit held across the crash: {:?}",
        report.accounts[0]
    );
    drop(engine);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_embedded_kill_9_mid_broadcast_loses_nothing() {
    kill_9_mid_broadcast_loses_nothing(Backend::SqliteEmbedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rabbitmq_kill_9_mid_broadcast_loses_nothing() {
    let _broker = shared_broker().await;
    kill_9_mid_broadcast_loses_nothing(Backend::PostgresRabbit).await;
}
