//! Payloads shaped like Twilio's (§1.2, §1.3).

use axum::http::{HeaderMap, Method};

use super::{map_status, parse};
use crate::carriers::webhook::{
    InboundSms, StatusReport, WebhookError, WebhookEvent, WebhookRequest, WebhookRoute,
};
use crate::domain::{MessageStatus, PhoneNumber};

fn post(route: WebhookRoute, body: &str) -> Result<WebhookEvent, WebhookError> {
    let headers = HeaderMap::new();
    let request = WebhookRequest {
        method: Method::POST,
        public_url: "https://fg.example/webhooks/twilio/x",
        headers: &headers,
        body: body.as_bytes(),
    };
    parse(route, &request)
}

fn number(text: &str) -> PhoneNumber {
    PhoneNumber::parse(text).expect("test number")
}

#[test]
fn inbound_sms() {
    let body = "ToCountry=US&SmsMessageSid=SM1&NumMedia=0&SmsSid=SM1&SmsStatus=received\
        &Body=Join+us%21&To=%2B17735550002&NumSegments=1&MessageSid=SM1\
        &AccountSid=AC1&From=%2B13125550001&ApiVersion=2010-04-01";
    let expected = InboundSms {
        provider_message_id: "SM1".into(),
        from: number("+13125550001"),
        to: number("+17735550002").into(),
        body: "Join us!".into(),
        parts: None,
        segments: Some(1),
    };
    assert_eq!(
        post(WebhookRoute::Inbound, body),
        Ok(WebhookEvent::Inbound(expected))
    );
}

#[test]
fn whatsapp_and_other_channels_are_ignored_not_malformed() {
    for body in [
        "MessageSid=SM3&From=whatsapp%3A%2B13125550001&To=whatsapp%3A%2B17735550002&Body=hi",
        "MessageSid=SM3&From=%2B13125550001&To=whatsapp%3A%2B17735550002&Body=hi",
        "MessageSid=SM3&From=messenger%3A1234567890&To=%2B17735550002&Body=hi",
    ] {
        let result = post(WebhookRoute::Inbound, body);
        assert!(
            matches!(&result, Ok(WebhookEvent::Ignored { reason }) if reason.contains("not an SMS")),
            "{body}: {result:?}"
        );
    }
}

#[test]
fn inbound_by_get_reads_the_query() {
    let headers = HeaderMap::new();
    let request = WebhookRequest {
        method: Method::GET,
        public_url: "https://fg.example/in?SmsSid=SM2&From=%2B13125550001&To=%2B17735550002&Body=STOP",
        headers: &headers,
        body: b"",
    };
    let Ok(WebhookEvent::Inbound(sms)) = parse(WebhookRoute::Inbound, &request) else {
        panic!("expected an inbound message");
    };
    assert_eq!(
        (sms.provider_message_id.as_str(), sms.body.as_str()),
        ("SM2", "STOP")
    );
}

#[test]
fn inbound_without_sender_or_with_a_bad_one_is_malformed() {
    let missing = post(
        WebhookRoute::Inbound,
        "MessageSid=SM1&To=%2B17735550002&Body=x",
    );
    assert_eq!(
        missing,
        Err(WebhookError::Malformed("`From` is missing".into()))
    );
    let bad = post(
        WebhookRoute::Inbound,
        "MessageSid=SM1&From=12345&To=%2B17735550002",
    );
    assert!(matches!(bad, Err(WebhookError::Malformed(reason)) if reason.contains("From")));
    let no_sid = post(
        WebhookRoute::Inbound,
        "From=%2B13125550001&To=%2B17735550002",
    );
    assert!(matches!(no_sid, Err(WebhookError::Malformed(_))));
}

#[test]
fn status_callback_with_error_code() {
    let body = "SmsSid=SM9&SmsStatus=undelivered&MessageStatus=undelivered&To=%2B1&\
        MessageSid=SM9&AccountSid=AC1&From=%2B1&ApiVersion=2010-04-01&ErrorCode=30003";
    let expected = StatusReport {
        provider_message_id: "SM9".into(),
        status: MessageStatus::Undelivered,
        raw_status: "undelivered".into(),
        error_code: Some("30003".into()),
        client_ref: None,
        opted_out: false,
        // 30003: the handset is unreachable for now.
        resend_after: Some(std::time::Duration::from_secs(60)),
    };
    assert_eq!(
        post(WebhookRoute::Status, body),
        Ok(WebhookEvent::Status(expected))
    );
}

#[test]
fn a_failed_callback_with_21610_says_the_recipient_opted_out() {
    let report = |status: &str, code: &str| {
        let body = format!("MessageSid=SM5&MessageStatus={status}&ErrorCode={code}");
        match post(WebhookRoute::Status, &body) {
            Ok(WebhookEvent::Status(report)) => report,
            other => panic!("expected a status report, got {other:?}"),
        }
    };
    assert!(report("failed", "21610").opted_out);
    assert!(report("undelivered", "21610").opted_out);
    assert!(!report("undelivered", "30003").opted_out);
    assert!(
        !report("sent", "21610").opted_out,
        "only a refusal opts out"
    );
}

#[test]
fn only_a_passing_failure_is_sent_again() {
    let resend = |status: &str, code: &str| {
        let body = format!("MessageSid=SM6&MessageStatus={status}&ErrorCode={code}");
        match post(WebhookRoute::Status, &body) {
            Ok(WebhookEvent::Status(report)) => report.resend_after.map(|d| d.as_secs()),
            other => panic!("expected a status report, got {other:?}"),
        }
    };
    assert_eq!(
        resend("failed", "30001"),
        Some(300),
        "a service queue overflowed"
    );
    assert_eq!(resend("failed", "14107"), Some(30));
    assert_eq!(resend("undelivered", "30003"), Some(60));
    for final_code in ["30005", "30006", "30007", "21610", "21211", "30023"] {
        assert_eq!(resend("undelivered", final_code), None, "{final_code}");
    }
    assert_eq!(resend("sent", "30001"), None, "only a refusal is resent");
}

#[test]
fn status_without_error_code_and_legacy_fields_only() {
    let Ok(WebhookEvent::Status(report)) =
        post(WebhookRoute::Status, "SmsSid=SM3&SmsStatus=sent&ErrorCode=")
    else {
        panic!("expected a status report");
    };
    assert_eq!(
        (report.provider_message_id.as_str(), report.status),
        ("SM3", MessageStatus::Sent)
    );
    assert_eq!(report.error_code, None);
}

#[test]
fn unknown_and_inbound_statuses_are_ignored_not_errors() {
    for raw in ["received", "receiving", "partially_delivered", "teleported"] {
        let event = post(
            WebhookRoute::Status,
            &format!("MessageSid=SM1&MessageStatus={raw}"),
        );
        assert!(
            matches!(event, Ok(WebhookEvent::Ignored { .. })),
            "{raw}: {event:?}"
        );
    }
    let no_status = post(WebhookRoute::Status, "MessageSid=SM1");
    assert!(matches!(no_status, Err(WebhookError::Malformed(_))));
}

#[test]
fn status_mapping() {
    use MessageStatus::*;
    let table = [
        ("accepted", Queued),
        ("scheduled", Queued),
        ("queued", Queued),
        ("sending", Sending),
        ("sent", Sent),
        ("delivered", Delivered),
        ("read", Delivered),
        ("undelivered", Undelivered),
        ("failed", Failed),
        ("canceled", Failed),
    ];
    for (raw, status) in table {
        assert_eq!(map_status(raw), Some(status), "{raw}");
    }
    assert_eq!(map_status("received"), None);
}

#[test]
fn inbound_to_a_short_code_keeps_its_digits() {
    let body = "MessageSid=SM9&From=%2B13125550001&To=12345&Body=STOP";
    let Ok(WebhookEvent::Inbound(sms)) = post(WebhookRoute::Inbound, body) else {
        panic!("expected an inbound text");
    };
    assert_eq!(sms.to.as_str(), "12345");
    assert!(sms.to.phone_number().is_none());
}
