//! A STOP that is durable before a send means the send does not happen.

use std::time::{Duration, Instant};

use floodgate::domain::{MemberStatus, PhoneNumber};
use floodgate::sandbox::SandboxConfig;

use super::setup::{Setup, eventually, quick_pipeline, sandbox};

/// A send reaching the carrier this long after the STOP's transaction began is a violation.
/// The margin covers the transaction itself (`unsubscribed_at` is taken before it begins, and
/// on a loaded 2-core machine it can take a few hundred ms to commit) and the hop of a send
/// checked just before the commit. The stoppers are late in the send order, so a missing
/// last look would send to them seconds after their STOP, far beyond the margin.
const MARGIN: Duration = Duration::from_millis(300);

async fn stop_mid_broadcast_stops_the_remaining_sends(setup: Setup) {
    let members = 400;
    let sb = sandbox(
        setup,
        SandboxConfig {
            members,
            rate: 100.0,
            burst: 5,
            pipeline: quick_pipeline(),
            ..Default::default()
        },
    )
    .await;
    let broadcast = sb.start_broadcast("Big news tonight.").await.unwrap();
    eventually(
        Duration::from_secs(30),
        "the broadcast is under way",
        || async { sb.sim.report().accepted >= 50 },
    )
    .await;

    // Members late in the send order say STOP while the broadcast runs.
    let stoppers: Vec<PhoneNumber> = (members - 60..members)
        .step_by(2)
        .map(PhoneNumber::example)
        .collect();
    for (i, phone) in stoppers.iter().enumerate() {
        assert_eq!(
            sb.text(phone, "stop", &format!("SMstop{i:030}"))
                .await
                .unwrap(),
            200
        );
    }
    let counts = sb
        .wait_until_sent(broadcast, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(
        counts.cancelled > 0,
        "some sends should have been skipped: {counts:?}"
    );

    let (now_utc, now) = (chrono::Utc::now(), Instant::now());
    for phone in &stoppers {
        let member = sb
            .store
            .member_by_phone(sb.community_id, phone)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(member.status, MemberStatus::Unsubscribed);
        let stopped_at = member.unsubscribed_at.expect("unsubscribed_at recorded");
        let stopped = now - (now_utc - stopped_at).to_std().unwrap_or_default();
        for request in sb.sim.requests_to(phone.as_str()) {
            let at = sb.sim_epoch + Duration::from_secs_f64(request.at_ms / 1000.0);
            let broadcast_text = request.body.as_deref() == Some("Big news tonight.");
            assert!(
                !(broadcast_text && request.status == 201 && at > stopped + MARGIN),
                "{phone} was texted {:?} after their STOP",
                at - stopped
            );
        }
    }
    sb.stop().await;
}

crate::all_setups!(stop_mid_broadcast_stops_the_remaining_sends);
