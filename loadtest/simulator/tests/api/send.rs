//! The Twilio send API: shapes of success and of each rejection.

use std::time::{Duration, Instant};

use floodgate_sim::{Latency, SimConfig};

use crate::helpers::{FROM, SID, TO, TOKEN, assert_twilio_error, spawn};

#[tokio::test]
async fn happy_path_returns_a_queued_twilio_message() {
    let t = spawn(SimConfig::default()).await;
    let (status, body) = t.sms(TO, "Rally at noon").await;
    assert_eq!(status, 201, "{body}");
    let sid = body["sid"].as_str().expect("sid");
    assert!(sid.len() == 34 && sid.starts_with("SM"), "{sid}");
    assert!(sid[2..].chars().all(|c| c.is_ascii_hexdigit()), "{sid}");
    assert_eq!(body["status"], "queued");
    assert_eq!(body["to"], TO);
    assert_eq!(body["from"], FROM);
    assert_eq!(body["body"], "Rally at noon");
    assert_eq!(body["num_segments"], "1");
    assert_eq!(body["account_sid"], SID);
    assert!(body["error_code"].is_null() && body["price"].is_null());
    assert!(
        body["date_created"]
            .as_str()
            .is_some_and(|d| d.ends_with("+0000")),
        "{body}"
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn segments_follow_the_encoding() {
    let t = spawn(SimConfig::default()).await;
    let (_, gsm) = t.sms(TO, &"a".repeat(161)).await;
    assert_eq!(gsm["num_segments"], "2");
    let (_, ucs2) = t.sms(TO, &"ç".repeat(71)).await;
    assert_eq!(ucs2["num_segments"], "2");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn wrong_credentials_are_401_20003() {
    let t = spawn(SimConfig::default()).await;
    let form = [("To", TO), ("From", FROM), ("Body", "hi")];
    let (status, body) = t.send_as(SID, "wrong", &form).await;
    assert_eq!(status, 401);
    assert_twilio_error(&body, 401, 20003);
    let other = "AC11111111111111111111111111111111";
    let (status, _) = t.send_as(other, TOKEN, &form).await;
    assert_eq!(status, 401, "an unknown account is refused too");
    let unauthenticated = t
        .client
        .post(t.messages_url(SID))
        .form(&form)
        .send()
        .await
        .expect("answers");
    assert_eq!(unauthenticated.status().as_u16(), 401);
    assert_eq!(t.sim.report().rejected_by_code.get(&20003), Some(&3));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn invalid_or_missing_to_is_400_21211() {
    let t = spawn(SimConfig::default()).await;
    for to in ["12345", "+0123456", "+1 555 222 3333", "+1234567890123456"] {
        let (status, body) = t.sms(to, "hi").await;
        assert_eq!(status, 400, "{to}");
        assert_twilio_error(&body, 400, 21211);
    }
    let (status, body) = t.send(&[("From", FROM), ("Body", "hi")]).await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 21211);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn missing_from_or_body_is_rejected() {
    let t = spawn(SimConfig::default()).await;
    let (status, body) = t.send(&[("To", TO), ("Body", "hi")]).await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 21603);
    let (status, body) = t.send(&[("To", TO), ("From", FROM)]).await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 21602);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn opted_out_recipients_are_400_21610() {
    let config = SimConfig {
        opted_out: [TO.to_owned()].into(),
        ..SimConfig::default()
    };
    let t = spawn(config).await;
    let (status, body) = t.sms(TO, "hi").await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 21610);

    t.sim.set_optouts(["+15559990000"]);
    assert_eq!(t.sms(TO, "hi").await.0, 201, "set_optouts replaces the set");
    assert_eq!(t.sms("+15559990000", "hi").await.0, 400);

    let added = t
        .client
        .post(format!("{}/sim/optouts", t.sim.base_url()))
        .json(&["+15558887777"])
        .send()
        .await
        .expect("answers");
    assert_eq!(added.status().as_u16(), 200);
    let (status, body) = t.sms("+15558887777", "hi").await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 21610);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn injected_failures_are_500_and_reproducible_from_the_seed() {
    let config = || SimConfig {
        failure_ratio: 0.5,
        seed: 42,
        ..SimConfig::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let t = spawn(config()).await;
        let mut statuses = Vec::new();
        for i in 0..20 {
            let (status, body) = t.sms(TO, &format!("message {i}")).await;
            if status == 500 {
                assert_twilio_error(&body, 500, 20500);
            }
            statuses.push(status);
        }
        assert_eq!(
            t.sim.report().failed,
            statuses.iter().filter(|s| **s == 500).count() as u64
        );
        runs.push(statuses);
        t.sim.shutdown().await;
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&500) && runs[0].contains(&201),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let latency = Duration::from_millis(150);
    let t = spawn(SimConfig {
        latency: Latency::Fixed(latency),
        ..SimConfig::default()
    })
    .await;
    let started = Instant::now();
    assert_eq!(t.sms(TO, "hi").await.0, 201);
    assert!(started.elapsed() >= latency);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn the_client_message_id_is_recorded() {
    let t = spawn(SimConfig::default()).await;
    let response = t
        .client
        .post(t.messages_url(SID))
        .basic_auth(SID, Some(TOKEN))
        .header("X-Floodgate-Message-Id", "msg-42")
        .form(&[("To", TO), ("From", FROM), ("Body", "hi")])
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 201);
    let recorded = t.sim.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].client_message_id.as_deref(), Some("msg-42"));
    assert_eq!(recorded[0].status, 201);
    assert_eq!(recorded[0].body.as_deref(), Some("hi"));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn a_messaging_service_replaces_from() {
    let t = spawn(SimConfig::default()).await;
    let (status, body) = t
        .send(&[
            ("To", TO),
            ("MessagingServiceSid", "MG0011"),
            ("Body", "hi"),
        ])
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "accepted");
    assert_eq!(body["messaging_service_sid"], "MG0011");
    assert!(body["from"].is_null());
    assert_eq!(
        t.sim.requests()[0].from,
        "MG0011",
        "the service is the sender"
    );
    t.sim.shutdown().await;
}
