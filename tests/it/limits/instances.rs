//! Three engine instances, one carrier account, two senders with limits of their own: the
//! simulator never sees a one-second window above `rate + burst`, for the account or for a
//! sender, even when the instance that sends is killed mid-run; nothing is lost.

use std::time::{Duration, Instant};

use floodgate_sim::{Account, Latency, SimConfig, Unit};

use super::the_holder;
use crate::support::engine::{ACCOUNT_SID, AUTH_TOKEN, Engine, EngineSpec, quick_pipeline_file};
use crate::support::settle::wait_until_settled;
use crate::support::world::World;
use crate::support::{fresh_postgres_url, fresh_vhost, shared_broker};

const RATE: f64 = 200.0;
const BURST: u32 = 10;
const SENDER_RATE: f64 = 120.0;
const SENDER_BURST: f64 = 5.0;
const MEMBERS: u32 = 1_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_keep_the_limits_through_the_loss_of_the_sender() {
    let _broker = shared_broker().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_postgres_url().await;
    let amqp_url = fresh_vhost().await;
    let sim = floodgate_sim::start(SimConfig {
        accounts: vec![Account {
            sid: ACCOUNT_SID.into(),
            auth_token: AUTH_TOKEN.into(),
            rate: RATE,
            burst: f64::from(BURST),
            unit: Unit::Segments,
            sender_rate: SENDER_RATE,
            sender_burst: SENDER_BURST,
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
    let spec = EngineSpec {
        database_url: database_url.clone(),
        amqp_url: Some(amqp_url.clone()),
        sim_url: sim.base_url(),
        rate: RATE,
        burst: BURST,
        config_file: quick_pipeline_file(dir.path()),
    };
    let mut engines = Vec::new();
    for _ in 0..3 {
        engines.push(Engine::start(spec.clone()).await);
    }

    // Two communities, each sending from its own number limited to 120/s: together they
    // would go 240/s, so both the senders' and the account's limits bind.
    let a = World::seed_with(
        &database_url,
        Some(&amqp_url),
        MEMBERS,
        "+14155550100",
        Some(SENDER_RATE),
    )
    .await;
    let b = World::seed_with(
        &database_url,
        Some(&amqp_url),
        MEMBERS,
        "+14155550101",
        Some(SENDER_RATE),
    )
    .await;
    let broadcasts = [
        a.broadcast("Three instances, one limit (A).").await,
        b.broadcast("Three instances, one limit (B).").await,
    ];

    let deadline = Instant::now() + Duration::from_secs(120);
    while sim.report().accepted < u64::from(MEMBERS) * 2 * 3 / 10 {
        assert!(
            Instant::now() < deadline,
            "the broadcasts never reached 30%"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let holder = the_holder(&engines.iter().collect::<Vec<_>>(), Duration::from_secs(10)).await;
    let accepted_at_kill = sim.report().accepted;
    engines[holder].kill9();
    let killed = Instant::now();
    let survivors: Vec<&Engine> = engines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != holder)
        .map(|(_, e)| e)
        .collect();
    the_holder(&survivors, Duration::from_secs(20)).await;
    eprintln!(
        "killed instance {holder} after {accepted_at_kill} accepted sends; another took over within {:?}",
        killed.elapsed()
    );

    for (world, id) in [(&a, broadcasts[0]), (&b, broadcasts[1])] {
        let counts = wait_until_settled(&world.store, id, Duration::from_secs(120)).await;
        assert_eq!(
            counts.sent + counts.delivered,
            i64::from(MEMBERS),
            "broadcast {id}: every member served: {counts:?}"
        );
    }
    let report = sim.report();
    eprintln!(
        "account: {:?}\nsenders: {:?}\nduplicates {}, throttled {}",
        report.accounts, report.senders, report.duplicates, report.throttled
    );
    // A send the killed instance made but never recorded is sent again by the next holder:
    // at most one per request it had in flight (the profile's max_in_flight is 64).
    assert!(report.duplicates <= 64, "{} duplicates", report.duplicates);
    assert_eq!(report.accepted, u64::from(MEMBERS) * 2 + report.duplicates);
    for limit in report.accounts.iter().chain(&report.senders) {
        assert_eq!(
            limit.windows_over_limit, 0,
            "a one-second window above rate + burst: {limit:?}"
        );
    }
    assert_eq!(
        report.senders.len(),
        2,
        "both senders were used: {:?}",
        report.senders
    );
    drop(engines);
    sim.shutdown().await;
}
