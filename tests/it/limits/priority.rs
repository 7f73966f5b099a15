//! While a broadcast saturates the account, keyword replies (welcome, stop confirmation) reach
//! the carrier ahead of the broadcast's backlog: the simulator's order shows it.

use std::time::{Duration, Instant};

use floodgate::domain::PhoneNumber;
use floodgate::sandbox::SandboxConfig;

use crate::pipeline::setup::{Setup, eventually, quick_pipeline, sandbox};

const MEMBERS: u32 = 5_000;
const RATE: f64 = 200.0;
const BROADCAST: &str = "A long broadcast that saturates the account.";

async fn replies_overtake_a_saturating_broadcast(setup: Setup) {
    let sb = sandbox(
        setup,
        SandboxConfig {
            members: MEMBERS,
            rate: RATE,
            burst: 10,
            pipeline: quick_pipeline(),
            ..Default::default()
        },
    )
    .await;
    sb.start_broadcast(BROADCAST).await.unwrap();
    // Wait for a backlog: the broadcast is well under way, thousands still to go.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sb.sim.report().accepted < 600 {
        assert!(Instant::now() < deadline, "the broadcast never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Ten strangers join and five members opt out, one text each.
    let mut texted = Vec::new();
    for i in 0..15u32 {
        let (phone, word) = if i < 10 {
            (PhoneNumber::example(2_000_000 + i), "JOIN")
        } else {
            (PhoneNumber::example(MEMBERS - 1 - i), "STOP")
        };
        let at_ms = sb.sim_epoch.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(
            sb.text(&phone, word, &format!("SMprio{i:028}"))
                .await
                .unwrap(),
            200
        );
        texted.push((phone, at_ms));
    }
    eventually(
        Duration::from_secs(30),
        "every keyword reply reached the carrier",
        || async {
            texted.iter().all(|(p, _)| {
                sb.sim
                    .requests_to(p.as_str())
                    .iter()
                    .any(|r| r.body.as_deref() != Some(BROADCAST) && r.status == 201)
            })
        },
    )
    .await;

    let log = sb.sim.requests();
    let broadcast_sends: Vec<f64> = log
        .iter()
        .filter(|r| r.body.as_deref() == Some(BROADCAST) && r.status == 201)
        .map(|r| r.at_ms)
        .collect();
    let mut worst = 0;
    for (phone, texted_at) in &texted {
        let reply_at = log
            .iter()
            .find(|r| r.to == phone.as_str() && r.body.as_deref() != Some(BROADCAST))
            .map(|r| r.at_ms)
            .expect("a reply");
        let ahead = broadcast_sends
            .iter()
            .filter(|at| **at > *texted_at && **at < reply_at)
            .count();
        worst = worst.max(ahead);
        // FIFO would put the reply behind every broadcast message not yet sent at the text.
        let backlog = MEMBERS as usize
            - broadcast_sends
                .iter()
                .filter(|at| **at < *texted_at)
                .count();
        assert!(
            ahead <= backlog / 2,
            "the reply to {phone} waited behind {ahead} of the {backlog} broadcast sends queued \
             when it texted"
        );
        // The broadcast messages not yet sent when the reply went: the backlog it overtook.
        let before = broadcast_sends.iter().filter(|at| **at < reply_at).count();
        let behind = MEMBERS as usize - before;
        assert!(
            behind > 500,
            "the reply to {phone} came when only {behind} broadcast sends were left; \
             the test needs a longer broadcast"
        );
    }
    // Idle machine: about 10 (the inbound stage's work at 200/s); on a loaded one the reply
    // path (webhook, keyword transaction, enqueue) slows more than the pipelined broadcast.
    eprintln!(
        "{setup:?}: at most {worst} broadcast sends went between a keyword text and its reply"
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_embedded_replies_overtake_a_saturating_broadcast() {
    replies_overtake_a_saturating_broadcast(Setup::SqliteEmbedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rabbitmq_replies_overtake_a_saturating_broadcast() {
    let _broker = crate::support::shared_broker().await;
    replies_overtake_a_saturating_broadcast(Setup::PostgresRabbit).await;
}
