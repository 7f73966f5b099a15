//! Every accepted webhook and every accepted broadcast recipient reaches a final state.

use std::time::Duration;

use floodgate::domain::{MemberStatus, PhoneNumber};
use floodgate::sandbox::SandboxConfig;
use floodgate::store::BroadcastStatus;

use super::setup::{Setup, eventually, quick_pipeline, sandbox};

async fn every_recipient_and_every_webhook_reaches_its_end(setup: Setup) {
    let sb = sandbox(
        setup,
        SandboxConfig {
            members: 300,
            rate: 2000.0,
            burst: 50,
            pipeline: quick_pipeline(),
            ..Default::default()
        },
    )
    .await;
    let broadcast = sb.start_broadcast("Counts must add up.").await.unwrap();
    let joins: Vec<PhoneNumber> = (0..20)
        .map(|i| PhoneNumber::example(1_000_000 + i))
        .collect();
    for (i, phone) in joins.iter().enumerate() {
        assert_eq!(
            sb.text(phone, "JOIN", &format!("SMjoin{i:030}"))
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
        counts.total() >= 300,
        "every member got a message row: {counts:?}"
    );
    assert_eq!(counts.failed + counts.undelivered, 0, "{counts:?}");

    eventually(
        Duration::from_secs(30),
        "every delivery receipt is applied",
        || async { sb.store.message_counts(broadcast).await.unwrap().sent == 0 },
    )
    .await;
    let counts = sb.store.message_counts(broadcast).await.unwrap();
    assert_eq!(
        counts.delivered,
        counts.total(),
        "all delivered: {counts:?}"
    );

    for phone in &joins {
        let member = sb
            .store
            .member_by_phone(sb.community_id, phone)
            .await
            .unwrap()
            .expect("joined");
        assert_eq!(member.status, MemberStatus::Subscribed);
    }
    eventually(
        Duration::from_secs(30),
        "every welcome reply reached the carrier",
        || async {
            joins.iter().all(|p| {
                sb.sim
                    .requests_to(p.as_str())
                    .iter()
                    .any(|r| r.status == 201)
            })
        },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "the broadcast is completed",
        || async {
            let b = sb
                .store
                .broadcast(sb.community_id, broadcast)
                .await
                .unwrap();
            b.is_some_and(|b| b.status == BroadcastStatus::Completed && b.completed_at.is_some())
        },
    )
    .await;
    let report = sb.sim.report();
    assert_eq!(
        report.duplicates, 0,
        "the carrier saw duplicates: {report:?}"
    );
    assert_eq!(
        report.accepted,
        counts.total() as u64 + joins.len() as u64,
        "one request per message"
    );
    sb.stop().await;
}

crate::all_setups!(every_recipient_and_every_webhook_reaches_its_end);
