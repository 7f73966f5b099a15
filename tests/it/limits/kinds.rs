//! A sender number without a rate of its own is held to its kind's default (the profile's
//! `[sender_defaults]`), not to the account's limit; `floodgate limits set --sender` gives it
//! a rate of its own that the running engine obeys within seconds, and `reset` takes it back.

use std::time::Duration;

use bytes::Bytes;
use floodgate::bus::QueueName;
use floodgate::domain::{MessageBody, PhoneNumber};
use floodgate::events::v1;
use floodgate::store::{CreateBroadcast, NewBroadcast, NewCommunity, SenderKind};
use floodgate_sim::{SimConfig, SimHandle};
use prost::Message as _;

use crate::support::engine::{ACCOUNT_SID, AUTH_TOKEN, sim_account};
use crate::support::settle::wait_until_settled;
use crate::support::{TestApp, carrier_profiles, fresh_sqlite_url, spawn_app_with_profiles_on};

const SENDER: &str = "+14155550100";
/// The sim profile's long-code default in this test; the account allows 500/s.
const LONG_CODE_RATE: &str = "4";
const MEMBERS: u32 = 12;

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Accepted sends from `from` after `after_ms` on the simulator's clock: their times.
fn sends_after(sim: &SimHandle, from: &str, after_ms: f64) -> Vec<f64> {
    sim.requests()
        .iter()
        .filter(|r| r.from == from && r.status == 201 && r.at_ms > after_ms)
        .map(|r| r.at_ms)
        .collect()
}

/// The most of `sends` (times in ms) in any one second.
fn densest_second(sends: &[f64]) -> usize {
    sends
        .iter()
        .map(|start| {
            sends
                .iter()
                .filter(|at| **at >= *start && **at < start + 1000.0)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// An engine whose `sim` profile points at a simulator allowing 500/s, with a long-code
/// default of [`LONG_CODE_RATE`]; a community sending from [`SENDER`] with no rate of its own.
pub async fn start() -> (TestApp, SimHandle, i64, tempfile::TempDir, String) {
    let sim = floodgate_sim::start(SimConfig {
        accounts: vec![sim_account(500.0)],
        callback_delay: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let base = sim.base_url();
    let profiles: Vec<_> = carrier_profiles(&[
        ("FLOODGATE_CARRIER_SIM__API_BASE", base.as_str()),
        (
            "FLOODGATE_CARRIER_SIM__SENDER_DEFAULTS__LONG_CODE",
            LONG_CODE_RATE,
        ),
        ("FLOODGATE_SIM_ACCOUNT_SID", ACCOUNT_SID),
        ("FLOODGATE_SIM_AUTH_TOKEN", AUTH_TOKEN),
    ])
    .into_iter()
    .filter(|p| p.name == "sim")
    .collect();
    let (dir, url) = fresh_sqlite_url();
    let app = spawn_app_with_profiles_on(&url, free_port(), profiles).await;
    app.wait_ready().await;
    let store = &app.state.store;
    let community = store
        .create_community(&NewCommunity::new("kinds"))
        .await
        .expect("community");
    store
        .add_sender_number(
            community.id,
            "sim",
            &PhoneNumber::parse(SENDER).expect("E.164"),
            SenderKind::LongCode,
            None,
        )
        .await
        .expect("sender");
    let members: Vec<PhoneNumber> = (0..MEMBERS).map(PhoneNumber::example).collect();
    store
        .import_members(community.id, &members, chrono::Utc::now())
        .await
        .expect("members");
    (app, sim, community.id, dir, url)
}

/// Sends a broadcast to every member and waits until it settles.
pub async fn broadcast(app: &TestApp, community_id: i64, text: &str) {
    let store = &app.state.store;
    let body = MessageBody::parse(text).expect("body");
    let broadcast = match store
        .create_broadcast(&NewBroadcast {
            community_id,
            body: &body,
            idempotency_key: None,
            request_hash: None,
            send_at_ms: chrono::Utc::now().timestamp_millis(),
            recipients: i64::from(MEMBERS),
        })
        .await
        .expect("broadcast")
    {
        CreateBroadcast::Created(b) | CreateBroadcast::Existing(b) => b,
    };
    let work = v1::FanOutBroadcast {
        broadcast_id: broadcast.id,
    };
    app.state
        .ingest
        .accept(&QueueName::fanout(), Bytes::from(work.encode_to_vec()))
        .await
        .expect("fan-out queued");
    let counts = wait_until_settled(store, broadcast.id, Duration::from_secs(120)).await;
    assert_eq!(
        counts.sent + counts.delivered,
        i64::from(MEMBERS),
        "{counts:?}"
    );
}

/// Runs `floodgate limits ARGS` on `database_url` with the test's profile override; its stdout.
fn limits(database_url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_floodgate"))
        .arg("limits")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env(
            "FLOODGATE_CARRIER_SIM__SENDER_DEFAULTS__LONG_CODE",
            LONG_CODE_RATE,
        )
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_code_keeps_its_kinds_default_until_given_a_rate_of_its_own() {
    let (app, sim, community, _dir, url) = start().await;
    broadcast(&app, community, "Held to the long-code default.").await;
    let first = sends_after(&sim, SENDER, -1.0);
    let densest = densest_second(&first);
    assert!(
        densest <= 5,
        "the long code sent {densest} in one second: its kind's default is {LONG_CODE_RATE}/s \
         (+ burst 1), not the account's 500/s"
    );
    let shown = limits(&url, &["show"]);
    assert!(
        shown.contains(SENDER) && shown.contains("rate 4/s (long_code default)"),
        "{shown}"
    );

    // A rate of its own, lower than the default, while the engine runs.
    let set = limits(&url, &["set", "--sender", SENDER, "--rate", "2"]);
    assert!(set.contains("rate 2/s (set for this number)"), "{set}");
    tokio::time::sleep(Duration::from_millis(2500)).await; // a lease renewal or two
    let split = first.iter().copied().fold(0.0, f64::max);
    broadcast(&app, community, "Held to its own rate.").await;
    let second = sends_after(&sim, SENDER, split);
    assert_eq!(second.len(), MEMBERS as usize);
    let densest = densest_second(&second);
    assert!(
        densest <= 3,
        "after `limits set --sender --rate 2` the long code sent {densest} in one second"
    );

    let reset = limits(&url, &["reset", "--sender", SENDER]);
    assert!(reset.contains("rate 4/s (long_code default)"), "{reset}");
    let stored = app
        .state
        .store
        .sender_limits("sim")
        .await
        .expect("read")
        .into_iter()
        .find(|s| s.number == SENDER)
        .expect("the number");
    assert_eq!(stored.rate_per_second, None);
}
