//! `send_at` in the future waits; cancel stops a running broadcast and cancels what is unsent.

use std::time::{Duration, Instant};

use floodgate::domain::MessageStatus;
use floodgate::sandbox::SandboxConfig;
use floodgate::store::BroadcastStatus;

use super::setup::{Setup, eventually, quick_pipeline, sandbox};

async fn a_scheduled_broadcast_waits_for_its_time(setup: Setup) {
    let sb = sandbox(
        setup,
        SandboxConfig {
            members: 50,
            rate: 2000.0,
            burst: 50,
            pipeline: quick_pipeline(),
            ..Default::default()
        },
    )
    .await;
    let wait = Duration::from_secs(3);
    let send_at = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap();
    let started = Instant::now();
    let broadcast = sb
        .start_broadcast_at("Later, please.", send_at.timestamp_millis())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sb.sim.report().accepted,
        0,
        "nothing may be sent before send_at"
    );
    let counts = sb
        .wait_until_sent(broadcast, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(counts.total(), 50);
    let first_ms = sb.sim.report().first_request_ms.expect("sent");
    let first = sb.sim_epoch + Duration::from_secs_f64(first_ms / 1000.0);
    assert!(
        first >= started + wait - Duration::from_millis(100),
        "first send {:?} after start, send_at was {wait:?}",
        first - started
    );
    sb.stop().await;
}

/// The engine's request slots for the simulator: what may still go after a cancel.
fn sim_max_in_flight() -> u64 {
    let profile: toml::Table = include_str!("../../../carriers/sim.toml")
        .parse()
        .expect("carriers/sim.toml parses");
    let slots = profile["limits"]["max_in_flight"].as_integer();
    u64::try_from(slots.expect("limits.max_in_flight")).expect("positive")
}

async fn cancel_stops_a_running_broadcast(setup: Setup) {
    let sb = sandbox(
        setup,
        SandboxConfig {
            members: 600,
            rate: 100.0,
            burst: 5,
            pipeline: quick_pipeline(),
            ..Default::default()
        },
    )
    .await;
    let broadcast = sb.start_broadcast("Cancel me halfway.").await.unwrap();
    eventually(
        Duration::from_secs(30),
        "the broadcast is under way",
        || async { sb.sim.report().accepted >= 50 },
    )
    .await;
    let cancelled = sb
        .store
        .cancel_broadcast(sb.community_id, broadcast, chrono::Utc::now())
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(cancelled.status, BroadcastStatus::Cancelled);
    let at_cancel = sb.sim.report().accepted;
    // Sends that had passed their last look may finish; claimed ones that had not are
    // cancelled there, so at most the request slots' worth goes out (the sim profile's
    // max_in_flight), not the hundreds of claimed messages the running chunks hold.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = sb.sim.report().accepted;
    let max_in_flight = sim_max_in_flight();
    assert!(
        after - at_cancel <= max_in_flight,
        "{} sends after cancel",
        after - at_cancel
    );
    let counts = sb.store.message_counts(broadcast).await.unwrap();
    assert!(counts.cancelled > 0, "{counts:?}");
    eventually(
        Duration::from_secs(30),
        "no message waits any more",
        || async {
            let c = sb.store.message_counts(broadcast).await.unwrap();
            c.queued + c.sending == 0
        },
    )
    .await;
    let unsent = sb
        .store
        .broadcast_messages(broadcast, Some(MessageStatus::Queued), None, 10)
        .await
        .unwrap();
    assert!(unsent.is_empty());
    sb.stop().await;
}

crate::all_setups!(
    a_scheduled_broadcast_waits_for_its_time,
    cancel_stops_a_running_broadcast
);
