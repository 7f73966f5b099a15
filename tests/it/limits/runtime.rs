//! `floodgate limits set` while two instances run a broadcast: the instance that sends slows
//! down within seconds, and the one that takes over after it dies obeys the new limit too.

use std::time::{Duration, Instant};

use floodgate_sim::{SimConfig, SimHandle};

use super::the_holder;
use crate::support::engine::{Engine, EngineSpec, quick_pipeline_file, sim_account};
use crate::support::settle::wait_until_settled;
use crate::support::world::World;
use crate::support::{fresh_postgres_url, fresh_vhost, shared_broker};

const RATE: f64 = 200.0;
const LOWER: f64 = 40.0;
const MEMBERS: u32 = 2_000;

/// Runs the real binary's `limits` subcommand against the store; panics with its output on failure.
fn limits(database_url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_floodgate"))
        .arg("limits")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run floodgate limits");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "floodgate limits {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The simulator's clock (ms since it started), read from its newest request.
fn sim_now(sim: &SimHandle) -> f64 {
    sim.report().last_request_ms.unwrap_or_default()
}

/// Accepted sends with `from_ms <= at < to_ms`.
fn sends_between(sim: &SimHandle, from_ms: f64, to_ms: f64) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.status == 201 && r.at_ms >= from_ms && r.at_ms < to_ms)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_set_at_runtime_binds_every_instance_within_seconds() {
    let _broker = shared_broker().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_postgres_url().await;
    let amqp_url = fresh_vhost().await;
    let sim = floodgate_sim::start(SimConfig {
        accounts: vec![sim_account(RATE)],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let spec = EngineSpec {
        database_url: database_url.clone(),
        amqp_url: Some(amqp_url.clone()),
        sim_url: sim.base_url(),
        rate: RATE,
        burst: 10,
        config_file: quick_pipeline_file(dir.path()),
    };
    let mut engines = vec![Engine::start(spec.clone()).await, Engine::start(spec).await];
    let world = World::seed(&database_url, Some(&amqp_url), MEMBERS, None).await;
    let broadcast = world.broadcast("Slow down, please.").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.report().accepted < 300 {
        assert!(Instant::now() < deadline, "the broadcast never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let shown = limits(
        &database_url,
        &["set", "--carrier", "sim", "--rate", &LOWER.to_string()],
    );
    assert!(shown.contains("rate 40/s"), "{shown}");
    let set_at = sim_now(&sim);
    // The holder renews its lease (and reads limits) every 400 ms here: give it 2 s, then
    // watch 6 s: no more than the new limit allows.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let slowed = sends_between(&sim, set_at + 2_000.0, set_at + 8_000.0);
    eprintln!("6 s from 2 s after `limits set`: {slowed} sends (limit {LOWER}/s)");
    assert!(
        slowed as f64 <= LOWER * 6.0 + 10.0,
        "{slowed} sends in 6 s after the limit became {LOWER}/s"
    );
    // And the lane still sends at about the new limit (else the bound above holds trivially):
    // a lowered limit once stalled it for seconds, its waiting sends spending their tokens to
    // learn that the pace had changed.
    assert!(
        slowed as f64 >= LOWER * 6.0 / 2.0,
        "only {slowed} sends in 6 s at a limit of {LOWER}/s: the lane stalled"
    );

    let holder = the_holder(&[&engines[0], &engines[1]], Duration::from_secs(10)).await;
    engines[holder].kill9();
    let killed_at = sim_now(&sim);
    the_holder(&[&engines[1 - holder]], Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = sends_between(&sim, killed_at + 1_000.0, killed_at + 4_000.0);
    eprintln!("3 s after the failover: {after} sends");
    assert!(
        after as f64 <= LOWER * 3.0 + 10.0,
        "the new holder ignored the runtime limit: {after} sends in 3 s"
    );

    let shown = limits(&database_url, &["reset", "--carrier", "sim"]);
    assert!(shown.contains("rate 200/s"), "{shown}");
    let counts = wait_until_settled(&world.store, broadcast, Duration::from_secs(120)).await;
    assert_eq!(
        counts.sent + counts.delivered,
        i64::from(MEMBERS),
        "{counts:?}"
    );
    let report = sim.report();
    assert_eq!(
        report.accounts[0].windows_over_limit, 0,
        "{:?}",
        report.accounts[0]
    );
    drop(engines);
    sim.shutdown().await;
}
