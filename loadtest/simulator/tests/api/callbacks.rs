//! Status callbacks arrive signed, in order, and the queue stays bounded.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::routing::post;
use floodgate_sim::signing::verify_twilio_signature;
use floodgate_sim::{CallbackReport, SimConfig, SimHandle};
use tokio::sync::mpsc;

use crate::helpers::{FROM, SID, TO, TOKEN, spawn};

/// A callback as received: the full URL it was posted to, its signature and its form.
struct Received {
    url: String,
    signature: Option<String>,
    form: Vec<(String, String)>,
}

impl Received {
    fn get(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A receiver on 127.0.0.1:0 forwarding every callback to the returned channel.
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
                move |State(tx): State<mpsc::Sender<Received>>,
                      OriginalUri(uri): OriginalUri,
                      headers: HeaderMap,
                      body: String| async move {
                    let received = Received {
                        url: format!("http://{addr}{uri}"),
                        signature: headers
                            .get("x-twilio-signature")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                        form: serde_urlencoded::from_str(&body).unwrap_or_default(),
                    };
                    let _ = tx.send(received).await;
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

/// Polls the callback counters until `done` (at most 5 s), returning the last seen.
async fn settle(sim: &SimHandle, done: impl Fn(&CallbackReport) -> bool) -> CallbackReport {
    let mut callbacks = sim.report().callbacks;
    for _ in 0..50 {
        if done(&callbacks) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        callbacks = sim.report().callbacks;
    }
    callbacks
}

fn fast_callbacks() -> SimConfig {
    SimConfig {
        callback_delay: Duration::from_millis(20),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn sent_then_delivered_signed_for_the_exact_url() {
    let (addr, mut rx) = receiver().await;
    let t = spawn(fast_callbacks()).await;
    let url = format!("http://{addr}/status?leader=7&x=a%20b");
    let (status, body) = t
        .send(&[
            ("To", TO),
            ("From", FROM),
            ("Body", "hi"),
            ("StatusCallback", &url),
        ])
        .await;
    assert_eq!(status, 201);
    let sid = body["sid"].as_str().expect("sid").to_owned();

    for expected in ["sent", "delivered"] {
        let cb = next(&mut rx).await;
        assert_eq!(cb.url, url);
        let signature = cb.signature.as_deref().expect("signed");
        assert!(
            verify_twilio_signature(TOKEN, &url, &cb.form, signature),
            "signature verifies"
        );
        assert_eq!(cb.get("MessageStatus"), Some(expected));
        assert_eq!(cb.get("SmsStatus"), Some(expected));
        assert_eq!(cb.get("MessageSid"), Some(sid.as_str()));
        assert_eq!(cb.get("SmsSid"), Some(sid.as_str()));
        assert_eq!(cb.get("AccountSid"), Some(SID));
        assert_eq!((cb.get("From"), cb.get("To")), (Some(FROM), Some(TO)));
        assert_eq!(cb.get("ApiVersion"), Some("2010-04-01"));
        assert_eq!(cb.get("ErrorCode"), None);
    }
    // The receiver may see the callback before the simulator has read the answer.
    let callbacks = settle(&t.sim, |c| c.sent == 2).await;
    assert_eq!((callbacks.sent, callbacks.failed), (2, 0));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn undelivered_carries_30005_and_the_default_url_is_used() {
    let (addr, mut rx) = receiver().await;
    let config = SimConfig {
        undelivered_ratio: 1.0,
        default_callback_url: Some(format!("http://{addr}/status")),
        ..fast_callbacks()
    };
    let t = spawn(config).await;
    assert_eq!(t.sms(TO, "hi").await.0, 201);
    assert_eq!(next(&mut rx).await.get("MessageStatus"), Some("sent"));
    let last = next(&mut rx).await;
    assert_eq!(last.get("MessageStatus"), Some("undelivered"));
    assert_eq!(last.get("ErrorCode"), Some("30005"));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried_once_then_counted_failed() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/status", closed.local_addr().expect("addr"));
    drop(closed);
    let t = spawn(SimConfig {
        default_callback_url: Some(url),
        ..fast_callbacks()
    })
    .await;
    assert_eq!(t.sms(TO, "hi").await.0, 201);
    // `sent` fails, and the final status is still attempted, as a carrier would.
    let callbacks = settle(&t.sim, |c| c.failed == 2).await;
    assert_eq!(
        (callbacks.failed, callbacks.retried, callbacks.sent),
        (2, 2, 0)
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn a_full_queue_drops_callbacks_without_slowing_sends() {
    let (addr, _rx) = receiver().await;
    let config = SimConfig {
        callback_delay: Duration::from_secs(2),
        callback_queue: 1,
        callback_workers: 1,
        default_callback_url: Some(format!("http://{addr}/status")),
        ..SimConfig::default()
    };
    let t = spawn(config).await;
    for i in 0..5 {
        assert_eq!(t.sms(TO, &format!("m{i}")).await.0, 201);
    }
    // One job may already be with the dispatcher, one fits the queue: the rest drop.
    assert!(t.sim.report().callbacks.dropped >= 3);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn callbacks_can_be_switched_off() {
    let (addr, mut rx) = receiver().await;
    let config = SimConfig {
        callbacks: false,
        default_callback_url: Some(format!("http://{addr}/status")),
        ..fast_callbacks()
    };
    let t = spawn(config).await;
    assert_eq!(t.sms(TO, "hi").await.0, 201);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err()
    );
    t.sim.shutdown().await;
}
