//! Status callbacks out of order, twice, or before the send is recorded leave the right status.

use std::time::Duration;

use floodgate::domain::{MessageStatus, PhoneNumber};
use floodgate::sandbox::{AUTH_TOKEN, SandboxConfig};
use floodgate::store::NewTransactional;

use super::setup::{Setup, eventually, quick_pipeline, sandbox};

async fn post_status(base: &str, sid: &str, status: &str) -> u16 {
    let url = format!("{base}/webhooks/sim/status");
    let params = [
        ("MessageSid", sid.to_owned()),
        ("MessageStatus", status.to_owned()),
        ("AccountSid", "AC1".to_owned()),
    ];
    let hook = floodgate_sim::inbound::signed_twilio_form(
        &url,
        AUTH_TOKEN,
        &params
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<_>>(),
    );
    hook.request(&reqwest::Client::new())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn a_callback_before_the_send_is_recorded_still_lands(setup: Setup) {
    let sb = sandbox(
        setup,
        SandboxConfig {
            members: 0,
            pipeline: quick_pipeline(),
            ..Default::default()
        },
    )
    .await;
    let to = PhoneNumber::example(42);
    // The carrier's "delivered" arrives before we have recorded its message id, then a late "sent".
    assert_eq!(
        post_status(&sb.base, "SMearly000000000000000000000000001", "delivered").await,
        200
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = sb
        .store
        .insert_transactional_message(&NewTransactional {
            community_id: sb.community_id,
            member_id: None,
            to: &to,
            from: Some(&sb.number),
            carrier: "sim",
            body: "hello",
            at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    sb.store
        .record_send_result(
            id,
            Some("SMearly000000000000000000000000001"),
            MessageStatus::Sent,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        post_status(&sb.base, "SMearly000000000000000000000000001", "sent").await,
        200
    );
    eventually(
        Duration::from_secs(20),
        "the early delivered receipt is applied",
        || async {
            sb.store.message(id).await.unwrap().unwrap().status == MessageStatus::Delivered
        },
    )
    .await;
    // Out of order afterwards: a duplicate "sent" never moves it back.
    assert_eq!(
        post_status(&sb.base, "SMearly000000000000000000000000001", "sent").await,
        200
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sb.store.message(id).await.unwrap().unwrap().status,
        MessageStatus::Delivered
    );
    sb.stop().await;
}

crate::all_setups!(a_callback_before_the_send_is_recorded_still_lands);
