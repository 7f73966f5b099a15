//! Telnyx and Vonage status callbacks, verified by implementations written here from
//! carriers-reference (§2.3, §3.3), not by the simulator's own signing code.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use floodgate_sim::{Account, SimConfig, VonageSignatureMethod};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::helpers::{FROM, TELNYX_KEY, TO, VONAGE_KEY, VONAGE_SECRET, spawn, telnyx_account};

/// The public key carriers-reference §10 gives for the RFC 8032 TEST 1 seed, which is
/// the simulator's default Telnyx seed.
const REFERENCE_PUBLIC_KEY: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
const SIGNATURE_SECRET: &str = "dlr-secret";

/// A callback as received: headers and the raw body.
struct Received {
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn form(&self) -> BTreeMap<String, String> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&self.body)
            .unwrap_or_default()
            .into_iter()
            .collect()
    }
}

async fn receiver() -> (SocketAddr, mpsc::Receiver<Received>) {
    let (tx, rx) = mpsc::channel(64);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new()
        .route(
            "/status",
            post(
                |State(tx): State<mpsc::Sender<Received>>, headers: HeaderMap, body: String| async move {
                    let _ = tx.send(Received { headers, body }).await;
                },
            ),
        )
        .with_state(tx);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx)
}

async fn next(rx: &mut mpsc::Receiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a callback within 5 s")
        .expect("receiver alive")
}

/// Telnyx §2.3: Ed25519 over `timestamp|raw body`, timestamp within 300 s.
fn telnyx_verifies(received: &Received) -> bool {
    let key_bytes: [u8; 32] = STANDARD
        .decode(REFERENCE_PUBLIC_KEY)
        .expect("base64")
        .try_into()
        .expect("32 bytes");
    let key = VerifyingKey::from_bytes(&key_bytes).expect("a point");
    let timestamp = received.header("telnyx-timestamp");
    let Ok(signature) = STANDARD.decode(received.header("telnyx-signature-ed25519")) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(&signature) else {
        return false;
    };
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|ts| (chrono::Utc::now().timestamp() - ts).abs() <= 300);
    let signed = format!("{timestamp}|{}", received.body);
    fresh && key.verify_strict(signed.as_bytes(), &signature).is_ok()
}

/// Vonage §3.3 with HMAC-SHA256: sorted fields but `sig`, `&k=v` each, `&`/`=` in values
/// replaced by `_`, lower-case hex.
fn vonage_verifies(form: &BTreeMap<String, String>, secret: &str) -> bool {
    let mut message = String::new();
    for (name, value) in form.iter().filter(|(k, _)| *k != "sig") {
        message.push_str(&format!("&{name}={}", value.replace(['&', '='], "_")));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    form.get("sig").is_some_and(|sig| *sig == expected)
}

#[tokio::test]
async fn telnyx_events_are_signed_with_ed25519_over_timestamp_and_body() {
    let (addr, mut rx) = receiver().await;
    let t = spawn(SimConfig {
        accounts: vec![telnyx_account()],
        callback_delay: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await;
    assert_eq!(telnyx_account().telnyx_public_key(), REFERENCE_PUBLIC_KEY);
    let url = format!("http://{addr}/status?ref=m-1");
    let send = json!({ "from": FROM, "to": TO, "text": "hi", "webhook_url": url });
    let (status, answer) = t.telnyx_as(TELNYX_KEY, &send).await;
    assert_eq!(status, 200);
    let id = answer["data"]["id"].as_str().expect("id").to_owned();

    for (event_type, status) in [("message.sent", "sent"), ("message.finalized", "delivered")] {
        let cb = next(&mut rx).await;
        assert!(cb.header("content-type").starts_with("application/json"));
        assert!(telnyx_verifies(&cb), "signature verifies: {}", cb.body);
        let tampered = Received {
            headers: cb.headers.clone(),
            body: cb.body.replace(status, "queued"),
        };
        assert!(!telnyx_verifies(&tampered), "a changed body fails");
        let event: Value = serde_json::from_str(&cb.body).expect("JSON");
        assert_eq!(event["data"]["event_type"], event_type);
        assert_eq!(event["data"]["record_type"], "event");
        assert_eq!(event["data"]["payload"]["id"], id.as_str());
        assert_eq!(event["data"]["payload"]["to"][0]["status"], status);
        assert_eq!(event["data"]["payload"]["to"][0]["phone_number"], TO);
        assert_eq!(event["meta"]["delivered_to"], url.as_str());
    }
    t.sim.shutdown().await;
}

#[tokio::test]
async fn telnyx_failures_are_finalized_delivery_failed_40008() {
    let (addr, mut rx) = receiver().await;
    let t = spawn(SimConfig {
        accounts: vec![telnyx_account()],
        undelivered_ratio: 1.0,
        callback_delay: Duration::from_millis(20),
        default_callback_url: Some(format!("http://{addr}/status")),
        ..SimConfig::default()
    })
    .await;
    assert_eq!(t.telnyx(TO, "hi").await.0, 200);
    let _sent = next(&mut rx).await;
    let last = next(&mut rx).await;
    assert!(telnyx_verifies(&last));
    let event: Value = serde_json::from_str(&last.body).expect("JSON");
    assert_eq!(event["data"]["event_type"], "message.finalized");
    assert_eq!(
        event["data"]["payload"]["to"][0]["status"],
        "delivery_failed"
    );
    assert_eq!(event["data"]["payload"]["errors"][0]["code"], "40008");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn vonage_dlrs_come_per_part_signed_with_the_signature_secret() {
    let (addr, mut rx) = receiver().await;
    let account = Account {
        signature_secret: SIGNATURE_SECRET.to_owned(),
        signature_method: VonageSignatureMethod::Sha256,
        ..Account::vonage(VONAGE_KEY, VONAGE_SECRET)
    };
    let t = spawn(SimConfig {
        accounts: vec![account],
        callback_delay: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await;
    let callback = format!("http://{addr}/status");
    let text = "a".repeat(200);
    let (_, answer) = t
        .vonage_form(&[
            ("api_key", VONAGE_KEY),
            ("api_secret", VONAGE_SECRET),
            ("from", "15550001111"),
            ("to", "15552223333"),
            ("text", &text),
            ("client-ref", "m-7"),
            ("callback", &callback),
        ])
        .await;
    let ids: Vec<String> = answer["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["message-id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{answer}");

    for status in ["accepted", "delivered"] {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let cb = next(&mut rx).await;
            assert!(cb.header("content-type").contains("x-www-form-urlencoded"));
            let form = cb.form();
            assert!(vonage_verifies(&form, SIGNATURE_SECRET), "{form:?}");
            assert!(!vonage_verifies(&form, "another secret"));
            assert_eq!(form["status"], status);
            assert_eq!(form["err-code"], "0");
            assert_eq!(form["msisdn"], "15552223333");
            assert_eq!(form["to"], "15550001111");
            assert_eq!(form["client-ref"], "m-7");
            assert_eq!(form["api-key"], VONAGE_KEY);
            let ts: i64 = form["timestamp"].parse().expect("unix seconds");
            assert!((chrono::Utc::now().timestamp() - ts).abs() <= 300);
            seen.push(form["messageId"].clone());
        }
        seen.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(seen, expected, "one DLR per part");
    }
    t.sim.shutdown().await;
}

#[tokio::test]
async fn vonage_dlrs_are_unsigned_without_a_secret() {
    let (addr, mut rx) = receiver().await;
    let account = Account {
        signature_secret: String::new(),
        ..Account::vonage(VONAGE_KEY, VONAGE_SECRET)
    };
    let t = spawn(SimConfig {
        accounts: vec![account],
        undelivered_ratio: 1.0,
        callback_delay: Duration::from_millis(20),
        default_callback_url: Some(format!("http://{addr}/status")),
        ..SimConfig::default()
    })
    .await;
    assert_eq!(t.vonage(TO, "hi").await.1["messages"][0]["status"], "0");
    let _accepted = next(&mut rx).await;
    let form = next(&mut rx).await.form();
    assert_eq!(
        (form["status"].as_str(), form["err-code"].as_str()),
        ("failed", "3")
    );
    assert!(!form.contains_key("sig") && !form.contains_key("timestamp"));
    t.sim.shutdown().await;
}
