//! Property tests: nothing unsigned gets through, and no input makes verification panic.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use proptest::prelude::*;

use super::tests::{NOW, SIGNATURE_HEADERS, call, with};
use crate::carriers::fields::form_pairs;
use crate::carriers::telnyx::signature::tests::seed;
use crate::carriers::vonage::SignatureMethod;
use crate::carriers::webhook::{CarrierKind, WebhookError, WebhookRoute};
use crate::carriers::{telnyx, twilio, vonage};

fn any_kind() -> impl Strategy<Value = CarrierKind> {
    prop::sample::select(CarrierKind::ALL.to_vec())
}

fn any_route() -> impl Strategy<Value = WebhookRoute> {
    prop::sample::select(vec![WebhookRoute::Inbound, WebhookRoute::Status])
}

fn any_method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![Method::GET, Method::POST, Method::PUT])
}

fn any_url() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "https?://[a-z:@0-9.\\[\\]]{0,20}(/[a-z]{0,8}){0,3}(\\?[a-zA-Z0-9=&%+#-]{0,60})?"
    ]
}

fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        "[A-Za-z0-9=&%+.-]{0,120}".prop_map(String::into_bytes),
        r#"\{"data":\{"event_type":"message\.(received|sent|finalized)","payload":\{("id":"[a-z0-9]{0,4}",)?"to":\[(\{"status":"[a-z_]{0,12}","phone_number":"\+?[0-9]{0,16}"\})?\],"from":[\{\}"a-z0-9:,+_]{0,40},"errors":\[\{"code":[0-9"]{0,6}\}\],"parts":-?[0-9]{0,6}\}\}\}"#
            .prop_map(String::into_bytes),
        r#"\{("[a-z-]{1,10}":("[a-z0-9&=]{0,8}"|[0-9]{1,4}|true|null|\[\]|\{\}),?){0,6}\}"#.prop_map(String::into_bytes),
    ]
}

fn any_headers() -> impl Strategy<Value = HeaderMap> {
    let value = prop_oneof![
        any::<Vec<u8>>(),
        "[0-9]{1,12}".prop_map(String::into_bytes),
        "[A-Za-z0-9+/=]{0,100}".prop_map(String::into_bytes),
        Just(b"application/json".to_vec())
    ];
    prop::collection::vec((0..SIGNATURE_HEADERS.len(), value), 0..5).prop_map(|pairs| {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                headers.insert(SIGNATURE_HEADERS[name], value);
            }
        }
        headers
    })
}

fn any_vonage_params() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        "msisdn|to|messageId|text|type|status|err-code|concat|concat-ref|concat-total|concat-part",
        ".{0,6}"
    ];
    let value = prop_oneof![
        "[0-9]{0,16}",
        "true|binary|delivered|failed|unknown",
        ".{0,12}"
    ];
    prop::collection::vec((name, value), 0..12)
}

proptest! {
    /// Nothing unsigned gets through, and nothing panics, whatever the bytes.
    #[test]
    fn unsigned_input_is_always_a_signature_error(kind in any_kind(), route in any_route(), method in any_method(), url in any_url(), headers in any_headers(), body in any_body()) {
        let result = call(kind, route, method, &url, &headers, &body);
        prop_assert!(matches!(result, Err(WebhookError::Signature(_))), "{:?}", result);
    }

    /// Correctly signed junk reaches the parsers, which answer without panicking.
    #[test]
    fn signed_junk_is_parsed_or_malformed(route in any_route(), url in any_url(), body in any_body(), params in any_vonage_params(), json in any::<bool>()) {
        let sig = twilio::signature::sign(&url, &form_pairs(&body), "twilio-token");
        let headers = with(&[("x-twilio-signature", &sig)]);
        let result = call(CarrierKind::Twilio, route, Method::POST, &url, &headers, &body);
        prop_assert!(!matches!(result, Err(WebhookError::Signature(_))), "twilio {:?}", result);

        let sig = telnyx::signature::sign(&seed(), NOW, &body);
        let headers = with(&[("telnyx-signature-ed25519", &sig), ("telnyx-timestamp", "1700000000")]);
        let result = call(CarrierKind::Telnyx, route, Method::POST, &url, &headers, &body);
        prop_assert!(!matches!(result, Err(WebhookError::Signature(_))), "telnyx {:?}", result);

        // First value of a name wins, as in a JSON object only one can exist.
        let mut seen = std::collections::HashSet::new();
        let mut params: Vec<(String, String)> = params.into_iter().filter(|(k, _)| k != "sig" && k != "timestamp" && seen.insert(k.clone())).collect();
        params.push(("timestamp".into(), NOW.to_string()));
        let sig = vonage::signature::sign(&params, "vonage-secret", SignatureMethod::Sha256);
        params.push(("sig".into(), sig));
        let (body, content_type) = if json {
            let object: serde_json::Map<String, serde_json::Value> = params.into_iter().map(|(k, v)| (k, v.into())).collect();
            (serde_json::Value::Object(object).to_string(), "application/json")
        } else {
            (serde_urlencoded::to_string(&params).unwrap_or_default(), "application/x-www-form-urlencoded")
        };
        let headers = with(&[(header::CONTENT_TYPE.as_str(), content_type)]);
        let result = call(CarrierKind::Vonage, route, Method::POST, &url, &headers, body.as_bytes());
        prop_assert!(!matches!(result, Err(WebhookError::Signature(_))), "vonage {:?} {}", result, body);
    }
}
