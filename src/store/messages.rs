//! Outbound messages: claimed once for delivery, then moved forward only, by rank, in SQL.

use chrono::{DateTime, Utc};

use super::decode::{corrupt, message_status, name, opt_sender_address, phone};
use super::{Store, StoreError};
use crate::domain::{MessageStatus, PhoneNumber, SenderAddress};

/// Which lane a message travels in; replies to members jump ahead of broadcasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Priority {
    Transactional,
    Broadcast,
}

impl Priority {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transactional => "transactional",
            Self::Broadcast => "broadcast",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Transactional, Self::Broadcast]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

/// One outbound SMS; `body` is resolved from the broadcast for broadcast messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: i64,
    pub community_id: i64,
    pub broadcast_id: Option<i64>,
    pub member_id: Option<i64>,
    pub to: PhoneNumber,
    /// The number or short code it goes from; `None` until one is chosen.
    pub from: Option<SenderAddress>,
    pub carrier: String,
    pub body: String,
    pub priority: Priority,
    pub status: MessageStatus,
    pub provider_message_id: Option<String>,
    pub attempts: i32,
    pub last_error_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A reply or other one-off message, not part of a broadcast.
#[derive(Debug, Clone, Copy)]
pub struct NewTransactional<'a> {
    pub community_id: i64,
    pub member_id: Option<i64>,
    pub to: &'a PhoneNumber,
    pub from: Option<&'a PhoneNumber>,
    pub carrier: &'a str,
    pub body: &'a str,
    pub at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    community_id: i64,
    broadcast_id: Option<i64>,
    member_id: Option<i64>,
    to_number: String,
    from_number: Option<String>,
    carrier: String,
    body: Option<String>,
    priority: String,
    status: String,
    provider_message_id: Option<String>,
    attempts: i32,
    last_error_code: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        let body = r.body.ok_or_else(|| {
            corrupt(
                "messages.body",
                &r.id.to_string(),
                "no body and no broadcast",
            )
        })?;
        Ok(Self {
            to: phone("messages.to_number", &r.to_number)?,
            from: opt_sender_address("messages.from_number", r.from_number.as_deref())?,
            priority: name("messages.priority", &r.priority, Priority::parse)?,
            status: message_status(&r.status)?,
            body,
            id: r.id,
            community_id: r.community_id,
            broadcast_id: r.broadcast_id,
            member_id: r.member_id,
            carrier: r.carrier,
            provider_message_id: r.provider_message_id,
            attempts: r.attempts,
            last_error_code: r.last_error_code,
            created_at: r.created_at,
            updated_at: r.updated_at,
            sent_at: r.sent_at,
            delivered_at: r.delivered_at,
        })
    }
}

/// Every column of a message, its text resolved from the broadcast when the row has none.
const SELECT: &str = "SELECT m.id, m.community_id, m.broadcast_id, m.member_id, m.to_number, m.from_number, \
    m.carrier, COALESCE(m.body, b.body) AS body, m.priority, m.status, m.provider_message_id, m.attempts, \
    m.last_error_code, m.created_at, m.updated_at, m.sent_at, m.delivered_at \
    FROM messages m LEFT JOIN broadcasts b ON b.id = m.broadcast_id";

/// Inserts a transactional message, `queued`; shared with the inbound keyword transaction.
pub(crate) const INSERT_TRANSACTIONAL: &str = "INSERT INTO messages (community_id, member_id, to_number, \
    from_number, carrier, body, priority, status, status_rank, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, 'transactional', 'queued', 0, $7, $7) RETURNING id";

/// A keyword reply, linked to the inbound text that caused it.
pub(crate) const INSERT_REPLY: &str = "INSERT INTO messages (community_id, member_id, to_number, \
    from_number, carrier, body, priority, status, status_rank, created_at, updated_at, reply_to_inbound_id) \
    VALUES ($1, $2, $3, $4, $5, $6, 'transactional', 'queued', 0, $7, $7, $8) RETURNING id";

impl Store {
    /// One message with its text, whichever table the text lives in.
    pub async fn message(&self, id: i64) -> Result<Option<Message>, StoreError> {
        let sql = format!("{SELECT} WHERE m.id = $1");
        let row: Option<MessageRow> = with_read_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        row.map(Message::try_from).transpose()
    }

    /// A broadcast's messages in id order after `after_id`, optionally in one status: for
    /// progress views and for re-publishing `queued` messages whose queue item was lost.
    pub async fn broadcast_messages(
        &self,
        broadcast_id: i64,
        status: Option<MessageStatus>,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "{SELECT} WHERE m.broadcast_id = $1 AND ($2 IS NULL OR m.status = $2) AND m.id > $3 ORDER BY m.id LIMIT $4"
        );
        let rows: Vec<MessageRow> = with_read_pool!(self, pool => sqlx::query_as(&sql)
            .bind(broadcast_id)
            .bind(status.map(MessageStatus::as_str))
            .bind(after_id.unwrap_or(0))
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Message::try_from).collect()
    }

    /// Queues a one-off message and returns its id.
    pub async fn insert_transactional_message(
        &self,
        new: &NewTransactional<'_>,
    ) -> Result<i64, StoreError> {
        let id = with_pool!(self, pool => sqlx::query_scalar(INSERT_TRANSACTIONAL)
            .bind(new.community_id)
            .bind(new.member_id)
            .bind(new.to.as_str())
            .bind(new.from.map(PhoneNumber::as_str))
            .bind(new.carrier)
            .bind(new.body)
            .bind(new.at)
            .fetch_one(pool)
            .await)?;
        Ok(id)
    }

    /// Gives a claimed message back (`sending -> queued`) after a retryable failure; the only
    /// backward move, and only the claim holder makes it.
    pub async fn release_message(
        &self,
        id: i64,
        error_code: Option<&str>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE messages SET status = 'queued', status_rank = 0, \
                   last_error_code = COALESCE($2, last_error_code), updated_at = $3 \
                   WHERE id = $1 AND status = 'sending'";
        let done = with_pool!(self, pool => sqlx::query(sql).bind(id).bind(error_code).bind(Utc::now()).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Puts a claimed message back without counting the attempt: a daily cap or a carrier
    /// that throttles made it wait, the message itself did not fail.
    pub async fn defer_message(
        &self,
        id: i64,
        error_code: Option<&str>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE messages SET status = 'queued', status_rank = 0, \
                   attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
                   last_error_code = COALESCE($2, last_error_code), updated_at = $3 \
                   WHERE id = $1 AND status = 'sending'";
        let done = with_pool!(self, pool => sqlx::query(sql).bind(id).bind(error_code).bind(Utc::now()).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
