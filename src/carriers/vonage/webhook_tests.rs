//! Payloads shaped like Vonage's (§3.2), by GET, POST form and POST JSON.

use axum::http::{HeaderMap, HeaderValue, Method, header};

use super::{map_status, parse};
use crate::carriers::webhook::{
    ConcatPart, InboundSms, StatusReport, WebhookError, WebhookEvent, WebhookRequest, WebhookRoute,
};
use crate::domain::{MessageStatus, PhoneNumber};

fn get(route: WebhookRoute, query: &str) -> Result<WebhookEvent, WebhookError> {
    let headers = HeaderMap::new();
    let url = format!("https://fg.example/webhooks/vonage/x?{query}");
    let request = WebhookRequest {
        method: Method::GET,
        public_url: &url,
        headers: &headers,
        body: b"",
    };
    parse(route, &request)
}

fn post_json(route: WebhookRoute, body: &str) -> Result<WebhookEvent, WebhookError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let request = WebhookRequest {
        method: Method::POST,
        public_url: "https://fg.example/webhooks/vonage/x",
        headers: &headers,
        body: body.as_bytes(),
    };
    parse(route, &request)
}

fn number(text: &str) -> PhoneNumber {
    PhoneNumber::parse(text).expect("test number")
}

#[test]
fn inbound_by_get_gets_a_plus() {
    let query = "msisdn=447700900001&to=447700900000&messageId=0A0000000123ABCD1&text=Join\
        &type=text&keyword=JOIN&message-timestamp=2020-01-01+12%3A00%3A00";
    let expected = InboundSms {
        provider_message_id: "0A0000000123ABCD1".into(),
        from: number("+447700900001"),
        to: number("+447700900000").into(),
        body: "Join".into(),
        parts: None,
        segments: None,
    };
    assert_eq!(
        get(WebhookRoute::Inbound, query),
        Ok(WebhookEvent::Inbound(expected))
    );
}

#[test]
fn inbound_part_of_a_long_message_by_json() {
    let body = r#"{"msisdn":"447700900001","to":"447700900000","messageId":"0A1","text":"part two",
        "type":"text","concat":"true","concat-ref":"108","concat-total":"3","concat-part":"2"}"#;
    let Ok(WebhookEvent::Inbound(sms)) = post_json(WebhookRoute::Inbound, body) else {
        panic!("expected an inbound part");
    };
    let part = ConcatPart {
        reference: "108".into(),
        total: 3,
        part: 2,
    };
    assert_eq!(sms.parts, Some(part));
}

#[test]
fn bad_concat_fields_are_malformed() {
    let base = "msisdn=447700900001&to=447700900000&messageId=0A1&text=x&concat=true&concat-ref=1";
    for extra in [
        "&concat-total=2",
        "&concat-total=2&concat-part=0",
        "&concat-total=2&concat-part=3",
    ] {
        let result = get(WebhookRoute::Inbound, &format!("{base}{extra}"));
        assert!(
            matches!(result, Err(WebhookError::Malformed(_))),
            "{extra}: {result:?}"
        );
    }
}

#[test]
fn inbound_without_sender_is_malformed_and_binary_is_ignored() {
    let missing = get(
        WebhookRoute::Inbound,
        "to=447700900000&messageId=0A1&text=x",
    );
    assert_eq!(
        missing,
        Err(WebhookError::Malformed("`msisdn` is missing".into()))
    );
    let binary = get(
        WebhookRoute::Inbound,
        "msisdn=1&to=2&messageId=0A1&type=binary",
    );
    assert!(matches!(binary, Ok(WebhookEvent::Ignored { .. })));
}

#[test]
fn delivery_receipt() {
    let query = "msisdn=447700900001&to=Floodgate&network-code=23410&messageId=0A2&price=0.03\
        &status=failed&scts=2001011400&err-code=2&client-ref=m-42";
    let expected = StatusReport {
        provider_message_id: "0A2".into(),
        status: MessageStatus::Undelivered,
        raw_status: "failed".into(),
        error_code: Some("2".into()),
        client_ref: Some("m-42".into()),
        opted_out: false,
        // err-code 2: absent subscriber, temporary; Vonage does not redeliver by itself.
        resend_after: Some(std::time::Duration::from_secs(60)),
    };
    assert_eq!(
        get(WebhookRoute::Status, query),
        Ok(WebhookEvent::Status(expected))
    );
    let ok = get(
        WebhookRoute::Status,
        "messageId=0A3&status=delivered&err-code=0",
    );
    let Ok(WebhookEvent::Status(report)) = ok else {
        panic!("expected a receipt")
    };
    assert_eq!(
        (report.status, report.error_code),
        (MessageStatus::Delivered, None)
    );
}

#[test]
fn only_temporary_dlr_errors_are_sent_again() {
    for (code, resend) in [
        ("2", true),
        ("7", true),
        ("8", true),
        ("3", false),
        ("4", false),
        ("6", false),
    ] {
        let query = format!("messageId=0A5&status=failed&err-code={code}");
        let Ok(WebhookEvent::Status(report)) = get(WebhookRoute::Status, &query) else {
            panic!("expected a receipt")
        };
        assert_eq!(report.resend_after.is_some(), resend, "err-code {code}");
    }
}

#[test]
fn unknown_receipt_status_is_ignored() {
    for raw in ["unknown", "teleported"] {
        let event = get(WebhookRoute::Status, &format!("messageId=0A4&status={raw}"));
        assert!(matches!(event, Ok(WebhookEvent::Ignored { .. })), "{raw}");
    }
    let no_id = get(WebhookRoute::Status, "status=delivered");
    assert!(matches!(no_id, Err(WebhookError::Malformed(_))));
    let not_object = post_json(WebhookRoute::Status, "\"delivered\"");
    assert!(matches!(not_object, Err(WebhookError::Malformed(_))));
}

#[test]
fn status_mapping() {
    use MessageStatus::*;
    let table = [
        ("accepted", Sent),
        ("buffered", Sent),
        ("delivered", Delivered),
        ("failed", Undelivered),
        ("expired", Undelivered),
        ("rejected", Failed),
    ];
    for (raw, status) in table {
        assert_eq!(map_status(raw), Some(status), "{raw}");
    }
    assert_eq!(map_status("unknown"), None);
}

#[test]
fn inbound_to_a_short_code_gets_no_plus() {
    let query = "msisdn=14155550101&to=24680&messageId=0A9&text=STOP&type=text";
    let Ok(WebhookEvent::Inbound(sms)) = get(WebhookRoute::Inbound, query) else {
        panic!("expected an inbound text");
    };
    assert_eq!(sms.to.as_str(), "24680");
    assert_eq!(sms.from, number("+14155550101"));
}
