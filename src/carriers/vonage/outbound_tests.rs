//! Sends against a loopback fixture answering as Vonage's SMS API does (§3.1).

use std::time::Duration;

use axum::http::Method;
use serde_json::json;

use super::THROTTLE_BACKOFF;
use crate::carriers::fixture_server::{Canned, Recorded, Sample, exchange, send_refused};
use crate::carriers::outbound::{AUTH_BACKOFF, LONG_BACKOFF, OutboundSms, SendOutcome};

const SECRETS: &[(&str, &str)] = &[("api_key", "abc123"), ("api_secret", "s3cret")];
const FROM: &str = "+14155550100";

async fn send(canned: Canned, sms: &OutboundSms<'_>) -> (SendOutcome, Recorded) {
    exchange("vonage", SECRETS, canned, sms).await
}

async fn outcome(canned: Canned) -> SendOutcome {
    let sample = Sample::new("Rally at 6pm");
    send(canned, &sample.sms(FROM)).await.0
}

fn ok_part(id: &str) -> serde_json::Value {
    json!({"to": "14155550123", "message-id": id, "status": "0", "remaining-balance": "3.14", "message-price": "0.0333", "network": "310260"})
}

fn answer(parts: &[serde_json::Value]) -> Canned {
    let body = json!({"message-count": parts.len().to_string(), "messages": parts});
    Canned::new(200, &body.to_string())
}

/// Status `n` in an HTTP 200, as Vonage reports every failure.
fn status(n: u32) -> Canned {
    answer(&[json!({"status": n.to_string(), "error-text": format!("text {n}")})])
}

fn retry(hint: Option<Duration>, n: u32, throttled: bool) -> impl Fn(&SendOutcome) -> bool {
    let code = Some(format!("vonage-{n}"));
    move |o| matches!(o, SendOutcome::RetryLater { hint: h, code: c, throttled: t, .. } if *h == hint && *c == code && *t == throttled)
}

#[tokio::test]
async fn accepted_is_sent_and_the_form_has_vonage_shape() {
    let sample = Sample::new("Rally at 6pm");
    let mut sms = sample.sms(FROM);
    sms.status_callback = Some("https://fg.example/webhooks/vonage/status");
    sms.reference = Some("0190f0c2-7b1e-7cc4-9f55-0123456789ab-and-more");
    let (outcome, request) = send(answer(&[ok_part("0A0000000123ABCD1")]), &sms).await;
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: "0A0000000123ABCD1".into()
        }
    );
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.uri, "/sms/json");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.header("authorization"), None);
    let form = request.form();
    assert_eq!(form["api_key"], "abc123");
    assert_eq!(form["api_secret"], "s3cret");
    assert_eq!(form["to"], "14155550123");
    assert_eq!(form["from"], "14155550100");
    assert_eq!(form["text"], "Rally at 6pm");
    assert_eq!(form["type"], "text");
    assert_eq!(
        form["client-ref"],
        "0190f0c2-7b1e-7cc4-9f55-0123456789ab-and"
    );
    assert_eq!(
        form["callback"],
        "https://fg.example/webhooks/vonage/status"
    );
}

#[tokio::test]
async fn ucs2_is_unicode_and_alphanumeric_senders_are_kept() {
    let sample = Sample::new("Kundgebung um 18 Uhr ✊");
    let (_, request) = send(answer(&[ok_part("1")]), &sample.sms("Floodgate")).await;
    let form = request.form();
    assert_eq!(
        (form["type"].as_str(), form["from"].as_str()),
        ("unicode", "Floodgate")
    );
    assert_eq!(form["text"], "Kundgebung um 18 Uhr ✊");
    assert!(!form.contains_key("client-ref") && !form.contains_key("callback"));
}

#[tokio::test]
async fn a_long_message_is_sent_when_every_part_is() {
    let o = outcome(answer(&[ok_part("P1"), ok_part("P2"), ok_part("P3")])).await;
    assert_eq!(
        o,
        SendOutcome::Sent {
            provider_message_id: "P1".into()
        }
    );
}

#[tokio::test]
async fn a_partly_accepted_message_fails_rather_than_resend_parts() {
    let refused = json!({"status": "1", "error-text": "Throttled"});
    match outcome(answer(&[ok_part("P1"), refused])).await {
        SendOutcome::Failed { code, reason } => {
            assert_eq!(code, "vonage-1");
            assert!(reason.starts_with("1 of 2 parts accepted"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn throttled_slows_the_lane_for_a_second() {
    for n in [1, 10] {
        let o = outcome(status(n)).await;
        assert!(retry(Some(THROTTLE_BACKOFF), n, true)(&o), "{n}: {o:?}");
    }
}

#[tokio::test]
async fn internal_error_retries() {
    let o = outcome(status(5)).await;
    assert!(retry(None, 5, false)(&o), "{o:?}");
}

#[tokio::test]
async fn credentials_and_our_settings_wait_a_minute() {
    for n in [4, 14, 23, 32] {
        let o = outcome(status(n)).await;
        assert!(retry(Some(AUTH_BACKOFF), n, true)(&o), "{n}: {o:?}");
    }
}

#[tokio::test]
async fn account_problems_back_off_long() {
    for n in [8, 9, 11] {
        let o = outcome(status(n)).await;
        assert!(retry(Some(LONG_BACKOFF), n, true)(&o), "{n}: {o:?}");
    }
}

#[tokio::test]
async fn bad_messages_and_numbers_fail_with_the_code() {
    for n in [2, 3, 6, 7, 12, 15, 22, 29, 33, 99] {
        match outcome(status(n)).await {
            SendOutcome::Failed { code, reason } => {
                assert_eq!(code, format!("vonage-{n}"));
                assert_eq!(reason, format!("status {n}: text {n}"));
            }
            other => panic!("{n}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_wrong_api_base_waits_instead_of_failing() {
    for status in [403, 404, 405] {
        let o = outcome(Canned::new(status, "Not Found")).await;
        assert!(
            matches!(o, SendOutcome::RetryLater { throttled: true, hint: Some(h), code: None, .. } if h == AUTH_BACKOFF),
            "{status}: {o:?}"
        );
    }
}

#[tokio::test]
async fn http_errors_go_by_status() {
    let o = outcome(Canned::new(429, "slow down").header("retry-after", "4")).await;
    let hint = Some(Duration::from_secs(4));
    assert!(
        matches!(o, SendOutcome::RetryLater { throttled: true, hint: h, .. } if h == hint),
        "{o:?}"
    );
    let o = outcome(Canned::new(500, "oops")).await;
    assert!(
        matches!(
            o,
            SendOutcome::RetryLater {
                throttled: false,
                hint: None,
                ..
            }
        ),
        "{o:?}"
    );
}

#[tokio::test]
async fn garbage_never_panics() {
    for body in [
        "",
        "<html>",
        r#"{"messages":[]}"#,
        r#"{"messages":{"status":"0"}}"#,
        r#"{"messages":[{"status":"0"}]}"#,
    ] {
        let o = outcome(Canned::new(200, body)).await;
        assert!(
            matches!(&o, SendOutcome::Failed { code, .. } if code == "unreadable-response"),
            "{body}: {o:?}"
        );
    }
    let o = outcome(answer(&[json!({"status": 1})])).await;
    assert!(
        retry(Some(THROTTLE_BACKOFF), 1, true)(&o),
        "numeric status: {o:?}"
    );
    let o = outcome(answer(&[json!({"status": null})])).await;
    assert!(
        matches!(&o, SendOutcome::Failed { code, .. } if code == "vonage-missing"),
        "{o:?}"
    );
}

#[tokio::test]
async fn a_slow_carrier_times_out_into_retry() {
    let o = outcome(answer(&[ok_part("P1")]).delayed(Duration::from_secs(3))).await;
    assert!(
        matches!(&o, SendOutcome::RetryLater { throttled: false, reason, .. } if reason.contains("timed out")),
        "{o:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retry() {
    let sample = Sample::new("hi");
    let o = send_refused("vonage", SECRETS, &sample.sms(FROM)).await;
    assert!(
        matches!(&o, SendOutcome::RetryLater { throttled: false, reason, .. } if reason.contains("could not connect")),
        "{o:?}"
    );
}
