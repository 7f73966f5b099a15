//! Status callbacks out of order, twice, or before the send is recorded leave the right status.

use std::time::Duration;

use floodgate::domain::{MessageStatus, PhoneNumber};
use floodgate::sandbox::{AUTH_TOKEN, SandboxConfig};
use floodgate::store::NewTransactional;

use super::setup::{Setup, eventually, quick_pipeline, sandbox};

async fn post_status(base: &str, sid: &str, status: &str) -> u16 {
    post_status_with_code(base, sid, status, None).await
}

/// A Twilio-style status callback, with `ErrorCode` when given.
async fn post_status_with_code(base: &str, sid: &str, status: &str, code: Option<&str>) -> u16 {
    let url = format!("{base}/webhooks/sim/status");
    let mut params = vec![
        ("MessageSid", sid.to_owned()),
        ("MessageStatus", status.to_owned()),
        ("AccountSid", "AC1".to_owned()),
    ];
    if let Some(code) = code {
        params.push(("ErrorCode", code.to_owned()));
    }
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

/// The carrier gives up on one message for a passing reason (30003: handset unreachable for
/// now) and on another for good (30005: unknown handset): only the first is sent again.
async fn a_passing_failure_is_sent_again_and_a_final_one_is_not(setup: Setup) {
    let sb = sandbox(
        setup,
        SandboxConfig {
            members: 3,
            // The simulator's own callbacks come long after ours, so they cannot decide first.
            callback_delay: Duration::from_secs(60),
            pipeline: quick_pipeline(),
            ..Default::default()
        },
    )
    .await;
    let broadcast = sb.start_broadcast("Once more if need be.").await.unwrap();
    sb.wait_until_sent(broadcast, Duration::from_secs(30))
        .await
        .unwrap();
    let messages = sb
        .store
        .broadcast_messages(broadcast, None, None, 10)
        .await
        .unwrap();
    let (passing, lost) = (&messages[0], &messages[1]);
    let sid = |m: &floodgate::store::Message| m.provider_message_id.clone().expect("sent");
    let (passing_sid, lost_sid) = (sid(passing), sid(lost));
    let sends_to = |to: &PhoneNumber| {
        sb.sim
            .requests()
            .iter()
            .filter(|r| r.to == to.as_str() && r.status < 300)
            .count()
    };
    assert_eq!((sends_to(&passing.to), sends_to(&lost.to)), (1, 1));

    let code = |c| Some(c);
    assert_eq!(
        post_status_with_code(&sb.base, &passing_sid, "undelivered", code("30003")).await,
        200
    );
    assert_eq!(
        post_status_with_code(&sb.base, &lost_sid, "undelivered", code("30005")).await,
        200
    );
    eventually(
        Duration::from_secs(30),
        "the message that failed for a passing reason is sent again",
        || async { sends_to(&passing.to) == 2 },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "the second attempt is recorded under its own provider id",
        || async {
            let m = sb.store.message(passing.id).await.unwrap().unwrap();
            m.status == MessageStatus::Sent
                && m.attempts == 2
                && m.provider_message_id.is_some_and(|p| p != passing_sid)
        },
    )
    .await;
    // A late report about the first attempt no longer touches the message.
    assert_eq!(
        post_status_with_code(&sb.base, &passing_sid, "undelivered", code("30003")).await,
        200
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = sb.store.message(passing.id).await.unwrap().unwrap();
    assert_eq!((again.status, again.attempts), (MessageStatus::Sent, 2));
    let lost_now = sb.store.message(lost.id).await.unwrap().unwrap();
    assert_eq!(
        (
            lost_now.status,
            lost_now.attempts,
            lost_now.last_error_code.as_deref()
        ),
        (MessageStatus::Undelivered, 1, Some("30005"))
    );
    assert_eq!(sends_to(&lost.to), 1, "a final failure is not sent again");
    assert_eq!(sends_to(&passing.to), 2, "sent again exactly once");
    sb.stop().await;
}

crate::all_setups!(
    a_callback_before_the_send_is_recorded_still_lands,
    a_passing_failure_is_sent_again_and_a_final_one_is_not
);
