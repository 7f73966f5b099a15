//! A webhook signed by the official Twilio SDK (twilio-python's `RequestValidator`, installed
//! from PyPI by `scripts/test`) is accepted; the same with one parameter changed is refused.
//! So is one signed with HMAC-SHA256 and a SharedKey, as twilio-python 9.x validates them.

use std::collections::BTreeMap;

use super::helpers::{
    NUMBER_A, TWILIO_SHARED_KEY, TWILIO_TOKEN, assert_problem, edge, member, twilio_inbound,
};
use crate::support::Backend;

const SIGN: &str = "import json, sys\n\
from twilio.request_validator import RequestValidator\n\
token, url, params, algorithm = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]\n\
print(RequestValidator(token).compute_signature(url, params, algorithm or None), end='')\n";

/// The signature twilio-python computes for `url` and `params` with the Auth Token.
async fn sdk_signature(url: &str, params: &[(String, String)]) -> String {
    sdk_signature_with(TWILIO_TOKEN, "", url, params).await
}

/// The signature twilio-python computes with `key` and `algorithm` (empty: its default).
async fn sdk_signature_with(
    key: &str,
    algorithm: &str,
    url: &str,
    params: &[(String, String)],
) -> String {
    let python = match std::env::var("FLOODGATE_TEST_PYTHON") {
        Ok(path) if !path.is_empty() => path,
        _ => panic!(
            "FLOODGATE_TEST_PYTHON is not set: this test signs a webhook with the official Twilio \
             SDK. Run the suite with `scripts/test`, which builds a venv with `twilio` from PyPI \
             and exports its python."
        ),
    };
    // Twilio never repeats these names, so a JSON object carries them exactly.
    let params: BTreeMap<&str, &str> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let output = tokio::process::Command::new(&python)
        .arg("-c")
        .arg(SIGN)
        .arg(key)
        .arg(url)
        .arg(serde_json::to_string(&params).unwrap())
        .arg(algorithm)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        output.status.success(),
        "twilio-python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("base64 signature")
}

async fn a_webhook_signed_by_the_official_twilio_sdk_is_accepted(backend: Backend) {
    let edge = edge(backend).await;
    // Characters the form encoding and the signature must both get right.
    let text = "Héllo & goodbye = 100% + ✓ 'quoted'";
    let params = twilio_inbound("SMsdk1", &member(1), NUMBER_A, text);
    let signature = sdk_signature(&edge.public_url("twilio", "inbound"), &params).await;

    let response = edge
        .twilio_with("inbound", &params, Some(signature.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let stored = edge.stored_text(edge.a.id, "SMsdk1").await;
    assert_eq!(stored.body, text);

    let mut changed = params.clone();
    let body = changed.iter_mut().find(|(k, _)| k == "Body").unwrap();
    body.1 = "Héllo & goodbye = 100% + ✓ 'quoted'!".into();
    let response = edge
        .twilio_with("inbound", &changed, Some(signature))
        .send()
        .await
        .unwrap();
    let detail = assert_problem(response, 403, "bad_signature").await;
    assert!(detail.contains("invalid"), "{detail}");
}

async fn an_hmac_sha256_shared_key_webhook_signed_by_the_sdk_is_accepted(backend: Backend) {
    let edge = edge(backend).await;
    let params = twilio_inbound("SMsha256", &member(2), NUMBER_A, "hello sha256");
    let url = edge.public_url("twilio", "inbound");
    let signature = sdk_signature_with(TWILIO_SHARED_KEY, "HMAC_SHA256", &url, &params).await;
    let settings = "key=webhooks_sharedkey_test,algorithm=HMAC_SHA256";

    let response = edge
        .twilio_with("inbound", &params, Some(signature.clone()))
        .header("X-Twilio-Webhooks-Signature-Settings", settings)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(
        edge.stored_text(edge.a.id, "SMsha256").await.body,
        "hello sha256"
    );

    // Without the header it would be an Auth Token HMAC-SHA1 signature: it is not one.
    let response = edge
        .twilio_with("inbound", &params, Some(signature.clone()))
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "bad_signature").await;
    // An algorithm the SDK does not know either is refused.
    let response = edge
        .twilio_with("inbound", &params, Some(signature))
        .header(
            "X-Twilio-Webhooks-Signature-Settings",
            "key=k,algorithm=HMAC_SHA512",
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "bad_signature").await;
}

crate::both_backends!(
    a_webhook_signed_by_the_official_twilio_sdk_is_accepted,
    an_hmac_sha256_shared_key_webhook_signed_by_the_sdk_is_accepted
);
