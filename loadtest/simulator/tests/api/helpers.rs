//! Spawning a simulator per test and sending to it.

use floodgate_sim::{SimConfig, SimHandle};
use serde_json::Value;

pub const SID: &str = "AC00000000000000000000000000000000";
pub const TOKEN: &str = "test-token";
pub const FROM: &str = "+15550001111";
pub const TO: &str = "+15552223333";

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
