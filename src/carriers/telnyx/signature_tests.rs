//! The §10 Telnyx vector (RFC 8032 test key, clock injected) and the ways a request can fail.

use axum::http::{HeaderMap, HeaderValue, Method};
use chrono::{DateTime, Utc};

use super::{SIGNATURE_HEADER, TIMESTAMP_HEADER, public_key, sign, verify};
use crate::carriers::webhook::{SignatureFailure, WebhookRequest};

pub(crate) const SEED_HEX: &str =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
pub(crate) const PUBLIC_KEY: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
pub(crate) const BODY: &str = r#"{"data":{"event_type":"message.received","id":"b301ed3f-1490-491f-995f-6e64e69674d4","occurred_at":"2023-11-14T22:13:20.000+00:00","payload":{"id":"84cca175-9755-4859-b67f-4730d7f58aa3","text":"STOP","from":{"phone_number":"+13125550001"},"to":[{"phone_number":"+17735550002"}]},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://example.com/webhooks/telnyx"}}"#;
pub(crate) const SIGNATURE: &str =
    "kwwESFrJEYJYf3msMouVklTTp3CZBbSF6WFlr2yXUoIsI8IV9jg/BoDP4E4RphA9E2hYf/FDHqS03LAimghZAw==";
const TS: i64 = 1_700_000_000;

pub(crate) fn seed() -> [u8; 32] {
    let bytes = hex::decode(SEED_HEX).expect("hex");
    bytes.try_into().expect("32 bytes")
}

fn at(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).expect("in range")
}

fn headers(signature: Option<&str>, ts: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(signature) = signature {
        // Mixed case on purpose: header names are case-insensitive.
        let name = SIGNATURE_HEADER.to_ascii_uppercase();
        let name = axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name");
        headers.insert(name, HeaderValue::from_str(signature).expect("ascii"));
    }
    if let Some(ts) = ts {
        headers.insert(TIMESTAMP_HEADER, HeaderValue::from_str(ts).expect("ascii"));
    }
    headers
}

fn check(headers: &HeaderMap, body: &str, key: &str, now: i64) -> Result<(), SignatureFailure> {
    let request = WebhookRequest {
        method: Method::POST,
        public_url: "https://example.com/webhooks/telnyx",
        headers,
        body: body.as_bytes(),
    };
    verify(&request, key, at(now))
}

#[test]
fn vector_signs_and_verifies() {
    assert_eq!(BODY.len(), 376);
    assert_eq!(public_key(&seed()), PUBLIC_KEY);
    assert_eq!(sign(&seed(), TS, BODY.as_bytes()), SIGNATURE);
    let headers = headers(Some(SIGNATURE), Some("1700000000"));
    assert_eq!(check(&headers, BODY, PUBLIC_KEY, TS), Ok(()));
    assert_eq!(check(&headers, BODY, PUBLIC_KEY, TS + 300), Ok(()));
    assert_eq!(check(&headers, BODY, PUBLIC_KEY, TS - 300), Ok(()));
}

#[test]
fn stale_either_way() {
    let headers = headers(Some(SIGNATURE), Some("1700000000"));
    assert_eq!(
        check(&headers, BODY, PUBLIC_KEY, TS + 301),
        Err(SignatureFailure::Stale)
    );
    assert_eq!(
        check(&headers, BODY, PUBLIC_KEY, TS - 301),
        Err(SignatureFailure::Stale)
    );
}

#[test]
fn wrong_key_is_invalid() {
    let other = public_key(&[7; 32]);
    let headers = headers(Some(SIGNATURE), Some("1700000000"));
    assert_eq!(
        check(&headers, BODY, &other, TS),
        Err(SignatureFailure::Invalid)
    );
}

#[test]
fn tampered_body_or_timestamp_is_invalid() {
    let tampered = BODY.replace("STOP", "JOIN");
    let good = headers(Some(SIGNATURE), Some("1700000000"));
    assert_eq!(
        check(&good, &tampered, PUBLIC_KEY, TS),
        Err(SignatureFailure::Invalid)
    );
    let moved = headers(Some(SIGNATURE), Some("1700000001"));
    assert_eq!(
        check(&moved, BODY, PUBLIC_KEY, TS),
        Err(SignatureFailure::Invalid)
    );
    let garbage = headers(Some("not base64!"), Some("1700000000"));
    assert_eq!(
        check(&garbage, BODY, PUBLIC_KEY, TS),
        Err(SignatureFailure::Invalid)
    );
}

#[test]
fn missing_headers() {
    let none = headers(None, None);
    assert_eq!(
        check(&none, BODY, PUBLIC_KEY, TS),
        Err(SignatureFailure::Missing)
    );
    let no_ts = headers(Some(SIGNATURE), None);
    assert_eq!(
        check(&no_ts, BODY, PUBLIC_KEY, TS),
        Err(SignatureFailure::Missing)
    );
    let no_sig = headers(None, Some("1700000000"));
    assert_eq!(
        check(&no_sig, BODY, PUBLIC_KEY, TS),
        Err(SignatureFailure::Missing)
    );
}

#[test]
fn unusable_public_key_is_not_configured() {
    let headers = headers(Some(SIGNATURE), Some("1700000000"));
    for key in ["", "c2hvcnQ=", "%%%"] {
        let result = check(&headers, BODY, key, TS);
        assert_eq!(result, Err(SignatureFailure::NotConfigured), "{key:?}");
    }
}
