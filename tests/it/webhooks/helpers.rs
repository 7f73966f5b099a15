//! One running edge per test: two communities with their numbers, every carrier configured
//! under a profile name of its own (so metric labels belong to this test alone), and signed
//! request builders in each carrier's wire format.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use floodgate::carriers::telnyx::signature as telnyx;
use floodgate::carriers::twilio::signature as twilio;
use floodgate::carriers::vonage::SignatureMethod;
use floodgate::carriers::vonage::signature as vonage;
use floodgate::domain::{MessageStatus, PhoneNumber};
use floodgate::store::{
    Community, Inbound, Member, Message, NewCommunity, NewTransactional, SenderKind, Store,
};
use reqwest::RequestBuilder;
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, carrier_profiles, spawn_app_with_profiles_opts};

pub const TWILIO_TOKEN: &str = "twilio-test-auth-token";
/// The SharedKey secret the Twilio profile holds for HMAC-SHA256 webhooks.
pub const TWILIO_SHARED_KEY: &str = "twilio-test-shared-key-secret";
/// RFC 8032 §7.1 TEST 1 secret; its public key is what the Telnyx profile trusts.
pub const TELNYX_SEED: [u8; 32] = [
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
];
pub const VONAGE_SECRET: &str = "vonage-test-signature-secret";
pub const VONAGE_METHOD: SignatureMethod = SignatureMethod::Sha256;

/// Community A's number (join keyword `JOIN`).
pub const NUMBER_A: &str = "+18005550101";
/// Community B's number (join keyword `RALLY`).
pub const NUMBER_B: &str = "+18005550102";
/// A number no community owns.
pub const UNKNOWN_NUMBER: &str = "+18005550199";

/// How long the pipeline gets to process one webhook before a test gives up.
const PATIENCE: Duration = Duration::from_secs(20);

/// A member's phone, distinct for each `n`.
pub fn member(n: u32) -> String {
    format!("+1415555{n:04}")
}

pub fn phone(text: &str) -> PhoneNumber {
    PhoneNumber::parse(text).expect("test number is E.164")
}

/// A running Floodgate with two communities, each owning one number.
pub struct Edge {
    pub app: TestApp,
    /// Suffix of this test's profile names (`twilio-<tag>`), so its metrics are its own.
    tag: String,
    pub a: Community,
    pub b: Community,
}

/// Starts the edge on `backend` with webhook credentials for all three carriers (and no send
/// credentials, so keyword replies stay `queued`: nothing leaves the machine).
pub async fn edge(backend: Backend) -> Edge {
    edge_with(backend, true).await
}

/// As [`edge`]; with `run_pipeline = false` no stage runs, so texts wait in their queue.
pub async fn edge_with(backend: Backend, run_pipeline: bool) -> Edge {
    let telnyx_key = telnyx::public_key(&TELNYX_SEED);
    let env = [
        ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
        ("TWILIO_WEBHOOK_SHARED_KEY", TWILIO_SHARED_KEY),
        ("TELNYX_PUBLIC_KEY", telnyx_key.as_str()),
        ("VONAGE_SIGNATURE_SECRET", VONAGE_SECRET),
        ("VONAGE_SIGNATURE_METHOD", VONAGE_METHOD.as_str()),
    ];
    let tag = format!("{:08x}", rand::random::<u32>());
    let mut profiles = carrier_profiles(&env);
    for profile in &mut profiles {
        profile.name = format!("{}-{tag}", profile.name);
    }
    let app = spawn_app_with_profiles_opts(backend, profiles, run_pipeline).await;
    app.wait_ready().await;
    let store = &app.state.store;
    let a = community(
        store,
        NewCommunity::new("A"),
        NUMBER_A,
        &format!("twilio-{tag}"),
    )
    .await;
    let mut rally = NewCommunity::new("B");
    rally.join_keyword = "rally".into();
    rally.welcome_reply = "Welcome to B".into();
    let b = community(store, rally, NUMBER_B, &format!("twilio-{tag}")).await;
    Edge { app, tag, a, b }
}

async fn community(store: &Store, new: NewCommunity, number: &str, carrier: &str) -> Community {
    let community = store.create_community(&new).await.expect("community");
    store
        .add_sender_number(
            community.id,
            carrier,
            &phone(number),
            SenderKind::LongCode,
            None,
        )
        .await
        .expect("sender number");
    community
}

impl Edge {
    pub fn store(&self) -> &Store {
        &self.app.state.store
    }

    /// This test's profile name for `carrier` (`twilio`, `telnyx`, `vonage`).
    pub fn carrier(&self, carrier: &str) -> String {
        format!("{carrier}-{}", self.tag)
    }

    fn path(&self, carrier: &str, route: &str) -> String {
        format!("/webhooks/{}/{route}", self.carrier(carrier))
    }

    /// Where the test posts (loopback).
    pub fn url(&self, carrier: &str, route: &str) -> String {
        format!("{}{}", self.app.base, self.path(carrier, route))
    }

    /// The URL as the carrier sees it (`FLOODGATE_PUBLIC_URL` + path): what Twilio signs.
    pub fn public_url(&self, carrier: &str, route: &str) -> String {
        let base = self.app.state.settings.public_url.as_str();
        format!(
            "{}{}",
            base.trim_end_matches('/'),
            self.path(carrier, route)
        )
    }

    /// A Twilio form POST carrying `signature` (none: no header at all).
    pub fn twilio_with(
        &self,
        route: &str,
        params: &[(String, String)],
        signature: Option<String>,
    ) -> RequestBuilder {
        let body = serde_urlencoded::to_string(params).expect("form encodes");
        let mut request = self
            .app
            .client
            .post(self.url("twilio", route))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(signature) = signature {
            request = request.header(twilio::HEADER, signature);
        }
        request
    }

    /// A Twilio form POST signed with the profile's token.
    pub fn twilio(&self, route: &str, params: &[(String, String)]) -> RequestBuilder {
        let signature = twilio::sign(&self.public_url("twilio", route), params, TWILIO_TOKEN);
        self.twilio_with(route, params, Some(signature))
    }

    /// A member's text as Twilio posts it, built and signed by the carrier simulator (its own
    /// implementation of the signature, independent of Floodgate's).
    pub fn twilio_text(&self, sid: &str, from: &str, to: &str, body: &str) -> RequestBuilder {
        let hook = floodgate_sim::inbound::signed_twilio_inbound(
            &self.public_url("twilio", "inbound"),
            TWILIO_TOKEN,
            sid,
            from,
            to,
            body,
        );
        self.app
            .client
            .post(self.url("twilio", "inbound"))
            .header("content-type", hook.content_type)
            .header(hook.signature_header.0, hook.signature_header.1)
            .body(hook.body)
    }

    /// A Telnyx JSON POST with explicit timestamp and signature headers (none: header left out).
    pub fn telnyx_with(
        &self,
        route: &str,
        body: impl Into<Vec<u8>>,
        timestamp: Option<i64>,
        signature: Option<String>,
    ) -> RequestBuilder {
        let mut request = self
            .app
            .client
            .post(self.url("telnyx", route))
            .header("content-type", "application/json")
            .body(body.into());
        if let Some(ts) = timestamp {
            request = request.header(telnyx::TIMESTAMP_HEADER, ts.to_string());
        }
        if let Some(signature) = signature {
            request = request.header(telnyx::SIGNATURE_HEADER, signature);
        }
        request
    }

    /// A Telnyx JSON POST signed now with the portal key.
    pub fn telnyx(&self, route: &str, body: impl Into<Vec<u8>>) -> RequestBuilder {
        let body = body.into();
        let ts = Utc::now().timestamp();
        let signature = telnyx::sign(&TELNYX_SEED, ts, &body);
        self.telnyx_with(route, body, Some(ts), Some(signature))
    }

    /// A Vonage form POST of `params` as given (sign them first with [`vonage_signed`]).
    pub fn vonage_post(&self, route: &str, params: &[(String, String)]) -> RequestBuilder {
        self.app
            .client
            .post(self.url("vonage", route))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(params).expect("form encodes"))
    }

    /// A Vonage GET with `params` in the query string.
    pub fn vonage_get(&self, route: &str, params: &[(String, String)]) -> RequestBuilder {
        let query = serde_urlencoded::to_string(params).expect("query encodes");
        self.app
            .client
            .get(format!("{}?{query}", self.url("vonage", route)))
    }

    /// A metric's value for this test's profile of `carrier`, plus any other labels.
    pub async fn metric(&self, name: &str, carrier: &str, labels: &[(&str, &str)]) -> f64 {
        let carrier = self.carrier(carrier);
        let mut all = vec![("carrier", carrier.as_str())];
        all.extend_from_slice(labels);
        metric(&self.app, name, &all).await
    }

    /// Community `community_id`'s inbound texts, oldest first.
    pub async fn inbound(&self, community_id: i64) -> Vec<Inbound> {
        self.store()
            .inbound_page(community_id, None, 1000)
            .await
            .expect("inbound page")
    }

    /// Waits until the pipeline stored the text with this provider id, and returns it.
    pub async fn stored_text(&self, community_id: i64, provider_id: &str) -> Inbound {
        eventually(&format!("inbound {provider_id} stored"), || async {
            self.inbound(community_id)
                .await
                .into_iter()
                .find(|i| i.provider_message_id == provider_id)
        })
        .await
    }

    /// The reply queued for an inbound text, if any.
    pub async fn reply_to(&self, inbound: &Inbound) -> Option<Message> {
        let (id, _) = self
            .store()
            .reply_for_inbound(inbound.id)
            .await
            .expect("reply")?;
        self.store().message(id).await.expect("message")
    }

    pub async fn member(&self, community_id: i64, number: &str) -> Option<Member> {
        self.store()
            .member_by_phone(community_id, &phone(number))
            .await
            .expect("member")
    }

    /// Rows of `table` in the whole database (raw SQL, so nothing is hidden by an API).
    pub async fn count(&self, table: &str) -> i64 {
        use sqlx::Connection;
        let url = self.app.state.settings.database_url.as_str().to_owned();
        let sql = format!("SELECT COUNT(*) FROM {table}");
        if url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
            sqlx::query_scalar(&sql)
                .fetch_one(&mut conn)
                .await
                .expect("count")
        } else {
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("postgres");
            sqlx::query_scalar(&sql)
                .fetch_one(&mut conn)
                .await
                .expect("count")
        }
    }
}

/// Twilio's inbound fields (§1.2) for a text.
pub fn twilio_inbound(sid: &str, from: &str, to: &str, body: &str) -> Vec<(String, String)> {
    pairs(&[
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("From", from),
        ("To", to),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
    ])
}

/// Twilio's status callback fields (§1.3); `ErrorCode` only when given.
pub fn twilio_status(sid: &str, status: &str, error_code: Option<&str>) -> Vec<(String, String)> {
    let mut fields = pairs(&[
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("MessageStatus", status),
        ("SmsStatus", status),
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("From", NUMBER_A),
        ("To", "+14155550100"),
        ("ApiVersion", "2010-04-01"),
    ]);
    if let Some(code) = error_code {
        fields.push(("ErrorCode".into(), code.into()));
    }
    fields
}

/// A Telnyx `message.received` event (§2.2).
pub fn telnyx_inbound(id: &str, from: &str, to: &str, text: &str) -> String {
    telnyx_event(
        "message.received",
        json!({
            "id": id, "record_type": "message", "direction": "inbound", "type": "SMS",
            "text": text, "from": {"phone_number": from, "carrier": "T-Mobile"},
            "to": [{"phone_number": to, "status": "webhook_delivered"}],
            "parts": 1, "encoding": "GSM-7", "media": [],
        }),
    )
}

/// A Telnyx `message.sent` / `message.finalized` event for a message we sent.
pub fn telnyx_status(event: &str, id: &str, status: &str, error_code: Option<&str>) -> String {
    let errors: Vec<Value> = error_code
        .map(|code| json!({"code": code, "title": "Undeliverable"}))
        .into_iter()
        .collect();
    telnyx_event(
        event,
        json!({
            "id": id, "record_type": "message", "direction": "outbound", "text": "hi",
            "from": {"phone_number": NUMBER_A},
            "to": [{"phone_number": "+14155550100", "status": status}],
            "errors": errors,
        }),
    )
}

fn telnyx_event(event_type: &str, payload: Value) -> String {
    json!({
        "data": {
            "event_type": event_type,
            "id": format!("evt-{}", rand::random::<u64>()),
            "occurred_at": Utc::now().to_rfc3339(),
            "payload": payload,
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.com/webhooks/telnyx"},
    })
    .to_string()
}

/// Vonage's inbound fields (§3.2), numbers as digits without `+`; unsigned.
pub fn vonage_inbound(id: &str, from: &str, to: &str, text: &str) -> Vec<(String, String)> {
    let keyword = text.split_whitespace().next().unwrap_or("").to_uppercase();
    pairs(&[
        ("msisdn", from.trim_start_matches('+')),
        ("to", to.trim_start_matches('+')),
        ("messageId", id),
        ("text", text),
        ("type", "text"),
        ("keyword", &keyword),
        ("api-key", "abcd1234"),
        ("message-timestamp", "2024-01-01 00:00:00"),
    ])
}

/// Vonage's delivery receipt fields (§3.2); unsigned.
pub fn vonage_dlr(id: &str, status: &str, err_code: &str) -> Vec<(String, String)> {
    pairs(&[
        ("msisdn", "14155550100"),
        ("to", NUMBER_A.trim_start_matches('+')),
        ("network-code", "310090"),
        ("messageId", id),
        ("price", "0.00570000"),
        ("status", status),
        ("scts", "2401010000"),
        ("err-code", err_code),
        ("api-key", "abcd1234"),
        ("message-timestamp", "2024-01-01 00:00:00"),
    ])
}

/// Adds `timestamp` (now), `nonce` and a valid `sig`, as Vonage does when signing is on.
pub fn vonage_signed(mut params: Vec<(String, String)>) -> Vec<(String, String)> {
    params.push(("timestamp".into(), Utc::now().timestamp().to_string()));
    params.push(("nonce".into(), format!("{:x}", rand::random::<u64>())));
    let sig = vonage::sign(&params, VONAGE_SECRET, VONAGE_METHOD);
    params.push(("sig".into(), sig));
    params
}

pub fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Polls `probe` until it yields something, failing the test after a bounded wait.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up after {PATIENCE:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The sum of a metric's samples whose labels include all of `labels` (0 when absent).
pub async fn metric(app: &TestApp, name: &str, labels: &[(&str, &str)]) -> f64 {
    let text = app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics body");
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            let (label_text, value) = match rest.strip_prefix('{') {
                Some(rest) => rest.split_once("} ")?,
                None => ("", rest.strip_prefix(' ')?),
            };
            let matches = labels
                .iter()
                .all(|(k, v)| label_text.split(',').any(|l| l == format!("{k}=\"{v}\"")));
            matches.then(|| value.trim().parse::<f64>().ok()).flatten()
        })
        .sum()
}

/// Asserts a problem answer: its status, content type and stable `code`; returns its `detail`.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        kind.starts_with("application/problem+json"),
        "content type {kind}"
    );
    let body: Value = response.json().await.expect("problem is JSON");
    assert_eq!(body["code"], code, "{body}");
    body["detail"].as_str().unwrap_or_default().to_owned()
}

impl Edge {
    /// A reply from community A that `carrier` accepted as `provider_id` (status `sent`).
    pub async fn sent_message(&self, carrier: &str, provider_id: &str) -> i64 {
        let to = phone(&member(900));
        let from = phone(NUMBER_A);
        let new = NewTransactional {
            community_id: self.a.id,
            member_id: None,
            to: &to,
            from: Some(&from),
            carrier: &self.carrier(carrier),
            body: "hello",
            at: Utc::now(),
        };
        let id = self
            .store()
            .insert_transactional_message(&new)
            .await
            .expect("message");
        let recorded = self
            .store()
            .record_send_result(id, Some(provider_id), MessageStatus::Sent, None)
            .await
            .expect("send result");
        assert!(recorded, "message {id} recorded as sent");
        id
    }

    /// The message now, as stored.
    pub async fn message(&self, id: i64) -> Message {
        self.store()
            .message(id)
            .await
            .expect("message")
            .expect("message exists")
    }

    /// Waits until message `id` has `status`.
    pub async fn wait_status(&self, id: i64, status: MessageStatus) -> Message {
        eventually(&format!("message {id} {status:?}"), || async {
            let message = self.message(id).await;
            (message.status == status).then_some(message)
        })
        .await
    }

    /// Posts an ordinary text and waits until it is stored: once it is, every webhook posted
    /// before it has been answered, so "nothing was stored" can be checked without sleeping.
    pub async fn barrier(&self, provider_id: &str) {
        let response = self
            .twilio_text(provider_id, &member(999), NUMBER_A, "just saying hi")
            .send()
            .await
            .expect("barrier request");
        assert_eq!(response.status(), 200, "barrier accepted");
        self.stored_text(self.a.id, provider_id).await;
    }
}
