//! Each carrier adapter end to end against the simulator speaking that carrier: the send
//! request (auth, encoding, number format), the provider id, the carrier's signed status
//! callbacks verified and applied, an opted-out recipient, and (Vonage) throttling reported
//! inside HTTP 200.

use std::time::{Duration, Instant};

use bytes::Bytes;
use floodgate::bus::QueueName;
use floodgate::domain::{MessageBody, MessageStatus, PhoneNumber};
use floodgate::events::v1;
use floodgate::store::{CreateBroadcast, NewBroadcast, NewCommunity, SenderKind, Store};
use floodgate_sim::{Account, SimConfig, SimHandle};
use prost::Message as _;

use crate::support::{TestApp, carrier_profiles, fresh_postgres_url, spawn_app_with_profiles_on};

const MEMBERS: u32 = 30;

/// A loopback port nobody listens on right now (the engine's public URL must name it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

struct Run {
    app: TestApp,
    sim: SimHandle,
    store: Store,
    broadcast: i64,
    opted_out: PhoneNumber,
}

/// An engine whose `carrier` profile points at `sim`, a community on that carrier with
/// [`MEMBERS`] members (one opted out at the carrier), and a broadcast to them.
async fn start(carrier: &str, sim: SimHandle, env: Vec<(&str, String)>) -> Run {
    start_with(carrier, sim, env, "Adapter check: hello from Floodgate.").await
}

/// [`start`] with the broadcast's text.
async fn start_with(carrier: &str, sim: SimHandle, env: Vec<(&str, String)>, text: &str) -> Run {
    let api_base = (
        format!("FLOODGATE_CARRIER_{}__API_BASE", carrier.to_uppercase()),
        sim.base_url(),
    );
    let env: Vec<(String, String)> = env
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain([api_base])
        .collect();
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let profiles: Vec<_> = carrier_profiles(&pairs)
        .into_iter()
        .filter(|p| p.name == carrier)
        .collect();
    let port = free_port();
    let app = spawn_app_with_profiles_on(&fresh_postgres_url().await, port, profiles).await;
    app.wait_ready().await;
    let store = app.state.store.clone();
    let community = store
        .create_community(&NewCommunity::new(carrier))
        .await
        .unwrap();
    store
        .add_sender_number(
            community.id,
            carrier,
            &PhoneNumber::parse("+14155550100").unwrap(),
            SenderKind::LongCode,
            None,
        )
        .await
        .unwrap();
    let members: Vec<PhoneNumber> = (0..MEMBERS).map(PhoneNumber::example).collect();
    store
        .import_members(community.id, &members, chrono::Utc::now())
        .await
        .unwrap();
    let opted_out = members[3].clone();
    sim.set_optouts([opted_out.as_str().to_string()]);
    let body = MessageBody::parse(text).unwrap();
    let broadcast = match store
        .create_broadcast(&NewBroadcast {
            community_id: community.id,
            body: &body,
            idempotency_key: None,
            request_hash: None,
            send_at_ms: chrono::Utc::now().timestamp_millis(),
            recipients: i64::from(MEMBERS),
        })
        .await
        .unwrap()
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
        .unwrap();
    Run {
        app,
        sim,
        store,
        broadcast: broadcast.id,
        opted_out,
    }
}

/// Waits until every message but the opted-out one is `delivered` (the carrier's signed
/// callback was verified and applied); returns the opted-out one's final row.
async fn every_callback_lands(run: &Run) -> floodgate::store::Message {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let counts = run.store.message_counts(run.broadcast).await.unwrap();
        if counts.delivered == i64::from(MEMBERS) - 1 && counts.failed == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not all delivered: {counts:?}; simulator: {:?}",
            run.sim.report()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let report = run.sim.report();
    assert_eq!(report.duplicates, 0, "{report:?}");
    assert_eq!(report.accepted, u64::from(MEMBERS) - 1, "{report:?}");
    let rows = run
        .store
        .broadcast_messages(run.broadcast, Some(MessageStatus::Failed), None, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].to, run.opted_out);
    let _ = &run.app;
    rows.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telnyx_sends_callbacks_and_opt_outs() {
    let account = Account {
        rate: 100.0,
        burst: 10.0,
        ..Account::telnyx("telnyx-account", "KEY0123456789")
    };
    let public_key = account.telnyx_public_key();
    let sim = floodgate_sim::start(SimConfig {
        accounts: vec![account],
        callback_delay: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let run = start(
        "telnyx",
        sim,
        vec![
            ("TELNYX_API_KEY", "KEY0123456789".into()),
            ("TELNYX_PUBLIC_KEY", public_key),
        ],
    )
    .await;
    let failed = every_callback_lands(&run).await;
    assert_eq!(failed.last_error_code.as_deref(), Some("40300"));
    let member = run
        .store
        .member_by_phone(failed.community_id, &run.opted_out)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        member.status,
        floodgate::domain::MemberStatus::Unsubscribed,
        "Telnyx 40300 means the recipient opted out at the carrier"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vonage_sends_callbacks_and_throttling_inside_http_200() {
    // The simulator allows 10 requests/s while the profile says 30: Vonage answers the excess
    // with HTTP 200 and status 1, which must be read as "slow down", not as sent.
    let account = Account {
        rate: 10.0,
        burst: 2.0,
        ..Account::vonage("vonage-key", "vonage-secret")
    };
    let secret = account.signature_secret.clone();
    let sim = floodgate_sim::start(SimConfig {
        accounts: vec![account],
        callback_delay: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let run = start(
        "vonage",
        sim,
        vec![
            ("VONAGE_API_KEY", "vonage-key".into()),
            ("VONAGE_API_SECRET", "vonage-secret".into()),
            ("VONAGE_SIGNATURE_SECRET", secret),
            ("VONAGE_SIGNATURE_METHOD", "md5hash".into()),
        ],
    )
    .await;
    let failed = every_callback_lands(&run).await;
    assert!(failed.last_error_code.is_some(), "{failed:?}");
    let report = run.sim.report();
    assert!(
        report.throttled > 0,
        "the test should make Vonage throttle: {report:?}"
    );
    let metrics = run
        .app
        .client
        .get(format!("{}/metrics", run.app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let backoffs = metrics
        .lines()
        .find(|l| l.starts_with("floodgate_carrier_backoffs_total{carrier=\"vonage\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(
        backoffs >= 1.0,
        "status 1 inside HTTP 200 made the engine back off"
    );
}

/// A metric's value from the engine's `/metrics` (0 when absent).
async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vonage_reports_on_every_part_of_a_long_message_match_it() {
    // Two segments: Vonage answers with two message-ids and sends a DLR for each part, every
    // one carrying the client-ref Floodgate sent (its message id).
    let account = Account {
        rate: 100.0,
        burst: 10.0,
        ..Account::vonage("vonage-key", "vonage-secret")
    };
    let secret = account.signature_secret.clone();
    let sim = floodgate_sim::start(SimConfig {
        accounts: vec![account],
        callback_delay: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let text =
        "Adapter check: doors open at 6pm, speakers at 7pm, bring water and a friend. ".repeat(3);
    let run = start_with(
        "vonage",
        sim,
        vec![
            ("VONAGE_API_KEY", "vonage-key".into()),
            ("VONAGE_API_SECRET", "vonage-secret".into()),
            ("VONAGE_SIGNATURE_SECRET", secret),
            ("VONAGE_SIGNATURE_METHOD", "md5hash".into()),
        ],
        &text,
    )
    .await;
    let failed = every_callback_lands(&run).await;
    assert!(failed.last_error_code.is_some(), "{failed:?}");
    let requests = run.sim.requests();
    assert!(requests.iter().all(|r| r.segments == 2), "two parts each");
    // Give the last parts' DLRs a moment, then: none was left without its message.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for outcome in ["early", "unknown"] {
        let series =
            format!("floodgate_receipts_total{{carrier=\"vonage\",outcome=\"{outcome}\"}}");
        assert_eq!(metric(&run.app, &series).await, 0.0, "{series}");
    }
    let advanced = "floodgate_receipts_total{carrier=\"vonage\",outcome=\"advanced\"}";
    assert!(metric(&run.app, advanced).await >= f64::from(MEMBERS - 1));
}
