//! Spawning a simulator per test and sending to it.

use floodgate_sim::{Account, SimConfig, SimHandle};
use serde_json::Value;

pub const SID: &str = "AC00000000000000000000000000000000";
pub const TOKEN: &str = "test-token";
pub const FROM: &str = "+15550001111";
pub const TO: &str = "+15552223333";
pub const TELNYX_KEY: &str = "KEYtelnyx-test";
pub const VONAGE_KEY: &str = "vonage-key";
pub const VONAGE_SECRET: &str = "vonage-secret";

pub struct TestSim {
    pub sim: SimHandle,
    pub client: reqwest::Client,
}

/// A simulator with `config` (listening on 127.0.0.1:0) and a client without proxies.
pub async fn spawn(config: SimConfig) -> TestSim {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .try_init();
    }
    let sim = floodgate_sim::start(config)
        .await
        .expect("simulator starts");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client builds");
    TestSim { sim, client }
}

impl TestSim {
    pub fn messages_url(&self, account: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{account}/Messages.json",
            self.sim.base_url()
        )
    }

    /// Sends as the default account with the default token.
    pub async fn send(&self, form: &[(&str, &str)]) -> (u16, Value) {
        self.send_as(SID, TOKEN, form).await
    }

    pub async fn send_as(&self, sid: &str, token: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .client
            .post(self.messages_url(sid))
            .basic_auth(sid, Some(token))
            .form(form)
            .send()
            .await
            .expect("simulator answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// `POST /v2/messages` with `key` as the Bearer token and `body` as JSON.
    pub async fn telnyx_as(&self, key: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/v2/messages", self.sim.base_url()))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("simulator answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// A Telnyx send from `FROM` as the engine's adapter builds it.
    pub async fn telnyx(&self, to: &str, text: &str) -> (u16, Value) {
        let body = serde_json::json!({ "from": FROM, "to": to, "text": text });
        self.telnyx_as(TELNYX_KEY, &body).await
    }

    /// `POST /sms/json` with `form` (credentials included by the caller).
    pub async fn vonage_form(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/sms/json", self.sim.base_url()))
            .form(form)
            .send()
            .await
            .expect("simulator answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// A Vonage send as the engine's adapter builds it: digits without `+`.
    pub async fn vonage(&self, to: &str, text: &str) -> (u16, Value) {
        let to = to.trim_start_matches('+');
        let from = FROM.trim_start_matches('+');
        self.vonage_form(&[
            ("api_key", VONAGE_KEY),
            ("api_secret", VONAGE_SECRET),
            ("from", from),
            ("to", to),
            ("text", text),
            ("type", "text"),
        ])
        .await
    }

    pub async fn sms(&self, to: &str, body: &str) -> (u16, Value) {
        self.send(&[("To", to), ("From", FROM), ("Body", body)])
            .await
    }
}

/// Asserts a Twilio-shaped error body.
pub fn assert_twilio_error(body: &Value, status: u16, code: u64) {
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(
        body["more_info"],
        format!("https://www.twilio.com/docs/errors/{code}")
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// The Telnyx account the helpers send as.
pub fn telnyx_account() -> Account {
    Account::telnyx("telnyx-test", TELNYX_KEY)
}

/// The Vonage account the helpers send as.
pub fn vonage_account() -> Account {
    Account::vonage(VONAGE_KEY, VONAGE_SECRET)
}

/// One account per carrier: the default Twilio one, Telnyx and Vonage.
pub fn all_carriers() -> SimConfig {
    SimConfig {
        accounts: vec![Account::default(), telnyx_account(), vonage_account()],
        ..SimConfig::default()
    }
}

/// Asserts a Telnyx-shaped error body with one error of `code`.
pub fn assert_telnyx_error(body: &Value, code: &str) {
    assert_eq!(body["errors"][0]["code"], code, "{body}");
    assert!(
        body["errors"][0]["title"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}

/// Asserts a Vonage refusal: one entry whose `status` is `status`.
pub fn assert_vonage_status(body: &Value, status: &str) {
    assert_eq!(body["message-count"], "1", "{body}");
    assert_eq!(body["messages"][0]["status"], status, "{body}");
    assert!(
        body["messages"][0]["error-text"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}
