//! The `/sim/*` control plane and the report it serves.

use floodgate_sim::Report;
use serde_json::json;

use crate::helpers::{TO, spawn};
use floodgate_sim::SimConfig;

/// With `X-Floodgate-Message-Id`, a duplicate is one message accepted twice: two equal texts
/// to one member (two STOP confirmations) are not, a resend of one message id is.
#[tokio::test]
async fn message_ids_decide_duplicates_when_the_client_sends_them() {
    let t = spawn(SimConfig::default()).await;
    let url = t.messages_url(crate::helpers::SID);
    let send = |id: &'static str| {
        t.client
            .post(&url)
            .basic_auth(crate::helpers::SID, Some(crate::helpers::TOKEN))
            .header("X-Floodgate-Message-Id", id)
            .form(&[
                ("To", TO),
                ("From", crate::helpers::FROM),
                ("Body", "You are unsubscribed."),
            ])
            .send()
    };
    for id in ["m-1", "m-2", "m-1"] {
        assert_eq!(send(id).await.expect("answers").status(), 201);
    }
    let report = t.sim.report();
    assert_eq!(report.accepted, 3);
    assert_eq!(report.duplicates, 1, "only the resend of m-1");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn the_report_counts_duplicates_and_recipients() {
    let t = spawn(SimConfig::default()).await;
    for _ in 0..3 {
        assert_eq!(t.sms(TO, "Rally at noon").await.0, 201);
    }
    assert_eq!(t.sms(TO, "Rally moved to 1pm").await.0, 201);
    assert_eq!(t.sms("+15554445555", "Rally at noon").await.0, 201);
    assert_eq!(t.sms("bad", "Rally at noon").await.0, 400);

    let report: Report = t
        .client
        .get(format!("{}/sim/report", t.sim.base_url()))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a report");
    assert_eq!(report.total_requests, 6);
    assert_eq!(report.accepted, 5);
    assert_eq!(report.rejected, 1);
    assert_eq!(report.duplicates, 2, "the 2nd and 3rd identical send to TO");
    assert_eq!(report.distinct_recipients, 2);
    assert_eq!(report.rejected_by_code.get(&21211), Some(&1));
    assert!(report.first_request_ms <= report.last_request_ms);
    assert!(report.record_bytes_per_request > 0.0);
    assert_eq!(report.total_requests, t.sim.report().total_requests);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn requests_can_be_filtered_and_reset() {
    let t = spawn(SimConfig::default()).await;
    t.sms(TO, "one").await;
    t.sms("+15554445555", "two").await;
    let base = t.sim.base_url();
    let to_one: Vec<floodgate_sim::RecordedRequest> = t
        .client
        .get(format!("{base}/sim/requests"))
        .query(&[("to", TO)])
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a list");
    assert_eq!(to_one.len(), 1);
    assert_eq!(to_one[0].body.as_deref(), Some("one"));
    assert_eq!(t.sim.requests_to("+15554445555").len(), 1);

    let reset = t
        .client
        .post(format!("{base}/sim/reset"))
        .send()
        .await
        .expect("answers");
    assert_eq!(reset.status().as_u16(), 204);
    assert!(t.sim.requests().is_empty());
    assert_eq!(t.sim.report().total_requests, 0);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn limits_change_at_runtime() {
    let t = spawn(SimConfig::default()).await;
    let url = format!("{}/sim/config", t.sim.base_url());
    let put = |body: serde_json::Value| t.client.put(&url).json(&body).send();

    let ok = put(json!({ "rate": 1.0, "burst": 1.0 }))
        .await
        .expect("answers");
    assert_eq!(ok.status().as_u16(), 204);
    assert_eq!(t.sms(TO, "a").await.0, 201);
    assert_eq!(t.sms(TO, "b").await.0, 429);

    let bad = put(json!({ "failure_ratio": 2.0 })).await.expect("answers");
    assert_eq!(bad.status().as_u16(), 400);
    let unknown = put(json!({ "rate": 1.0, "account_sid": "ACnope" }))
        .await
        .expect("answers");
    assert_eq!(unknown.status().as_u16(), 400);

    let ok = put(json!({ "rate": 0.0 })).await.expect("answers");
    assert_eq!(ok.status().as_u16(), 204);
    assert_eq!(t.sms(TO, "c").await.0, 201, "rate 0 is unlimited");
    t.sim.shutdown().await;
}
