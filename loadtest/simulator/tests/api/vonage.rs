//! The Vonage SMS API (§3.1): HTTP 200 whatever happened, the outcome in `messages[]`.

use floodgate_sim::{Account, Carrier, Outcome, SimConfig};

use crate::helpers::{
    FROM, TO, VONAGE_KEY, VONAGE_SECRET, all_carriers, assert_vonage_status, spawn, vonage_account,
};

#[tokio::test]
async fn happy_path_has_one_entry_per_part() {
    let t = spawn(all_carriers()).await;
    let (status, body) = t.vonage(TO, "Rally at noon").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message-count"], "1");
    let entry = &body["messages"][0];
    assert_eq!(entry["status"], "0");
    assert_eq!(entry["to"], "15552223333", "digits, no +");
    let id = entry["message-id"].as_str().expect("message-id");
    assert_eq!(id.len(), 16);

    let (_, long) = t.vonage(TO, &"a".repeat(161)).await;
    assert_eq!(long["message-count"], "2");
    let ids: Vec<&str> = long["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["message-id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);

    let recorded = t.sim.requests();
    assert_eq!(recorded[0].carrier, Carrier::Vonage);
    assert_eq!(recorded[0].to, TO, "recorded as +E.164");
    assert_eq!(recorded[0].sid.as_deref(), Some(id));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn json_bodies_basic_auth_and_client_ref_work() {
    let t = spawn(all_carriers()).await;
    let response = t
        .client
        .post(format!("{}/sms/json", t.sim.base_url()))
        .basic_auth(VONAGE_KEY, Some(VONAGE_SECRET))
        .json(&serde_json::json!({
            "from": "Floodgate", "to": "15552223333", "text": "hi", "client-ref": "ref-1"
        }))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["messages"][0]["status"], "0", "{body}");
    assert_eq!(body["messages"][0]["client-ref"], "ref-1");
    assert_eq!(t.sim.requests()[0].from, "Floodgate");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn refusals_are_statuses_inside_http_200() {
    let t = spawn(SimConfig {
        opted_out: ["+15554445555".to_owned()].into(),
        ..all_carriers()
    })
    .await;
    let from = FROM.trim_start_matches('+');
    let (status, body) = t
        .vonage_form(&[
            ("api_key", VONAGE_KEY),
            ("api_secret", "wrong"),
            ("from", from),
            ("to", "15552223333"),
            ("text", "hi"),
        ])
        .await;
    assert_eq!(status, 200);
    assert_vonage_status(&body, "4");
    let (status, body) = t
        .vonage_form(&[
            ("api_key", VONAGE_KEY),
            ("api_secret", VONAGE_SECRET),
            ("from", from),
            ("to", TO),
            ("text", "hi"),
        ])
        .await;
    assert_eq!(status, 200);
    assert_vonage_status(&body, "3");
    let (_, body) = t
        .vonage_form(&[
            ("api_key", VONAGE_KEY),
            ("api_secret", VONAGE_SECRET),
            ("to", "15552223333"),
            ("text", "hi"),
        ])
        .await;
    assert_vonage_status(&body, "2");
    let (_, body) = t.vonage("+15554445555", "hi").await;
    assert_vonage_status(&body, "7");

    let report = t.sim.report();
    assert_eq!((report.accepted, report.rejected), (0, 4));
    let codes: Vec<u16> = report.rejected_by_code.keys().copied().collect();
    assert_eq!(codes, [2, 3, 4, 7]);
    assert!(t.sim.requests().iter().all(|r| r.status == 200));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn over_30_per_second_is_status_1_throttled() {
    let t = spawn(SimConfig {
        accounts: vec![Account {
            rate: 30.0,
            burst: 1.0,
            ..vonage_account()
        }],
        ..SimConfig::default()
    })
    .await;
    let mut throttled = 0;
    for i in 0..40 {
        let (status, body) = t.vonage(TO, &format!("m{i}")).await;
        assert_eq!(status, 200);
        if body["messages"][0]["status"] == "1" {
            assert_eq!(body["messages"][0]["error-text"], "Throttled");
            throttled += 1;
        }
    }
    assert!(
        throttled > 0,
        "40 back-to-back requests exceed 30/s with burst 1"
    );
    let report = t.sim.report();
    assert_eq!(report.throttled, throttled);
    assert!(
        t.sim
            .requests()
            .iter()
            .filter(|r| r.outcome == Outcome::Throttled)
            .all(|r| r.status == 200 && r.error_code == Some(1))
    );
    let account = &report.accounts[0];
    assert!(account.max_accepted_1s <= 31, "{account:?}");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn injected_failures_are_status_5() {
    let t = spawn(SimConfig {
        failure_ratio: 1.0,
        ..all_carriers()
    })
    .await;
    let (status, body) = t.vonage(TO, "hi").await;
    assert_eq!(status, 200);
    assert_vonage_status(&body, "5");
    assert_eq!(t.sim.report().failed, 1);
    t.sim.shutdown().await;
}
