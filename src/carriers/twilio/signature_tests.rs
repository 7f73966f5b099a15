//! The §10 vectors from twilio-python and twilio-node, plus the ways a request can fail.

use axum::http::{HeaderMap, HeaderValue, Method};

use super::{
    Algorithm, HEADER, SETTINGS_HEADER, body_sha256, sign, sign_with, url_variants, verify,
};
use crate::carriers::webhook::{SignatureFailure, WebhookRequest};
use crate::config::Secret;

const TOKEN: &str = "12345";
const U: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

fn p() -> Vec<(&'static str, &'static str)> {
    vec![
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]
}

fn check(url: &str, body: &[u8], signature: &str) -> Result<(), SignatureFailure> {
    let mut headers = HeaderMap::new();
    headers.insert(HEADER, HeaderValue::from_str(signature).expect("ascii"));
    let request = WebhookRequest {
        method: Method::POST,
        public_url: url,
        headers: &headers,
        body,
    };
    verify(&request, &Secret::new(TOKEN), None)
}

fn form(params: &[(&str, &str)]) -> Vec<u8> {
    serde_urlencoded::to_string(params)
        .expect("form")
        .into_bytes()
}

#[test]
fn vector_url_and_params() {
    assert_eq!(sign(U, &p(), TOKEN), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    assert_eq!(
        check(U, &form(&p()), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        Ok(())
    );
}

#[test]
fn vector_https_signed_with_443_is_accepted_without_it() {
    let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    assert_eq!(sign(with_port, &p(), TOKEN), "kvajT1Ptam85bY51eRf/AJRuM3w=");
    assert_eq!(
        check(U, &form(&p()), "kvajT1Ptam85bY51eRf/AJRuM3w="),
        Ok(())
    );
    assert_eq!(
        check(with_port, &form(&p()), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        Ok(())
    );
}

#[test]
fn vector_http_signed_with_80_is_accepted_without_it() {
    let with_port = "http://mycompany.com:80/myapp.php?foo=1&bar=2";
    assert_eq!(sign(with_port, &p(), TOKEN), "0ZXoZLH/DfblKGATFgpif+LLRf4=");
    let without = "http://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(
        check(without, &form(&p()), "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        Ok(())
    );
}

#[test]
fn vector_custom_port_as_given_or_stripped() {
    let url = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
    assert_eq!(sign(url, &p(), TOKEN), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
    assert_eq!(
        check(url, &form(&p()), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        Ok(())
    );
    // twilio-python `test_validation_removes_port_on_https`: any port may be stripped.
    let https = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
    assert_eq!(
        check(https, &form(&p()), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        Ok(())
    );
}

#[test]
fn vector_user_and_password_are_signed() {
    let url = "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(sign(url, &p(), TOKEN), "CukzLTc1tT5dXEDIHm/tKBanW10=");
    assert_eq!(
        check(url, &form(&p()), "CukzLTc1tT5dXEDIHm/tKBanW10="),
        Ok(())
    );
}

#[test]
fn vector_percent_encoded_query_is_signed_raw() {
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2&Body=It%27s+amazing";
    assert_eq!(sign(url, &p(), TOKEN), "TfZzewPq8wqrGlMfyAud8+/IvJ0=");
    assert_eq!(
        check(url, &form(&p()), "TfZzewPq8wqrGlMfyAud8+/IvJ0="),
        Ok(())
    );
}

#[test]
fn vector_repeated_names_are_deduplicated_and_sorted() {
    let params = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ];
    assert_eq!(sign(U, &params, TOKEN), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    assert_eq!(
        check(U, &form(&params), "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
        Ok(())
    );
}

#[test]
fn vector_repeated_dotted_names() {
    let params = [
        ("MessagingBinding.Address", "+1415xxxxxxx"),
        ("MessagingBinding.Address", "+1325xxxxxxx"),
    ];
    assert_eq!(sign(U, &params, TOKEN), "83O6e2vORAoJHUNzJjDWN1jz+BA=");
    assert_eq!(
        check(U, &form(&params), "83O6e2vORAoJHUNzJjDWN1jz+BA="),
        Ok(())
    );
}

#[test]
fn vector_json_body_sha256() {
    let body = br#"{"property": "value", "boolean": true}"#;
    let hash = body_sha256(body);
    assert_eq!(
        hash,
        "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    );
    let url = format!("{U}&bodySHA256={hash}");
    let no_params: [(&str, &str); 0] = [];
    assert_eq!(
        sign(&url, &no_params, TOKEN),
        "a9nBmqA0ju/hNViExpshrM61xv4="
    );
    assert_eq!(check(&url, body, "a9nBmqA0ju/hNViExpshrM61xv4="), Ok(()));
    let tampered = br#"{"property": "value", "boolean": false}"#;
    let result = check(&url, tampered, "a9nBmqA0ju/hNViExpshrM61xv4=");
    assert_eq!(result, Err(SignatureFailure::Invalid));
}

#[test]
fn vector_json_empty_body_matches_only_with_443() {
    let hash = body_sha256(b"{}");
    assert_eq!(
        hash,
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    let url = format!("{U}&bodySHA256={hash}");
    let no_params: [(&str, &str); 0] = [];
    assert_ne!(
        sign(&url, &no_params, TOKEN),
        "Ldidvp12m26NI7eqEvxnEpkd9Hc="
    );
    assert_eq!(check(&url, b"{}", "Ldidvp12m26NI7eqEvxnEpkd9Hc="), Ok(()));
}

#[test]
fn failures_are_labelled() {
    let body = form(&p());
    let wrong_token = sign(U, &p(), "54321");
    assert_eq!(
        check(U, &body, &wrong_token),
        Err(SignatureFailure::Invalid)
    );
    let tampered = form(&[("CallSid", "CA1234567890ABCDE"), ("Digits", "9999")]);
    let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    assert_eq!(check(U, &tampered, good), Err(SignatureFailure::Invalid));
    let other_url = "https://evil.example/myapp.php?foo=1&bar=2";
    assert_eq!(
        check(other_url, &body, good),
        Err(SignatureFailure::Invalid)
    );
    let headers = HeaderMap::new();
    let unsigned = WebhookRequest {
        method: Method::POST,
        public_url: U,
        headers: &headers,
        body: &body,
    };
    let token = Secret::new(TOKEN);
    assert_eq!(
        verify(&unsigned, &token, None),
        Err(SignatureFailure::Missing)
    );
}

#[test]
fn url_variants_cover_ports_userinfo_and_ipv6() {
    assert_eq!(
        url_variants("https://h.com/p?q=1"),
        ["https://h.com/p?q=1", "https://h.com:443/p?q=1"]
    );
    assert_eq!(
        url_variants("http://u:p@h.com:80"),
        ["http://u:p@h.com:80", "http://u:p@h.com"]
    );
    assert_eq!(
        url_variants("https://[::1]/x"),
        ["https://[::1]/x", "https://[::1]:443/x"]
    );
    assert_eq!(
        url_variants("https://[::1]:8443/x"),
        ["https://[::1]:8443/x", "https://[::1]/x"]
    );
    assert_eq!(url_variants("not a url"), ["not a url"]);
}

/// Vectors computed with twilio-python 9.13's own `RequestValidator(key).compute_signature(U, P,
/// "HMAC_SHA256")` (its SHA-1 output for the same input is §10's `RSOYDt4T1cUTdK1PDd93/VVr8B8=`).
const SHA256_TOKEN: &str = "033hgUJA9M/hXIZsYjwkerEP/DBm35nEri5FhCYjA5s=";
const SHA256_TOKEN_PORT: &str = "grxRoa/VNtXxd524NGLxIdev83nh23xhrRUVm50Umq4=";
const SHA256_SHARED: &str = "iwOZCFCgsf1lZRuIVob5xh6MS+e56XvT2JyqSGp3ZtY=";

fn check_with(
    settings: &str,
    signature: &str,
    shared_key: Option<&str>,
) -> Result<(), SignatureFailure> {
    let mut headers = HeaderMap::new();
    headers.insert(HEADER, HeaderValue::from_str(signature).expect("ascii"));
    headers.insert(
        SETTINGS_HEADER,
        HeaderValue::from_str(settings).expect("ascii"),
    );
    let body = form(&p());
    let request = WebhookRequest {
        method: Method::POST,
        public_url: U,
        headers: &headers,
        body: &body,
    };
    let shared_key = shared_key.map(Secret::new);
    verify(&request, &Secret::new(TOKEN), shared_key.as_ref())
}

#[test]
fn hmac_sha256_matches_twilio_python() {
    assert_eq!(
        sign_with(U, &p(), TOKEN, Algorithm::HmacSha256),
        SHA256_TOKEN
    );
    let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    assert_eq!(
        sign_with(with_port, &p(), TOKEN, Algorithm::HmacSha256),
        SHA256_TOKEN_PORT
    );
    assert_eq!(
        sign_with(U, &p(), "shared-secret", Algorithm::HmacSha256),
        SHA256_SHARED
    );
    assert_eq!(
        sign_with(U, &p(), TOKEN, Algorithm::HmacSha1),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
}

#[test]
fn the_settings_header_picks_the_algorithm_as_the_sdk_reads_it() {
    let cases = [
        ("key=k1,algorithm=HMAC_SHA256", Some(Algorithm::HmacSha256)),
        (
            " algorithm = hmac_sha256 ,key=x",
            Some(Algorithm::HmacSha256),
        ),
        ("key=k1", Some(Algorithm::HmacSha1)),
        ("algorithm=", Some(Algorithm::HmacSha1)),
        ("", Some(Algorithm::HmacSha1)),
        ("algorithm=HMAC_SHA1", Some(Algorithm::HmacSha1)),
        ("algorithm=HMAC_SHA512", None),
    ];
    for (header, expected) in cases {
        assert_eq!(
            Algorithm::from_settings(Some(header)),
            expected,
            "{header:?}"
        );
    }
    assert_eq!(Algorithm::from_settings(None), Some(Algorithm::HmacSha1));
}

#[test]
fn sha256_webhooks_verify_with_the_shared_key_or_the_token() {
    let settings = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256";
    assert_eq!(
        check_with(settings, SHA256_SHARED, Some("shared-secret")),
        Ok(())
    );
    // Signed with the Auth Token (what the SDK does when given it), with or without a SharedKey.
    assert_eq!(check_with(settings, SHA256_TOKEN, None), Ok(()));
    assert_eq!(
        check_with(settings, SHA256_TOKEN_PORT, Some("shared-secret")),
        Ok(())
    );
    // The SharedKey is only ours to use when Twilio says it signed with it.
    assert_eq!(
        check_with(settings, SHA256_SHARED, None),
        Err(SignatureFailure::Invalid)
    );
    // A SHA-256 signature under a SHA-1 claim, or the reverse, does not verify.
    assert_eq!(
        check_with("key=k,algorithm=HMAC_SHA1", SHA256_TOKEN, None),
        Err(SignatureFailure::Invalid)
    );
    assert_eq!(
        check_with(settings, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", None),
        Err(SignatureFailure::Invalid)
    );
    assert_eq!(
        check_with("key=k,algorithm=HMAC_SHA512", SHA256_TOKEN, None),
        Err(SignatureFailure::Invalid),
        "an algorithm we do not know"
    );
}
