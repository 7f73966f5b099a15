//! Inbound texts, stored once per carrier message id however often the carrier retries the webhook.

use chrono::{DateTime, Utc};

use super::decode::{phone, sender_address};
use super::{Store, StoreError};
use crate::domain::{PhoneNumber, SenderAddress};

/// A text a member sent, as the webhook parsed it.
#[derive(Debug, Clone, Copy)]
pub struct NewInbound<'a> {
    pub community_id: i64,
    pub carrier: &'a str,
    pub provider_message_id: &'a str,
    pub from: &'a PhoneNumber,
    pub to: &'a SenderAddress,
    pub body: &'a str,
    /// The keyword the text matched (`JOIN`, `STOP`, ...), if any.
    pub keyword: Option<&'a str>,
    pub received_at: DateTime<Utc>,
}

/// A stored inbound text.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub id: i64,
    pub community_id: i64,
    pub carrier: String,
    pub provider_message_id: String,
    pub from: PhoneNumber,
    pub to: SenderAddress,
    pub body: String,
    pub keyword: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// Whether the text was new; a duplicate is a carrier retry and must change nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertInbound {
    Inserted(i64),
    Duplicate(i64),
}

#[derive(sqlx::FromRow)]
struct InboundRow {
    id: i64,
    community_id: i64,
    carrier: String,
    provider_message_id: String,
    from_number: String,
    to_number: String,
    body: String,
    keyword: Option<String>,
    received_at: DateTime<Utc>,
}

impl TryFrom<InboundRow> for Inbound {
    type Error = StoreError;
    fn try_from(r: InboundRow) -> Result<Self, StoreError> {
        Ok(Self {
            from: phone("inbound_messages.from_number", &r.from_number)?,
            to: sender_address("inbound_messages.to_number", &r.to_number)?,
            id: r.id,
            community_id: r.community_id,
            carrier: r.carrier,
            provider_message_id: r.provider_message_id,
            body: r.body,
            keyword: r.keyword,
            received_at: r.received_at,
        })
    }
}

/// Inserts unless the carrier message id is known; returns the new id or nothing.
pub(crate) const INSERT: &str = "INSERT INTO inbound_messages (community_id, carrier, provider_message_id, \
    from_number, to_number, body, keyword, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
    ON CONFLICT (carrier, provider_message_id) DO NOTHING RETURNING id";

/// The id of the row a duplicate collided with.
pub(crate) const EXISTING_ID: &str =
    "SELECT id FROM inbound_messages WHERE carrier = $1 AND provider_message_id = $2";

impl Store {
    /// Stores an inbound text once; a retried webhook gets the first row's id back as `Duplicate`.
    pub async fn insert_inbound(&self, new: &NewInbound<'_>) -> Result<InsertInbound, StoreError> {
        let inserted: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(INSERT)
            .bind(new.community_id)
            .bind(new.carrier)
            .bind(new.provider_message_id)
            .bind(new.from.as_str())
            .bind(new.to.as_str())
            .bind(new.body)
            .bind(new.keyword)
            .bind(new.received_at)
            .fetch_optional(pool)
            .await)?;
        if let Some(id) = inserted {
            return Ok(InsertInbound::Inserted(id));
        }
        let id: i64 = with_pool!(self, pool => sqlx::query_scalar(EXISTING_ID)
            .bind(new.carrier).bind(new.provider_message_id).fetch_one(pool).await)?;
        Ok(InsertInbound::Duplicate(id))
    }

    /// A community's inbound texts in id order, after `after_id`.
    pub async fn inbound_page(
        &self,
        community_id: i64,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Inbound>, StoreError> {
        let sql = "SELECT id, community_id, carrier, provider_message_id, from_number, to_number, body, keyword, \
                   received_at FROM inbound_messages WHERE community_id = $1 AND id > $2 ORDER BY id LIMIT $3";
        let rows: Vec<InboundRow> = with_read_pool!(self, pool => sqlx::query_as(sql)
            .bind(community_id).bind(after_id.unwrap_or(0)).bind(limit).fetch_all(pool).await)?;
        rows.into_iter().map(Inbound::try_from).collect()
    }
}
