//! A carrier on loopback for adapter tests: records each request, answers with a canned response.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::client::CarrierClient;
use super::outbound::{OutboundSms, SendOutcome};
use super::transport::Timeouts;
use crate::config::{CarrierProfile, LimitUnit, Limits, Secret};
use crate::domain::{MessageBody, PhoneNumber};

/// Short enough that the timeout test takes a fraction of a second.
pub(crate) const TEST_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(1),
    request: Duration::from_millis(300),
};

/// What the fixture answers, written from the carrier reference.
#[derive(Debug, Clone)]
pub(crate) struct Canned {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

impl Canned {
    /// A JSON (or any) body with this status.
    pub(crate) fn new(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// Answer only after `delay`, to outlast the client's timeout.
    pub(crate) fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request as the fixture received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub method: Method,
    /// Path and query.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The form body as a map; panics on a repeated key, which no adapter should send.
    pub(crate) fn form(&self) -> BTreeMap<String, String> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect();
        let map: BTreeMap<String, String> = pairs.iter().cloned().collect();
        assert_eq!(map.len(), pairs.len(), "repeated form keys: {pairs:?}");
        map
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// The running fixture; the server task ends when this is dropped.
pub(crate) struct Fixture {
    pub base: url::Url,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fixture {
    /// Binds 127.0.0.1:0 and answers every request on any path with `canned`.
    pub(crate) async fn start(canned: Canned) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (seen, canned) = (seen.clone(), canned.clone());
                async move {
                    let uri = uri.to_string();
                    let record = Recorded {
                        method,
                        uri,
                        headers,
                        body,
                    };
                    seen.lock().expect("fixture lock").push(record);
                    tokio::time::sleep(canned.delay).await;
                    respond(&canned)
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let base = url::Url::parse(&format!("http://{addr}")).expect("fixture url");
        Self {
            base,
            requests,
            task,
        }
    }

    /// The single request the test expects the adapter to have made.
    pub(crate) fn only_request(&self) -> Recorded {
        let seen = self.requests.lock().expect("fixture lock");
        assert_eq!(seen.len(), 1, "expected exactly one request: {seen:?}");
        seen[0].clone()
    }
}

fn respond(canned: &Canned) -> Response {
    let status = StatusCode::from_u16(canned.status).expect("canned status");
    let mut response = (status, canned.body.clone()).into_response();
    for (name, value) in &canned.headers {
        let value = HeaderValue::from_str(value).expect("canned header");
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
    response
}

/// A profile for `adapter` pointing at `base`, with these secrets already read.
pub(crate) fn profile(adapter: &str, base: &url::Url, secrets: &[(&str, &str)]) -> CarrierProfile {
    CarrierProfile {
        name: format!("{adapter}-test"),
        adapter: adapter.to_owned(),
        api_base: base.clone(),
        credentials: secrets
            .iter()
            .map(|(k, _)| ((*k).to_owned(), format!("TEST_{}", k.to_uppercase())))
            .collect(),
        limits: Limits {
            rate_per_second: 10.0,
            burst: 1,
            max_in_flight: 4,
            unit: LimitUnit::Requests,
            daily_cap: None,
        },
        sender_defaults: Default::default(),
        senders: Vec::new(),
        secrets: secrets
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Secret::new(*v)))
            .collect(),
    }
}

/// A URL where nothing listens: a port that was just bound and released.
pub(crate) fn refused_base() -> url::Url {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    url::Url::parse(&format!("http://{addr}")).expect("url")
}

/// The message most tests send.
pub(crate) struct Sample {
    pub to: PhoneNumber,
    pub body: MessageBody,
}

impl Sample {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            to: PhoneNumber::parse("+14155550123").expect("test number"),
            body: MessageBody::parse(text).expect("test body"),
        }
    }

    pub(crate) fn sms<'a>(&'a self, from: &'a str) -> OutboundSms<'a> {
        OutboundSms {
            to: &self.to,
            from,
            body: &self.body,
            status_callback: None,
            reference: None,
        }
    }
}

/// Starts a fixture answering `canned`, sends `sms` through a client for `profile`, and returns
/// the outcome with the request the fixture saw.
pub(crate) async fn exchange(
    adapter: &str,
    secrets: &[(&str, &str)],
    canned: Canned,
    sms: &OutboundSms<'_>,
) -> (SendOutcome, Recorded) {
    let fixture = Fixture::start(canned).await;
    let client =
        CarrierClient::from_profile_with(&profile(adapter, &fixture.base, secrets), TEST_TIMEOUTS)
            .expect("client");
    let outcome = client.send(sms).await;
    (outcome, fixture.only_request())
}

/// Sends to a port where nothing listens.
pub(crate) async fn send_refused(
    adapter: &str,
    secrets: &[(&str, &str)],
    sms: &OutboundSms<'_>,
) -> SendOutcome {
    let client = CarrierClient::from_profile_with(
        &profile(adapter, &refused_base(), secrets),
        TEST_TIMEOUTS,
    )
    .expect("client");
    client.send(sms).await
}
