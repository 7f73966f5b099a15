//! Broadcasts: a leader's request to text every subscribed member, created idempotently.

use chrono::{DateTime, Utc};

use super::decode::{corrupt, name};
use super::{Store, StoreError};
use crate::domain::{Encoding, MessageBody};

/// Where a broadcast is; like message statuses it only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BroadcastStatus {
    Scheduled,
    FanningOut,
    Sending,
    Completed,
    Cancelled,
}

impl BroadcastStatus {
    const ALL: [Self; 5] = [
        Self::Scheduled,
        Self::FanningOut,
        Self::Sending,
        Self::Completed,
        Self::Cancelled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::FanningOut => "fanning_out",
            Self::Sending => "sending",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Position in `scheduled < fanning_out < sending < completed | cancelled`; mirrors `RANK_SQL`.
    pub fn rank(self) -> i32 {
        match self {
            Self::Scheduled => 0,
            Self::FanningOut => 1,
            Self::Sending => 2,
            Self::Completed | Self::Cancelled => 3,
        }
    }
}

/// A stored broadcast; the body is re-validated on read.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    pub id: i64,
    pub community_id: i64,
    pub body: MessageBody,
    pub status: BroadcastStatus,
    pub idempotency_key: Option<String>,
    /// Hash of the request that created it; a retry with the same key but another hash is a conflict.
    pub request_hash: Option<String>,
    pub recipients: i64,
    /// The last member id fanned out; fan-out resumes after it.
    pub fanout_cursor: i64,
    pub created_at: DateTime<Utc>,
    pub send_at_ms: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// What a leader asked for.
#[derive(Debug, Clone, Copy)]
pub struct NewBroadcast<'a> {
    pub community_id: i64,
    pub body: &'a MessageBody,
    pub idempotency_key: Option<&'a str>,
    pub request_hash: Option<&'a str>,
    pub send_at_ms: i64,
    pub recipients: i64,
}

/// Whether `create_broadcast` made a new row or found one with the same idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateBroadcast {
    Created(Broadcast),
    /// The caller compares `request_hash` to tell a retry from a conflicting reuse of the key.
    Existing(Broadcast),
}

#[derive(sqlx::FromRow)]
pub(crate) struct BroadcastRow {
    id: i64,
    community_id: i64,
    body: String,
    status: String,
    idempotency_key: Option<String>,
    request_hash: Option<String>,
    recipients: i64,
    fanout_cursor: i64,
    created_at: DateTime<Utc>,
    send_at_ms: i64,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl TryFrom<BroadcastRow> for Broadcast {
    type Error = StoreError;
    fn try_from(r: BroadcastRow) -> Result<Self, StoreError> {
        Ok(Self {
            body: MessageBody::parse(&r.body)
                .map_err(|e| corrupt("broadcasts.body", &r.body, e))?,
            status: name("broadcasts.status", &r.status, BroadcastStatus::parse)?,
            id: r.id,
            community_id: r.community_id,
            idempotency_key: r.idempotency_key,
            request_hash: r.request_hash,
            recipients: r.recipients,
            fanout_cursor: r.fanout_cursor,
            created_at: r.created_at,
            send_at_ms: r.send_at_ms,
            started_at: r.started_at,
            completed_at: r.completed_at,
            cancelled_at: r.cancelled_at,
        })
    }
}

pub(crate) const COLUMNS: &str = "id, community_id, body, status, idempotency_key, request_hash, recipients, \
    fanout_cursor, created_at, send_at_ms, started_at, completed_at, cancelled_at";

fn encoding_name(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Gsm7 => "gsm7",
        Encoding::Ucs2 => "ucs2",
    }
}

impl Store {
    /// Creates a broadcast, or returns the one already created with the same idempotency key.
    pub async fn create_broadcast(
        &self,
        new: &NewBroadcast<'_>,
    ) -> Result<CreateBroadcast, StoreError> {
        let sql = format!(
            "INSERT INTO broadcasts (community_id, body, encoding, segments, status, idempotency_key, \
             request_hash, recipients, created_at, send_at_ms) \
             VALUES ($1, $2, $3, $4, 'scheduled', $5, $6, $7, $8, $9) \
             ON CONFLICT (community_id, idempotency_key) DO NOTHING RETURNING {COLUMNS}"
        );
        let created: Option<BroadcastRow> = with_pool!(self, pool => sqlx::query_as(&sql)
            .bind(new.community_id)
            .bind(new.body.text())
            .bind(encoding_name(new.body.encoding()))
            .bind(new.body.segments() as i32)
            .bind(new.idempotency_key)
            .bind(new.request_hash)
            .bind(new.recipients)
            .bind(Utc::now())
            .bind(new.send_at_ms)
            .fetch_optional(pool)
            .await)?;
        if let Some(row) = created {
            return Ok(CreateBroadcast::Created(row.try_into()?));
        }
        // Only a conflicting idempotency key suppresses the insert, so the key is present here.
        let key = new.idempotency_key.unwrap_or_default();
        let sql = format!(
            "SELECT {COLUMNS} FROM broadcasts WHERE community_id = $1 AND idempotency_key = $2"
        );
        let row: Option<BroadcastRow> = with_pool!(self, pool => sqlx::query_as(&sql)
            .bind(new.community_id).bind(key).fetch_optional(pool).await)?;
        let row = row
            .ok_or_else(|| corrupt("broadcasts.idempotency_key", key, "conflict without a row"))?;
        Ok(CreateBroadcast::Existing(row.try_into()?))
    }

    /// One broadcast, only if it belongs to `community_id`: a leader never sees another's broadcast.
    pub async fn broadcast(
        &self,
        community_id: i64,
        id: i64,
    ) -> Result<Option<Broadcast>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM broadcasts WHERE community_id = $1 AND id = $2");
        let row: Option<BroadcastRow> = with_read_pool!(self, pool => sqlx::query_as(&sql)
            .bind(community_id).bind(id).fetch_optional(pool).await)?;
        row.map(Broadcast::try_from).transpose()
    }

    /// Any community's broadcast, for the pipeline's own stages (never for API callers).
    pub async fn broadcast_by_id(&self, id: i64) -> Result<Option<Broadcast>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM broadcasts WHERE id = $1");
        let row: Option<BroadcastRow> = with_read_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        row.map(Broadcast::try_from).transpose()
    }

    /// Newest first, strictly before `before_id` when given (keyset: stable under inserts).
    pub async fn broadcasts_page(
        &self,
        community_id: i64,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Broadcast>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM broadcasts WHERE community_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<BroadcastRow> = with_read_pool!(self, pool => sqlx::query_as(&sql)
            .bind(community_id).bind(before_id.unwrap_or(i64::MAX)).bind(limit)
            .fetch_all(pool).await)?;
        rows.into_iter().map(Broadcast::try_from).collect()
    }
}
