//! Leaders for API tests: a server without the pipeline, communities with a number and a key.

use floodgate::api::keys;
use floodgate::domain::PhoneNumber;
use floodgate::store::{NewCommunity, SenderKind};
use reqwest::{Method, RequestBuilder, Response};

use super::{
    Backend, TestApp, fresh_postgres_url, fresh_sqlite_url, spawn_app_opts, test_settings,
};

/// A server serving the API (no pipeline, so nothing reaches a carrier), ready for requests.
pub async fn spawn_api(backend: Backend) -> TestApp {
    let (dir, url) = match backend {
        Backend::Sqlite => {
            let (dir, url) = fresh_sqlite_url();
            (Some(dir), url)
        }
        Backend::Postgres => (None, fresh_postgres_url().await),
    };
    let app = spawn_app_opts(test_settings(&url), dir, false).await;
    app.wait_ready().await;
    app
}

/// A community with a Twilio number and an API key.
#[derive(Debug, Clone)]
pub struct Leader {
    pub community_id: i64,
    pub key: String,
}

impl TestApp {
    /// Creates a community sending from `number` through `twilio`, with a daily cap, and a key for it.
    pub async fn leader(&self, number: &str, daily_cap: Option<i64>) -> Leader {
        let store = &self.state.store;
        let mut new = NewCommunity::new(format!("community of {number}"));
        new.daily_message_cap = daily_cap;
        let community = store.create_community(&new).await.expect("community");
        let phone = PhoneNumber::parse(number).expect("test number");
        store
            .add_sender_number(community.id, "twilio", &phone, SenderKind::LongCode, None)
            .await
            .expect("sender");
        let (key, _) = keys::create(store, community.id).await.expect("key");
        Leader {
            community_id: community.id,
            key,
        }
    }

    /// Adds subscribed members `+1415555XXXX` for XXXX in `range`.
    pub async fn members(&self, leader: &Leader, range: std::ops::Range<u32>) {
        let phones: Vec<PhoneNumber> = range.map(test_phone).collect();
        self.state
            .store
            .import_members(leader.community_id, &phones, chrono::Utc::now())
            .await
            .expect("import");
    }

    /// A request with the leader's key.
    pub fn api(&self, leader: &Leader, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&leader.key)
    }

    /// POSTs a JSON body with the leader's key.
    pub async fn post_json(
        &self,
        leader: &Leader,
        path: &str,
        body: serde_json::Value,
    ) -> Response {
        self.api(leader, Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// GETs with the leader's key.
    pub async fn get_as(&self, leader: &Leader, path: &str) -> Response {
        self.api(leader, Method::GET, path)
            .send()
            .await
            .expect("request")
    }
}

/// The `n`th test phone number, `+1415555XXXX`.
pub fn test_phone(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1415555{n:04}")).expect("valid test number")
}

/// Reads a problem+json answer, checking the content type; returns the body.
pub async fn problem(response: Response, status: u16, code: &str) -> serde_json::Value {
    let actual = response.status().as_u16();
    let content_type = response.headers().get("content-type").cloned();
    let body: serde_json::Value = response.json().await.expect("json body");
    assert_eq!(actual, status, "status of {body}");
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{body}"
    );
    assert_eq!(body["code"], code, "{body}");
    body
}
