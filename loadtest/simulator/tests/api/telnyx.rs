//! The Telnyx Messaging v2 send API (§2.1): success shape, refusals and their codes.

use floodgate_sim::{Account, Carrier, Outcome, SimConfig};
use serde_json::json;

use crate::helpers::{
    FROM, TELNYX_KEY, TO, all_carriers, assert_telnyx_error, spawn, telnyx_account,
};

#[tokio::test]
async fn happy_path_returns_data_with_a_uuid() {
    let t = spawn(all_carriers()).await;
    let (status, body) = t.telnyx(TO, "Rally at noon").await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    let id = data["id"].as_str().expect("data.id");
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id.matches('-').count(), 4, "{id}");
    assert_eq!(data["record_type"], "message");
    assert_eq!(data["to"][0]["phone_number"], TO);
    assert_eq!(data["to"][0]["status"], "queued");
    assert_eq!(data["from"]["phone_number"], FROM);
    assert_eq!(data["text"], "Rally at noon");
    assert_eq!(data["parts"], 1);
    assert_eq!(data["encoding"], "GSM-7");
    assert_eq!(data["errors"], json!([]));

    let recorded = t.sim.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].carrier, Carrier::Telnyx);
    assert_eq!(recorded[0].account_sid, "telnyx-test");
    assert_eq!(recorded[0].sid.as_deref(), Some(id));
    assert_eq!(recorded[0].outcome, Outcome::Accepted);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_key_is_401_10009_and_twilio_credentials_do_not_work_here() {
    let t = spawn(all_carriers()).await;
    let body = json!({ "from": FROM, "to": TO, "text": "hi" });
    let (status, answer) = t.telnyx_as("wrong", &body).await;
    assert_eq!(status, 401);
    assert_telnyx_error(&answer, "10009");
    // The Twilio account's token is not a Telnyx key, even though the account exists.
    let (status, _) = t.telnyx_as("test-token", &body).await;
    assert_eq!(status, 401);
    let report = t.sim.report();
    assert_eq!(
        (report.rejected, report.rejected_by_code.get(&10009)),
        (2, Some(&2))
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn invalid_and_opted_out_recipients() {
    let t = spawn(SimConfig {
        opted_out: [TO.to_owned()].into(),
        ..all_carriers()
    })
    .await;
    let (status, body) = t.telnyx("15552223333", "hi").await;
    assert_eq!(status, 422);
    assert_telnyx_error(&body, "10016");
    assert_eq!(body["errors"][0]["source"]["pointer"], "/to");
    let (status, body) = t.telnyx(TO, "hi").await;
    assert_eq!(status, 409);
    assert_telnyx_error(&body, "40300");
    let (status, body) = t
        .telnyx_as(TELNYX_KEY, &json!({ "from": FROM, "to": "+15554445555" }))
        .await;
    assert_eq!(status, 422);
    assert_telnyx_error(&body, "10015");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn over_the_limit_is_429_40318() {
    let t = spawn(SimConfig {
        accounts: vec![Account {
            rate: 1.0,
            burst: 2.0,
            ..telnyx_account()
        }],
        ..SimConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let (status, body) = t.telnyx(TO, &format!("m{i}")).await;
        if status == 429 {
            assert_telnyx_error(&body, "40318");
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 429, 429, 429]);
    let account = &t.sim.report().accounts[0];
    assert_eq!(account.carrier, Carrier::Telnyx);
    assert_eq!((account.accepted, account.throttled), (2, 3));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn injected_failures_are_500_with_an_errors_body() {
    let t = spawn(SimConfig {
        failure_ratio: 1.0,
        ..all_carriers()
    })
    .await;
    let (status, body) = t.telnyx(TO, "hi").await;
    assert_eq!(status, 500);
    assert!(body["errors"][0]["code"].is_string(), "{body}");
    assert_eq!(t.sim.report().failed, 1);
    t.sim.shutdown().await;
}
