//! A small client for the leader API (`/v1/...`): seed members, start a broadcast, watch it,
//! and read members and the inbox back to check the effects of a spike. It waits out the
//! per-key rate limit (429 + `Retry-After`) instead of failing.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Longest the client keeps retrying one rate-limited call.
const PATIENCE: Duration = Duration::from_secs(30);

/// The leader API of one community.
#[derive(Clone)]
pub struct LeaderApi {
    client: reqwest::Client,
    base: String,
    key: String,
}

/// `GET /v1/broadcasts/{id}`, the fields the scenarios read.
#[derive(Debug, Clone, Deserialize)]
pub struct BroadcastDetail {
    /// The broadcast's own fields (flattened in the answer).
    #[serde(flatten)]
    pub broadcast: BroadcastJson,
    /// Its messages by status.
    pub counts: Counts,
}

/// The broadcast itself.
#[derive(Debug, Clone, Deserialize)]
pub struct BroadcastJson {
    /// Its id, for polling.
    pub id: i64,
    /// `scheduled`, `fanning_out`, `sending`, `completed` or `cancelled`.
    pub status: String,
    /// Subscribed members when it was created.
    pub recipients: i64,
}

/// Messages of a broadcast by status.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize)]
pub struct Counts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub delivered: i64,
    pub undelivered: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl Counts {
    /// Rows fanned out so far.
    pub fn total(&self) -> i64 {
        self.queued
            + self.sending
            + self.sent
            + self.delivered
            + self.undelivered
            + self.failed
            + self.cancelled
    }

    /// Rows with a final answer from the carrier (or skipped).
    pub fn settled(&self) -> i64 {
        self.total() - self.queued - self.sending
    }
}

/// A member as listed.
#[derive(Debug, Clone, Deserialize)]
pub struct MemberJson {
    /// E.164.
    pub phone: String,
    /// When the JOIN (or import) took effect.
    pub subscribed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the STOP took effect: no send may reach the carrier after it.
    pub unsubscribed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// An inbox row.
#[derive(Debug, Clone, Deserialize)]
pub struct InboundJson {
    /// The member's number.
    pub from: String,
    /// What they texted, as received.
    pub body: String,
}

#[derive(Deserialize)]
struct MemberPage {
    members: Vec<MemberJson>,
    next: Option<i64>,
}

#[derive(Deserialize)]
struct InboundPage {
    messages: Vec<InboundJson>,
    next: Option<i64>,
}

impl LeaderApi {
    /// A client for the engine at `base` with key `key`.
    pub fn new(base: &str, key: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            client,
            base: base.to_owned(),
            key: key.to_owned(),
        })
    }

    /// Sends a request, retrying 429 (after `Retry-After`) and 503 for up to [`PATIENCE`].
    async fn call<T: DeserializeOwned>(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        what: &str,
    ) -> anyhow::Result<T> {
        let give_up = Instant::now() + PATIENCE;
        loop {
            let response = build(&self.client)
                .bearer_auth(&self.key)
                .send()
                .await
                .with_context(|| what.to_owned())?;
            let status = response.status();
            if status.is_success() {
                return response.json().await.with_context(|| what.to_owned());
            }
            let retryable = status.as_u16() == 429 || status.as_u16() == 503;
            if !retryable || Instant::now() > give_up {
                let body = response.text().await.unwrap_or_default();
                bail!("{what}: HTTP {status}: {body}");
            }
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<f64>().ok())
                .map_or(Duration::from_millis(200), |s| {
                    Duration::from_secs_f64(s.clamp(0.05, 5.0))
                });
            tokio::time::sleep(wait).await;
        }
    }

    /// Imports numbers as subscribed members, 100,000 per request (the API's cap).
    pub async fn import_members(&self, phones: &[String]) -> anyhow::Result<u64> {
        #[derive(Deserialize)]
        struct Imported {
            inserted: u64,
        }
        let mut inserted = 0;
        for chunk in phones.chunks(100_000) {
            let url = format!("{}/v1/members/import", self.base);
            let r: Imported = self
                .call(|c| c.post(&url).json(chunk), "importing members")
                .await?;
            inserted += r.inserted;
        }
        Ok(inserted)
    }

    /// Creates a broadcast to send now; returns its id.
    pub async fn create_broadcast(&self, body: &str) -> anyhow::Result<i64> {
        let url = format!("{}/v1/broadcasts", self.base);
        let key = format!("loadtest-{}", std::process::id());
        let r: BroadcastJson = self
            .call(
                |c| {
                    c.post(&url)
                        .header("Idempotency-Key", &key)
                        .json(&serde_json::json!({ "body": body }))
                },
                "creating the broadcast",
            )
            .await?;
        Ok(r.id)
    }

    /// The broadcast's status and counts.
    pub async fn broadcast(&self, id: i64) -> anyhow::Result<BroadcastDetail> {
        let url = format!("{}/v1/broadcasts/{id}", self.base);
        self.call(|c| c.get(&url), "reading the broadcast").await
    }

    /// Every member with `status` (`subscribed` or `unsubscribed`), paging 1,000 at a time.
    pub async fn members(&self, status: &str) -> anyhow::Result<Vec<MemberJson>> {
        let mut out = Vec::new();
        let mut after: Option<i64> = None;
        loop {
            let mut url = format!("{}/v1/members?status={status}&limit=1000", self.base);
            if let Some(a) = after {
                url.push_str(&format!("&after={a}"));
            }
            let page: MemberPage = self.call(|c| c.get(&url), "listing members").await?;
            out.extend(page.members);
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(out),
            }
        }
    }

    /// Every inbox row, paging 500 at a time.
    pub async fn inbox(&self) -> anyhow::Result<Vec<InboundJson>> {
        let mut out = Vec::new();
        let mut after: Option<i64> = None;
        loop {
            let mut url = format!("{}/v1/inbound?limit=500", self.base);
            if let Some(a) = after {
                url.push_str(&format!("&after={a}"));
            }
            let page: InboundPage = self.call(|c| c.get(&url), "reading the inbox").await?;
            out.extend(page.messages);
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(out),
            }
        }
    }
}
