//! The §10 Vonage vectors (vonage-python-sdk and its legacy client) and request-level checks.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use chrono::{DateTime, Utc};

use super::{SignatureMethod, sign, verify};
use crate::carriers::webhook::{SignatureFailure, WebhookRequest};
use crate::config::Secret;

const SDK_SECRET: &str = "signature_secret";
const LEGACY_SECRET: &str = "secret";

fn legacy() -> [(&'static str, &'static str); 3] {
    [("a", "1"), ("b", "2"), ("timestamp", "1461605396")]
}

#[test]
fn vectors_vonage_python_sdk() {
    let params = [
        ("param1", "value1"),
        ("param2", "value2"),
        ("timestamp", "1234567890"),
    ];
    assert_eq!(
        sign(&params, SDK_SECRET, SignatureMethod::Sha256),
        "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287"
    );
    assert_eq!(
        sign(&params, SDK_SECRET, SignatureMethod::Md5),
        "724c2bf6ca423c36e20631b11d1c5753"
    );
    let escaped = [
        ("param1", "value&1"),
        ("param2", "value=2"),
        ("timestamp", "1234567890"),
    ];
    assert_eq!(
        sign(&escaped, SDK_SECRET, SignatureMethod::Md5),
        "2bbf0abafb2c55e5af6231513896a2ac"
    );
    let single = [("param", "value"), ("timestamp", "1234567890")];
    assert_eq!(
        sign(&single, SDK_SECRET, SignatureMethod::Md5),
        "655a4d0b7f064dff438defc52b012cf5"
    );
}

#[test]
fn vectors_legacy_client() {
    let cases = [
        (SignatureMethod::Md5Hash, "6af838ef94998832dbfc29020b564830"),
        (SignatureMethod::Md5, "c15c21ced558c93a226c305f58f902f2"),
        (
            SignatureMethod::Sha1,
            "3e19a4e6880fdc2c1426bfd0587c98b9532f0210",
        ),
        (
            SignatureMethod::Sha256,
            "a321e824b9b816be7c3f28859a31749a098713d39f613c80d455bbaffae1cd24",
        ),
    ];
    for (method, expected) in cases {
        assert_eq!(
            sign(&legacy(), LEGACY_SECRET, method),
            expected,
            "{method:?}"
        );
    }
}

#[test]
fn order_and_sig_field_do_not_change_the_signature() {
    let shuffled = [
        ("timestamp", "1461605396"),
        ("sig", "whatever"),
        ("b", "2"),
        ("a", "1"),
    ];
    let method = SignatureMethod::Sha1;
    assert_eq!(
        sign(&shuffled, LEGACY_SECRET, method),
        sign(&legacy(), LEGACY_SECRET, method)
    );
}

fn at(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).expect("in range")
}

fn get(query: &str, method: SignatureMethod, now: i64) -> Result<(), SignatureFailure> {
    let headers = HeaderMap::new();
    let url = format!("https://fg.example/webhooks/vonage/inbound?{query}");
    let request = WebhookRequest {
        method: Method::GET,
        public_url: &url,
        headers: &headers,
        body: b"",
    };
    verify(&request, &Secret::new(LEGACY_SECRET), method, at(now))
}

#[test]
fn get_request_with_legacy_vector() {
    let query = "b=2&a=1&timestamp=1461605396&sig=6AF838EF94998832DBFC29020B564830";
    assert_eq!(get(query, SignatureMethod::Md5Hash, 1_461_605_396), Ok(()));
    // Vonage retries for 24 h with the original timestamp: a day later it is still genuine.
    let a_day_later = 1_461_605_396 + 24 * 3600;
    assert_eq!(get(query, SignatureMethod::Md5Hash, a_day_later), Ok(()));
    let window = super::REPLAY_WINDOW_SECS as i64;
    assert_eq!(
        get(query, SignatureMethod::Md5Hash, 1_461_605_396 + window),
        Ok(())
    );
    let stale = get(query, SignatureMethod::Md5Hash, 1_461_605_396 + window + 1);
    assert_eq!(stale, Err(SignatureFailure::Stale));
    let wrong_method = get(query, SignatureMethod::Md5, 1_461_605_396);
    assert_eq!(wrong_method, Err(SignatureFailure::Invalid));
    let tampered = get(
        &query.replace("a=1", "a=9"),
        SignatureMethod::Md5Hash,
        1_461_605_396,
    );
    assert_eq!(tampered, Err(SignatureFailure::Invalid));
    let unsigned = get(
        "a=1&b=2&timestamp=1461605396",
        SignatureMethod::Md5Hash,
        1_461_605_396,
    );
    assert_eq!(unsigned, Err(SignatureFailure::Missing));
}

#[test]
fn signed_without_timestamp_cannot_be_fresh() {
    let sig = sign(&[("a", "1")], LEGACY_SECRET, SignatureMethod::Sha512);
    let query = format!("a=1&sig={sig}");
    assert_eq!(
        get(&query, SignatureMethod::Sha512, 0),
        Err(SignatureFailure::Stale)
    );
}

fn post(content_type: &str, body: &str, now: i64) -> Result<(), SignatureFailure> {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).expect("ascii"),
    );
    let request = WebhookRequest {
        method: Method::POST,
        public_url: "https://fg.example/webhooks/vonage/status",
        headers: &headers,
        body: body.as_bytes(),
    };
    verify(
        &request,
        &Secret::new(SDK_SECRET),
        SignatureMethod::Sha256,
        at(now),
    )
}

#[test]
fn post_form_and_post_json() {
    let sig = "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287";
    let form = format!("param1=value1&param2=value2&timestamp=1234567890&sig={sig}");
    assert_eq!(
        post("application/x-www-form-urlencoded", &form, 1_234_567_890),
        Ok(())
    );
    // JSON: the number `1234567890` is signed as the text `1234567890`.
    let json =
        format!(r#"{{"param1":"value1","param2":"value2","timestamp":1234567890,"sig":"{sig}"}}"#);
    assert_eq!(
        post("application/json; charset=utf-8", &json, 1_234_567_890),
        Ok(())
    );
    let not_object = post("application/json", "[1,2]", 1_234_567_890);
    assert_eq!(not_object, Err(SignatureFailure::Missing));
}

#[test]
fn method_names_round_trip() {
    for name in ["md5hash", "md5", "sha1", "sha256", "SHA512"] {
        let method = SignatureMethod::parse(name).expect("known");
        assert_eq!(method.as_str(), name.to_ascii_lowercase());
    }
    assert_eq!(SignatureMethod::parse("crc32"), None);
}
