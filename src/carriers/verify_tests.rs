//! The entry point: missing credentials, signature before meaning, each carrier end to end.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use chrono::{DateTime, Utc};

use super::{WebhookCredentials, verify_and_parse};
use crate::carriers::fields::form_pairs;
use crate::carriers::telnyx::signature::tests::{BODY, PUBLIC_KEY, SIGNATURE};
use crate::carriers::vonage::SignatureMethod;
use crate::carriers::webhook::{
    CarrierKind, SignatureFailure, WebhookError, WebhookEvent, WebhookRequest, WebhookRoute,
};
use crate::carriers::{telnyx, twilio, vonage};
use crate::config::Secret;

pub(super) const URL: &str = "https://fg.example/webhooks/carrier/inbound";
pub(super) const NOW: i64 = 1_700_000_000;
pub(super) const SIGNATURE_HEADERS: [&str; 4] = [
    twilio::signature::HEADER,
    telnyx::signature::SIGNATURE_HEADER,
    telnyx::signature::TIMESTAMP_HEADER,
    "content-type",
];

pub(super) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW, 0).unwrap_or_default()
}

pub(super) fn credentials() -> WebhookCredentials {
    WebhookCredentials {
        twilio_auth_token: Some(Secret::new("twilio-token")),
        twilio_shared_key: None,
        telnyx_public_key: Some(PUBLIC_KEY.into()),
        vonage_signature_secret: Some(Secret::new("vonage-secret")),
        vonage_signature_method: SignatureMethod::Sha256,
    }
}

pub(super) fn call(
    kind: CarrierKind,
    route: WebhookRoute,
    method: Method,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<WebhookEvent, WebhookError> {
    let request = WebhookRequest {
        method,
        public_url: url,
        headers,
        body,
    };
    verify_and_parse(kind, route, &request, &credentials(), now())
}

pub(super) fn with(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(*name), HeaderValue::try_from(*value))
        {
            headers.insert(name, value);
        }
    }
    headers
}

#[test]
fn missing_credentials_are_not_configured() {
    let telnyx = with(&[
        ("telnyx-signature-ed25519", SIGNATURE),
        ("telnyx-timestamp", "1700000000"),
    ]);
    for kind in CarrierKind::ALL {
        let request = WebhookRequest {
            method: Method::POST,
            public_url: URL,
            headers: &telnyx,
            body: BODY.as_bytes(),
        };
        let result = verify_and_parse(
            kind,
            WebhookRoute::Inbound,
            &request,
            &WebhookCredentials::default(),
            now(),
        );
        assert_eq!(
            result,
            Err(WebhookError::Signature(SignatureFailure::NotConfigured)),
            "{kind:?}"
        );
    }
}

#[test]
fn telnyx_vector_end_to_end() {
    let headers = with(&[
        ("Telnyx-Signature-Ed25519", SIGNATURE),
        ("Telnyx-Timestamp", "1700000000"),
    ]);
    let event = call(
        CarrierKind::Telnyx,
        WebhookRoute::Inbound,
        Method::POST,
        URL,
        &headers,
        BODY.as_bytes(),
    );
    assert!(matches!(event, Ok(WebhookEvent::Inbound(sms)) if sms.body == "STOP"));
}

#[test]
fn signature_is_checked_before_meaning() {
    let garbage = b"\xff\xfenot a payload";
    let unsigned = call(
        CarrierKind::Twilio,
        WebhookRoute::Inbound,
        Method::POST,
        URL,
        &HeaderMap::new(),
        garbage,
    );
    assert_eq!(
        unsigned,
        Err(WebhookError::Signature(SignatureFailure::Missing))
    );
    let sig = twilio::signature::sign(URL, &form_pairs(garbage), "twilio-token");
    let signed = call(
        CarrierKind::Twilio,
        WebhookRoute::Inbound,
        Method::POST,
        URL,
        &with(&[("x-twilio-signature", &sig)]),
        garbage,
    );
    assert!(
        matches!(signed, Err(WebhookError::Malformed(_))),
        "{signed:?}"
    );
}

#[test]
fn vonage_signed_inbound_end_to_end() {
    let mut params = vec![
        ("msisdn", "447700900001"),
        ("to", "447700900000"),
        ("messageId", "0A1"),
        ("text", "STOP"),
        ("timestamp", "1700000000"),
    ];
    let sig = vonage::signature::sign(&params, "vonage-secret", SignatureMethod::Sha256);
    params.push(("sig", &sig));
    let body = serde_urlencoded::to_string(&params).unwrap_or_default();
    let form = with(&[("content-type", "application/x-www-form-urlencoded")]);
    let event = call(
        CarrierKind::Vonage,
        WebhookRoute::Inbound,
        Method::POST,
        URL,
        &form,
        body.as_bytes(),
    );
    assert!(
        matches!(event, Ok(WebhookEvent::Inbound(sms)) if sms.from.as_str() == "+447700900001")
    );
}
