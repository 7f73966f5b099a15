//! A poison work item ends in the dead-letter queue while the rest keeps flowing.

use std::time::Duration;

use bytes::Bytes;
use floodgate::bus::{Lane, QueueName};
use floodgate::sandbox::SandboxConfig;

use super::setup::{Setup, eventually, quick_pipeline, sandbox};

async fn dead_letter_count(sb: &floodgate::sandbox::Sandbox, setup: Setup) -> u64 {
    match setup {
        Setup::PostgresRabbit => {
            sb.ingest
                .bus()
                .depth(&QueueName::dead_letter())
                .await
                .unwrap()
                .messages
        }
        _ => sb.store.dead_letter_count(None).await.unwrap() as u64,
    }
}

async fn a_poison_item_is_dead_lettered_while_the_broadcast_completes(setup: Setup) {
    let sb = sandbox(
        setup,
        SandboxConfig {
            members: 200,
            rate: 2000.0,
            burst: 50,
            pipeline: quick_pipeline(),
            ..Default::default()
        },
    )
    .await;
    // Bytes that no stage can decode, on the lane the broadcast uses and on the inbound queue.
    let poison = Bytes::from_static(b"\xff\xff\xff not a protobuf command");
    sb.ingest
        .bus()
        .publish(
            &QueueName::deliver("sim", Lane::Broadcast),
            std::slice::from_ref(&poison),
        )
        .await
        .unwrap();
    sb.ingest
        .bus()
        .publish(&QueueName::inbound(), &[poison])
        .await
        .unwrap();

    let broadcast = sb
        .start_broadcast("Flowing past the poison.")
        .await
        .unwrap();
    let counts = sb
        .wait_until_sent(broadcast, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(counts.total(), 200, "{counts:?}");
    eventually(
        Duration::from_secs(20),
        "both poison items are dead-lettered",
        || async { dead_letter_count(&sb, setup).await == 2 },
    )
    .await;
    sb.stop().await;
}

crate::all_setups!(a_poison_item_is_dead_lettered_while_the_broadcast_completes);
