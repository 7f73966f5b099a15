//! Sends against a loopback fixture answering as Telnyx does (§2.1).

use std::time::Duration;

use axum::http::Method;
use serde_json::json;

use crate::carriers::fixture_server::{Canned, Recorded, Sample, exchange, send_refused};
use crate::carriers::outbound::{AUTH_BACKOFF, LONG_BACKOFF, OutboundSms, SendOutcome};

const SECRETS: &[(&str, &str)] = &[("api_key", "KEY0123"), ("public_key", "unused")];
const FROM: &str = "+14155550100";

async fn send(canned: Canned, sms: &OutboundSms<'_>) -> (SendOutcome, Recorded) {
    exchange("telnyx", SECRETS, canned, sms).await
}

async fn outcome(canned: Canned) -> SendOutcome {
    let sample = Sample::new("Rally at 6pm");
    send(canned, &sample.sms(FROM)).await.0
}

fn error(status: u16, code: &str) -> Canned {
    let body = json!({"errors": [{"code": code, "title": format!("title {code}"), "detail": "detail", "source": {"pointer": "/to"}}]});
    Canned::new(status, &body.to_string())
}

fn retry(
    hint: Option<Duration>,
    code: Option<&str>,
    throttled: bool,
) -> impl Fn(&SendOutcome) -> bool {
    let code = code.map(str::to_owned);
    move |o| matches!(o, SendOutcome::RetryLater { hint: h, code: c, throttled: t, .. } if *h == hint && *c == code && *t == throttled)
}

#[tokio::test]
async fn ok_is_sent_with_the_id_and_the_request_has_telnyx_shape() {
    let sample = Sample::new("Rally at 6pm 📣");
    let mut sms = sample.sms(FROM);
    sms.status_callback = Some("https://fg.example/webhooks/telnyx/status?x=1");
    sms.reference = Some("msg 42&co");
    let body = r#"{"data":{"id":"40385f64-5717-4562-b3fc-2c963f66afa6","to":[{"phone_number":"+14155550123","status":"queued"}],"parts":1}}"#;
    let (outcome, request) = send(Canned::new(200, body), &sms).await;
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: "40385f64-5717-4562-b3fc-2c963f66afa6".into()
        }
    );
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.uri, "/v2/messages");
    assert_eq!(request.header("authorization"), Some("Bearer KEY0123"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        json!({
            "from": FROM,
            "to": "+14155550123",
            "text": "Rally at 6pm 📣",
            "webhook_url": "https://fg.example/webhooks/telnyx/status?x=1&ref=msg+42%26co",
        })
    );
}

#[tokio::test]
async fn no_callback_means_no_webhook_url_and_any_2xx_is_sent() {
    let sample = Sample::new("hi");
    let mut sms = sample.sms(FROM);
    sms.reference = Some("m1");
    let (outcome, request) = send(Canned::new(202, r#"{"data":{"id":"abc"}}"#), &sms).await;
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: "abc".into()
        }
    );
    assert_eq!(request.json().get("webhook_url"), None);
}

#[tokio::test]
async fn rate_limit_is_throttled_with_the_reset_or_retry_after() {
    let o = outcome(error(429, "10011").header("x-ratelimit-reset", "3")).await;
    assert!(
        retry(Some(Duration::from_secs(3)), Some("10011"), true)(&o),
        "{o:?}"
    );
    let both = error(429, "10011")
        .header("x-ratelimit-reset", "3")
        .header("retry-after", "1");
    let o = outcome(both).await;
    assert!(
        retry(Some(Duration::from_secs(1)), Some("10011"), true)(&o),
        "{o:?}"
    );
    let o = outcome(error(429, "10011")).await;
    assert!(retry(None, Some("10011"), true)(&o), "{o:?}");
}

#[tokio::test]
async fn a_full_queue_is_throttled_long_unless_told() {
    let o = outcome(error(429, "40318")).await;
    assert!(retry(Some(LONG_BACKOFF), Some("40318"), true)(&o), "{o:?}");
    let o = outcome(error(429, "40318").header("retry-after", "30")).await;
    assert!(
        retry(Some(Duration::from_secs(30)), Some("40318"), true)(&o),
        "{o:?}"
    );
}

#[tokio::test]
async fn a_stop_block_is_opted_out() {
    assert_eq!(
        outcome(error(409, "40300")).await,
        SendOutcome::OptedOut {
            code: "40300".into()
        }
    );
}

#[tokio::test]
async fn invalid_numbers_and_destinations_fail_with_the_code() {
    for code in ["10016", "40001", "40008", "40012"] {
        match outcome(error(422, code)).await {
            SendOutcome::Failed { code: c, reason } => {
                assert_eq!(c, code);
                assert!(
                    reason.contains(&format!("title {code}: detail")),
                    "{reason}"
                );
            }
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn server_errors_and_carrier_outages_retry() {
    let o = outcome(Canned::new(502, "bad gateway")).await;
    assert!(retry(None, None, false)(&o), "{o:?}");
    let o = outcome(error(503, "40006")).await;
    assert!(retry(None, Some("40006"), false)(&o), "{o:?}");
}

#[tokio::test]
async fn bad_credentials_wait_a_minute() {
    let o = outcome(error(401, "10009")).await;
    assert!(retry(Some(AUTH_BACKOFF), Some("10009"), true)(&o), "{o:?}");
    let o = outcome(Canned::new(401, "")).await;
    assert!(retry(Some(AUTH_BACKOFF), None, true)(&o), "{o:?}");
}

#[tokio::test]
async fn a_wrong_api_base_waits_instead_of_failing() {
    for status in [403, 404, 405] {
        let o = outcome(Canned::new(status, "Not Found")).await;
        assert!(retry(Some(AUTH_BACKOFF), None, true)(&o), "{status}: {o:?}");
    }
}

#[tokio::test]
async fn garbage_never_panics() {
    let o = outcome(Canned::new(400, r#"{"errors":"nope"}"#)).await;
    assert!(
        matches!(&o, SendOutcome::Failed { code, .. } if code == "http-400"),
        "{o:?}"
    );
    let o = outcome(Canned::new(400, r#"{"errors":[{"code":40001}]}"#)).await;
    assert!(
        matches!(&o, SendOutcome::Failed { code, .. } if code == "40001"),
        "{o:?}"
    );
    let o = outcome(Canned::new(200, r#"{"data":null}"#)).await;
    assert!(
        matches!(&o, SendOutcome::Failed { code, .. } if code == "unreadable-response"),
        "{o:?}"
    );
    let o = outcome(Canned::new(200, &"x".repeat(200_000))).await;
    assert!(matches!(o, SendOutcome::Failed { .. }), "{o:?}");
}

#[tokio::test]
async fn a_slow_carrier_times_out_into_retry() {
    let o =
        outcome(Canned::new(200, r#"{"data":{"id":"a"}}"#).delayed(Duration::from_secs(3))).await;
    assert!(
        matches!(&o, SendOutcome::RetryLater { throttled: false, reason, .. } if reason.contains("timed out")),
        "{o:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retry() {
    let sample = Sample::new("hi");
    let o = send_refused("telnyx", SECRETS, &sample.sms(FROM)).await;
    assert!(
        matches!(&o, SendOutcome::RetryLater { throttled: false, reason, .. } if reason.contains("could not connect")),
        "{o:?}"
    );
}
