//! The broadcast as leaders see it, and the progress shown while it sends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Encoding;
use crate::store::{Broadcast, BroadcastStatus, StatusCounts};

/// `POST /v1/broadcasts` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBroadcastRequest {
    /// The text; GSM-7 or UCS-2 is chosen from its characters. 1 to 1,600 characters.
    pub body: String,
    /// When to start sending (RFC 3339); now when absent or past.
    pub send_at: Option<String>,
}

/// A broadcast.
#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastJson {
    pub id: i64,
    /// `scheduled`, `fanning_out`, `sending`, `completed` or `cancelled`.
    pub status: String,
    pub body: String,
    /// `gsm7` or `ucs2`.
    pub encoding: String,
    /// SMS segments each recipient receives (what carriers bill).
    pub segments: u32,
    /// Subscribed members when the broadcast was accepted.
    pub recipients: i64,
    pub send_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl From<&Broadcast> for BroadcastJson {
    fn from(b: &Broadcast) -> Self {
        Self {
            id: b.id,
            status: b.status.as_str().to_owned(),
            body: b.body.text().to_owned(),
            encoding: match b.body.encoding() {
                Encoding::Gsm7 => "gsm7",
                Encoding::Ucs2 => "ucs2",
            }
            .to_owned(),
            segments: b.body.segments(),
            recipients: b.recipients,
            send_at: DateTime::from_timestamp_millis(b.send_at_ms).unwrap_or(b.created_at),
            created_at: b.created_at,
            completed_at: b.completed_at,
            cancelled_at: b.cancelled_at,
        }
    }
}

/// Messages per status.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountsJson {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub delivered: i64,
    pub undelivered: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl From<StatusCounts> for CountsJson {
    fn from(c: StatusCounts) -> Self {
        Self {
            queued: c.queued,
            sending: c.sending,
            sent: c.sent,
            delivered: c.delivered,
            undelivered: c.undelivered,
            failed: c.failed,
            cancelled: c.cancelled,
        }
    }
}

/// A broadcast with its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastDetail {
    #[serde(flatten)]
    pub broadcast: BroadcastJson,
    pub counts: CountsJson,
    /// Messages not yet handed to a carrier (including those not fanned out yet).
    pub remaining: i64,
    /// Seconds until the last message is handed to the carrier at its rate limit; null when
    /// nothing remains or no rate is known.
    pub eta_seconds: Option<u64>,
}

/// Messages still to send: queued or in flight, plus recipients not fanned out yet.
pub fn remaining(b: &Broadcast, counts: &StatusCounts) -> i64 {
    match b.status {
        BroadcastStatus::Completed | BroadcastStatus::Cancelled => 0,
        BroadcastStatus::Scheduled | BroadcastStatus::FanningOut => {
            counts.queued + counts.sending + (b.recipients - counts.total()).max(0)
        }
        BroadcastStatus::Sending => counts.queued + counts.sending,
    }
}

/// Whole seconds to send `remaining` messages at `rate` per second.
pub fn eta_seconds(remaining: i64, rate: Option<f64>) -> Option<u64> {
    let rate = rate.filter(|r| r.is_finite() && *r > 0.0)?;
    (remaining > 0).then(|| (remaining as f64 / rate).ceil() as u64)
}

/// One page of broadcasts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastPage {
    pub broadcasts: Vec<BroadcastJson>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next: Option<i64>,
}
