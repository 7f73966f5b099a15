//! The priority section: requests to marked numbers, and how many others went first.

use std::time::Duration;

use floodgate_sim::{Report, SimConfig};
use serde_json::json;

use crate::helpers::spawn;

#[tokio::test]
async fn others_between_counts_non_priority_sends_after_the_mark() {
    let t = spawn(SimConfig::default()).await;
    for n in 0..3 {
        assert_eq!(t.sms(&format!("+1555000010{n}"), "news").await.0, 201);
    }
    // Marked over HTTP, in the +E.164 form and the digits-only form.
    let marked: serde_json::Value = t
        .client
        .post(format!("{}/sim/priority", t.sim.base_url()))
        .json(&json!({ "numbers": ["+15550000900", "15550000901", "not a number"] }))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(marked, json!({ "marked": 2, "invalid": ["not a number"] }));
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(t.sms("+15550000103", "news").await.0, 201);
    assert_eq!(t.sms("+15550000104", "news").await.0, 201);
    assert_eq!(t.sms("+15550000900", "urgent").await.0, 201);
    assert_eq!(t.sms("+15550000901", "urgent").await.0, 201);
    // Marked through the handle and sent at once: nobody in between.
    assert!(t.sim.mark_priority(&["+15550000902"]).is_empty());
    assert_eq!(t.sms("+15550000902", "urgent").await.0, 201);
    // A refused send to a marked number is not a priority send.
    assert_eq!(t.sms("+15550000900", "").await.0, 400);

    let report: Report = t
        .client
        .get(format!("{}/sim/report", t.sim.base_url()))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a report");
    let p = &report.priority;
    assert_eq!((p.marked, p.sent_to, p.requests), (3, 3, 3));
    let between: Vec<u64> = p.details.iter().map(|d| d.others_between).collect();
    assert_eq!(between, [2, 2, 0]);
    assert_eq!((p.others_between.max, p.others_between.p50), (2.0, 2.0));
    assert!(p.details[0].latency_ms >= 20.0, "{:?}", p.details[0]);
    assert!(p.latency_ms.max >= p.latency_ms.p50);
    assert_eq!(p.details[0].to, "+15550000900");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn reset_forgets_the_marks() {
    let t = spawn(SimConfig::default()).await;
    t.sim.mark_priority(&["+15550000900"]);
    t.sim.reset();
    assert_eq!(t.sms("+15550000900", "urgent").await.0, 201);
    assert_eq!(t.sim.report().priority.marked, 0);
    assert_eq!(t.sim.report().priority.requests, 0);
    t.sim.shutdown().await;
}
