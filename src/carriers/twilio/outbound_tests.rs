//! Sends against a loopback fixture answering as Twilio does (§1.1).

use std::time::Duration;

use axum::http::Method;

use crate::carriers::fixture_server::{Canned, Recorded, Sample, exchange, send_refused};
use crate::carriers::outbound::{AUTH_BACKOFF, LONG_BACKOFF, OutboundSms, SendOutcome};

const SECRETS: &[(&str, &str)] = &[("account_sid", "AC123"), ("auth_token", "tok3n")];
const FROM: &str = "+14155550100";

async fn send(canned: Canned, sms: &OutboundSms<'_>) -> (SendOutcome, Recorded) {
    exchange("twilio", SECRETS, canned, sms).await
}

async fn outcome(canned: Canned) -> SendOutcome {
    let sample = Sample::new("Rally at 6pm");
    send(canned, &sample.sms(FROM)).await.0
}

fn error(status: u16, code: u32) -> Canned {
    let body = format!(
        r#"{{"code":{code},"message":"error {code}","more_info":"https://www.twilio.com/docs/errors/{code}","status":{status}}}"#
    );
    Canned::new(status, &body)
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
async fn created_is_sent_with_the_sid_and_the_request_has_twilio_shape() {
    let sample = Sample::new("Rally at 6pm & bring friends");
    let mut sms = sample.sms(FROM);
    sms.status_callback = Some("https://fg.example/webhooks/twilio/status");
    let body = r#"{"sid":"SM0123","status":"queued","num_segments":"1","error_code":null}"#;
    let (outcome, request) = send(Canned::new(201, body), &sms).await;
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: "SM0123".into()
        }
    );
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.uri, "/2010-04-01/Accounts/AC123/Messages.json");
    // base64("AC123:tok3n")
    assert_eq!(
        request.header("authorization"),
        Some("Basic QUMxMjM6dG9rM24=")
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = request.form();
    assert_eq!(form["To"], "+14155550123");
    assert_eq!(form["From"], FROM);
    assert_eq!(form["Body"], "Rally at 6pm & bring friends");
    assert_eq!(
        form["StatusCallback"],
        "https://fg.example/webhooks/twilio/status"
    );
    assert!(!form.contains_key("MessagingServiceSid"));
}

#[tokio::test]
async fn a_messaging_service_sid_replaces_from_and_no_callback_means_no_field() {
    let sample = Sample::new("hi");
    let body = r#"{"sid":"SM9","status":"accepted"}"#;
    let (_, request) = send(Canned::new(201, body), &sample.sms("MG0011")).await;
    let form = request.form();
    assert_eq!(form["MessagingServiceSid"], "MG0011");
    assert!(!form.contains_key("From") && !form.contains_key("StatusCallback"));
}

#[tokio::test]
async fn concurrency_limit_is_throttled_and_honours_retry_after() {
    let with_header = outcome(error(429, 20429).header("retry-after", "7")).await;
    assert!(
        retry(Some(Duration::from_secs(7)), Some("20429"), true)(&with_header),
        "{with_header:?}"
    );
    let without = outcome(error(429, 20429)).await;
    assert!(retry(None, Some("20429"), true)(&without), "{without:?}");
}

#[tokio::test]
async fn a_bare_429_is_throttled() {
    let o = outcome(Canned::new(429, "Too Many Requests").header("retry-after", "2")).await;
    assert!(retry(Some(Duration::from_secs(2)), None, true)(&o), "{o:?}");
}

#[tokio::test]
async fn full_sender_queues_back_off_long() {
    for code in [30001, 63038] {
        let o = outcome(error(400, code)).await;
        assert!(
            retry(Some(LONG_BACKOFF), Some(&code.to_string()), true)(&o),
            "{o:?}"
        );
    }
}

#[tokio::test]
async fn a_full_sender_queue_pauses_that_sender_only() {
    let o = outcome(error(400, 21611)).await;
    assert!(
        matches!(&o, SendOutcome::SenderBusy { pause, code, .. } if *pause == LONG_BACKOFF && code == "21611"),
        "{o:?}"
    );
}

#[tokio::test]
async fn the_accounts_combined_rate_slows_the_lane() {
    let o = outcome(error(429, 63017)).await;
    assert!(
        retry(Some(Duration::from_secs(1)), Some("63017"), true)(&o),
        "{o:?}"
    );
    let hinted = outcome(error(429, 63017).header("retry-after", "4")).await;
    assert!(
        retry(Some(Duration::from_secs(4)), Some("63017"), true)(&hinted),
        "{hinted:?}"
    );
}

#[tokio::test]
async fn server_errors_retry_without_slowing_the_lane() {
    let o = outcome(Canned::new(503, "<html>unavailable</html>")).await;
    assert!(retry(None, None, false)(&o), "{o:?}");
    let o = outcome(error(500, 20500)).await;
    assert!(retry(None, Some("20500"), false)(&o), "{o:?}");
}

#[tokio::test]
async fn bad_recipients_fail_with_the_code() {
    for code in [21211, 21614, 21635, 21408] {
        match outcome(error(400, code)).await {
            SendOutcome::Failed { code: c, reason } => {
                assert_eq!(c, code.to_string());
                assert!(reason.contains(&format!("error {code}")), "{reason}");
            }
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn stop_at_the_carrier_is_opted_out() {
    assert_eq!(
        outcome(error(400, 21610)).await,
        SendOutcome::OptedOut {
            code: "21610".into()
        }
    );
}

#[tokio::test]
async fn bad_credentials_wait_a_minute_instead_of_failing() {
    let o = outcome(error(401, 20003)).await;
    assert!(retry(Some(AUTH_BACKOFF), Some("20003"), true)(&o), "{o:?}");
}

#[tokio::test]
async fn a_wrong_account_or_api_base_waits_instead_of_failing() {
    // A wrong account SID in the path is a 404 with Twilio's 20404; 403/405 carry no code we know.
    let o = outcome(error(404, 20404)).await;
    assert!(retry(Some(AUTH_BACKOFF), Some("20404"), true)(&o), "{o:?}");
    for status in [403, 405] {
        let o = outcome(Canned::new(status, "<html>nope</html>")).await;
        assert!(retry(Some(AUTH_BACKOFF), None, true)(&o), "{status}: {o:?}");
    }
}

#[tokio::test]
async fn garbage_never_panics() {
    let o = outcome(Canned::new(400, "\u{0}\u{7f}not json{{{")).await;
    assert!(
        matches!(&o, SendOutcome::Failed { code, .. } if code == "http-400"),
        "{o:?}"
    );
    let o = outcome(Canned::new(201, "[1,2,")).await;
    assert!(
        matches!(&o, SendOutcome::Failed { code, .. } if code == "unreadable-response"),
        "{o:?}"
    );
    let o = outcome(Canned::new(201, r#"{"sid":42}"#)).await;
    assert!(matches!(o, SendOutcome::Failed { .. }), "{o:?}");
}

#[tokio::test]
async fn a_slow_carrier_times_out_into_retry() {
    let o = outcome(Canned::new(201, r#"{"sid":"SM1"}"#).delayed(Duration::from_secs(3))).await;
    match o {
        SendOutcome::RetryLater {
            throttled: false,
            code: None,
            reason,
            ..
        } => {
            assert!(reason.contains("timed out"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_refused_connection_is_retry() {
    let sample = Sample::new("hi");
    match send_refused("twilio", SECRETS, &sample.sms(FROM)).await {
        SendOutcome::RetryLater {
            throttled: false,
            reason,
            ..
        } => {
            assert!(reason.contains("could not connect"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}
