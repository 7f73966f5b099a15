//! A webhook signed by the official Twilio SDK (twilio-python's `RequestValidator`, installed
//! from PyPI by `scripts/test`) is accepted; the same with one parameter changed is refused.

use std::collections::BTreeMap;

use super::helpers::{NUMBER_A, TWILIO_TOKEN, assert_problem, edge, member, twilio_inbound};
use crate::support::Backend;

const SIGN: &str = "import json, sys\n\
from twilio.request_validator import RequestValidator\n\
token, url, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])\n\
print(RequestValidator(token).compute_signature(url, params), end='')\n";

/// The signature twilio-python computes for `url` and `params`.
async fn sdk_signature(url: &str, params: &[(String, String)]) -> String {
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
        .arg(TWILIO_TOKEN)
        .arg(url)
        .arg(serde_json::to_string(&params).unwrap())
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

crate::both_backends!(a_webhook_signed_by_the_official_twilio_sdk_is_accepted);
