//! Events shaped like Telnyx's (§2.2), on either route.

use axum::http::{HeaderMap, Method};

use super::{map_status, parse};
use crate::carriers::telnyx::signature::tests::BODY;
use crate::carriers::webhook::{
    InboundSms, StatusReport, WebhookError, WebhookEvent, WebhookRequest, WebhookRoute,
};
use crate::domain::{MessageStatus, PhoneNumber};

fn post(route: WebhookRoute, body: &str) -> Result<WebhookEvent, WebhookError> {
    let headers = HeaderMap::new();
    let request = WebhookRequest {
        method: Method::POST,
        public_url: "https://fg.example/webhooks/telnyx/x",
        headers: &headers,
        body: body.as_bytes(),
    };
    parse(route, &request)
}

fn event(event_type: &str, payload: &str) -> String {
    format!(
        r#"{{"data":{{"event_type":"{event_type}","id":"e1","record_type":"event","payload":{payload}}},"meta":{{"attempt":1}}}}"#
    )
}

#[test]
fn vector_body_is_an_inbound_stop() {
    let expected = InboundSms {
        provider_message_id: "84cca175-9755-4859-b67f-4730d7f58aa3".into(),
        from: PhoneNumber::parse("+13125550001").expect("number"),
        to: PhoneNumber::parse("+17735550002").expect("number").into(),
        body: "STOP".into(),
        parts: None,
        segments: None,
    };
    for route in [WebhookRoute::Inbound, WebhookRoute::Status] {
        assert_eq!(
            post(route, BODY),
            Ok(WebhookEvent::Inbound(expected.clone()))
        );
    }
}

#[test]
fn finalized_with_error_on_the_inbound_route() {
    let payload = r#"{"id":"m1","to":[{"phone_number":"+17735550002","status":"delivery_failed"}],
        "errors":[{"code":"40008","title":"Undeliverable"}],"parts":1}"#;
    let expected = StatusReport {
        provider_message_id: "m1".into(),
        status: MessageStatus::Undelivered,
        raw_status: "delivery_failed".into(),
        error_code: Some("40008".into()),
        client_ref: None,
        opted_out: false,
        resend_after: None,
    };
    let event = post(WebhookRoute::Inbound, &event("message.finalized", payload));
    assert_eq!(event, Ok(WebhookEvent::Status(expected)));
}

#[test]
fn a_carrier_that_was_unavailable_gets_the_message_again() {
    for (code, resend) in [
        ("40006", Some(60)),
        ("40011", Some(60)),
        ("40008", None),
        ("40300", None),
    ] {
        let payload = format!(
            r#"{{"id":"m9","to":[{{"phone_number":"+17735550002","status":"delivery_failed"}}],
            "errors":[{{"code":"{code}","title":"x"}}]}}"#
        );
        let Ok(WebhookEvent::Status(report)) =
            post(WebhookRoute::Status, &event("message.finalized", &payload))
        else {
            panic!("expected a status report");
        };
        assert_eq!(report.resend_after.map(|d| d.as_secs()), resend, "{code}");
    }
}

#[test]
fn sent_without_errors() {
    let payload = r#"{"id":"m2","to":[{"phone_number":"+1","status":"sent"}],"errors":[]}"#;
    let Ok(WebhookEvent::Status(report)) =
        post(WebhookRoute::Status, &event("message.sent", payload))
    else {
        panic!("expected a status report");
    };
    assert_eq!(
        (report.status, report.error_code),
        (MessageStatus::Sent, None)
    );
}

#[test]
fn a_refusal_with_40300_says_the_recipient_opted_out() {
    let report = |status: &str, code: &str| {
        let payload = format!(
            r#"{{"id":"m5","to":[{{"status":"{status}"}}],"errors":[{{"code":"{code}"}}]}}"#
        );
        match post(WebhookRoute::Status, &event("message.finalized", &payload)) {
            Ok(WebhookEvent::Status(report)) => report,
            other => panic!("expected a status report, got {other:?}"),
        }
    };
    assert!(report("sending_failed", "40300").opted_out);
    assert!(report("delivery_failed", "40300").opted_out);
    assert!(!report("delivery_failed", "40008").opted_out);
    assert!(!report("delivered", "40300").opted_out);
}

#[test]
fn numeric_error_codes_are_kept_as_text() {
    let payload = r#"{"id":"m3","to":[{"status":"sending_failed"}],"errors":[{"code":40300}]}"#;
    let Ok(WebhookEvent::Status(report)) =
        post(WebhookRoute::Status, &event("message.finalized", payload))
    else {
        panic!("expected a status report");
    };
    assert_eq!(report.error_code.as_deref(), Some("40300"));
}

#[test]
fn other_events_and_statuses_are_ignored() {
    let ignored = post(WebhookRoute::Status, &event("call.initiated", "{}"));
    assert!(matches!(ignored, Ok(WebhookEvent::Ignored { .. })));
    let payload = r#"{"id":"m4","to":[{"status":"teleported"}]}"#;
    let unknown = post(WebhookRoute::Status, &event("message.finalized", payload));
    assert!(matches!(unknown, Ok(WebhookEvent::Ignored { .. })));
}

#[test]
fn whatsapp_and_rcs_events_are_ignored_not_malformed() {
    let whatsapp = r#"{"id":"w1","type":"WHATSAPP","text":"hi","direction":"inbound",
        "from":{"phone_number":"+13125550001"},"to":"+17735550002"}"#;
    let untyped_string_to = r#"{"id":"w2","text":"hi","from":{"phone_number":"+13125550001"},
        "to":"+17735550002"}"#;
    let rcs = r#"{"id":"r1","type":"RCS","text":"hi","from":{"phone_number":"+13125550001"},
        "to":[{"phone_number":"+17735550002"}]}"#;
    for (event_type, payload) in [
        ("message.received", whatsapp),
        ("message.received", untyped_string_to),
        ("message.received", rcs),
        ("message.finalized", whatsapp),
    ] {
        let result = post(WebhookRoute::Inbound, &event(event_type, payload));
        assert!(
            matches!(&result, Ok(WebhookEvent::Ignored { reason }) if reason.contains("not an SMS")),
            "{event_type} {payload}: {result:?}"
        );
    }
    let mms = r#"{"id":"m1","type":"MMS","text":"","from":{"phone_number":"+13125550001"},
        "to":[{"phone_number":"+17735550002"}]}"#;
    assert!(matches!(
        post(WebhookRoute::Inbound, &event("message.received", mms)),
        Ok(WebhookEvent::Inbound(_))
    ));
}

#[test]
fn a_to_that_is_neither_list_nor_string_is_malformed() {
    let payload = r#"{"id":"m","from":{"phone_number":"+13125550001"},"to":17735550002}"#;
    let result = post(WebhookRoute::Inbound, &event("message.received", payload));
    assert!(
        matches!(&result, Err(WebhookError::Malformed(reason)) if reason.contains("`to`")),
        "{result:?}"
    );
}

#[test]
fn malformed_bodies_say_why() {
    for body in [
        "",
        "not json",
        "[]",
        r#"{"meta":{}}"#,
        r#"{"data":{"payload":{}}}"#,
    ] {
        let result = post(WebhookRoute::Inbound, body);
        assert!(
            matches!(result, Err(WebhookError::Malformed(_))),
            "{body:?}: {result:?}"
        );
    }
    let no_from = event(
        "message.received",
        r#"{"id":"m","to":[{"phone_number":"+17735550002"}]}"#,
    );
    let result = post(WebhookRoute::Inbound, &no_from);
    assert_eq!(
        result,
        Err(WebhookError::Malformed(
            "`from.phone_number` is missing".into()
        ))
    );
    let no_status = event("message.sent", r#"{"id":"m","to":[]}"#);
    assert!(matches!(
        post(WebhookRoute::Status, &no_status),
        Err(WebhookError::Malformed(_))
    ));
}

#[test]
fn status_mapping() {
    use MessageStatus::*;
    let table = [
        ("queued", Queued),
        ("sending", Sending),
        ("sent", Sent),
        ("delivered", Delivered),
        ("sending_failed", Failed),
        ("delivery_failed", Undelivered),
        ("delivery_unconfirmed", Sent),
        ("expired", Failed),
    ];
    for (raw, status) in table {
        assert_eq!(map_status(raw), Some(status), "{raw}");
    }
    assert_eq!(map_status("webhook_delivered"), None);
}
