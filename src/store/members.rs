//! Members: who is subscribed to which community, changed one phone at a time.

use chrono::{DateTime, Utc};

use super::decode::{member_status, name, opt_sender_address, phone};
use super::{Store, StoreError};
use crate::domain::{MemberStatus, PhoneNumber, SenderAddress};

/// How a member's row came to exist; kept for consent records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinedVia {
    Keyword,
    Import,
    Api,
}

impl JoinedVia {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Import => "import",
            Self::Api => "api",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Keyword, Self::Import, Self::Api]
            .into_iter()
            .find(|v| v.as_str() == text)
    }
}

/// One phone in one community, subscribed or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: i64,
    pub community_id: i64,
    pub phone: PhoneNumber,
    pub status: MemberStatus,
    /// `None` for a phone that said STOP without ever joining.
    pub subscribed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
    pub joined_via: JoinedVia,
    /// The sender number the member texted to join, for consent records.
    pub via_number: Option<SenderAddress>,
    pub via_inbound_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    id: i64,
    community_id: i64,
    phone: String,
    status: String,
    subscribed_at: Option<DateTime<Utc>>,
    unsubscribed_at: Option<DateTime<Utc>>,
    joined_via: String,
    via_number: Option<String>,
    via_inbound_id: Option<i64>,
}

impl MemberRow {
    /// The row's id, before it is checked into a [`Member`].
    pub(crate) fn id(&self) -> i64 {
        self.id
    }
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id,
            community_id: r.community_id,
            phone: phone("members.phone", &r.phone)?,
            status: member_status(&r.status)?,
            subscribed_at: r.subscribed_at,
            unsubscribed_at: r.unsubscribed_at,
            joined_via: name("members.joined_via", &r.joined_via, JoinedVia::parse)?,
            via_number: opt_sender_address("members.via_number", r.via_number.as_deref())?,
            via_inbound_id: r.via_inbound_id,
        })
    }
}

pub(crate) const COLUMNS: &str = "id, community_id, phone, status, subscribed_at, unsubscribed_at, joined_via, via_number, via_inbound_id";

/// Inserts a subscribed member or resubscribes an unsubscribed one; an already subscribed
/// member is left untouched (no row returned), so a repeated JOIN keeps the original consent.
pub(crate) const SUBSCRIBE: &str = "INSERT INTO members \
    (community_id, phone, status, subscribed_at, joined_via, via_number, via_inbound_id) \
    VALUES ($1, $2, 'subscribed', $3, $4, $5, $6) \
    ON CONFLICT (community_id, phone) DO UPDATE SET status = 'subscribed', \
    subscribed_at = excluded.subscribed_at, unsubscribed_at = NULL, joined_via = excluded.joined_via, \
    via_number = excluded.via_number, via_inbound_id = excluded.via_inbound_id \
    WHERE members.status = 'unsubscribed' RETURNING ";

/// Unsubscribes a member, or records a suppression row for a phone that never joined, so a
/// later import cannot subscribe someone who said STOP. A second STOP keeps the first time.
pub(crate) const UNSUBSCRIBE: &str = "INSERT INTO members \
    (community_id, phone, status, unsubscribed_at, joined_via) \
    VALUES ($1, $2, 'unsubscribed', $3, $4) \
    ON CONFLICT (community_id, phone) DO UPDATE SET status = 'unsubscribed', \
    unsubscribed_at = excluded.unsubscribed_at WHERE members.status = 'subscribed' RETURNING ";

pub(crate) const BY_PHONE: &str = "WHERE community_id = $1 AND phone = $2";

impl Store {
    /// Subscribes `phone` (insert or resubscribe); idempotent for an already subscribed member.
    pub async fn subscribe(
        &self,
        community_id: i64,
        phone: &PhoneNumber,
        via: JoinedVia,
        via_number: Option<&SenderAddress>,
        via_inbound_id: Option<i64>,
        at: DateTime<Utc>,
    ) -> Result<Member, StoreError> {
        let sql = format!("{SUBSCRIBE}{COLUMNS}");
        let changed: Option<MemberRow> = with_pool!(self, pool => sqlx::query_as(&sql)
            .bind(community_id)
            .bind(phone.as_str())
            .bind(at)
            .bind(via.as_str())
            .bind(via_number.map(SenderAddress::as_str))
            .bind(via_inbound_id)
            .fetch_optional(pool)
            .await)?;
        self.changed_or_current(changed, community_id, phone).await
    }

    /// Unsubscribes `phone`; `via` labels the suppression row created when the phone was no member.
    pub async fn unsubscribe(
        &self,
        community_id: i64,
        phone: &PhoneNumber,
        via: JoinedVia,
        at: DateTime<Utc>,
    ) -> Result<Member, StoreError> {
        let sql = format!("{UNSUBSCRIBE}{COLUMNS}");
        let changed: Option<MemberRow> = with_pool!(self, pool => sqlx::query_as(&sql)
            .bind(community_id)
            .bind(phone.as_str())
            .bind(at)
            .bind(via.as_str())
            .fetch_optional(pool)
            .await)?;
        self.changed_or_current(changed, community_id, phone).await
    }

    /// Unsubscribes the recipient of message `message_id` in the message's community (a carrier
    /// reported them opted out); `None` when no such message exists.
    pub async fn unsubscribe_recipient(
        &self,
        message_id: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<Member>, StoreError> {
        let sql = "SELECT community_id, to_number FROM messages WHERE id = $1";
        let row: Option<(i64, String)> = with_pool!(self, pool => sqlx::query_as(sql)
            .bind(message_id).fetch_optional(pool).await)?;
        let Some((community_id, to)) = row else {
            return Ok(None);
        };
        let to = phone("messages.to_number", &to)?;
        // Labelled like the send path's opt-out: the carrier, not a keyword to us, said it.
        let member = self
            .unsubscribe(community_id, &to, JoinedVia::Api, at)
            .await?;
        Ok(Some(member))
    }

    /// The member row for `phone` in this community, subscribed or not.
    pub async fn member_by_phone(
        &self,
        community_id: i64,
        phone: &PhoneNumber,
    ) -> Result<Option<Member>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM members {BY_PHONE}");
        let row: Option<MemberRow> = with_read_pool!(self, pool => sqlx::query_as(&sql)
            .bind(community_id)
            .bind(phone.as_str())
            .fetch_optional(pool)
            .await)?;
        row.map(Member::try_from).transpose()
    }

    /// Whether the deliver stage may text this member now; a missing member is not subscribed.
    pub async fn is_subscribed(&self, member_id: i64) -> Result<bool, StoreError> {
        let sql = "SELECT status FROM members WHERE id = $1";
        let status: Option<String> = with_read_pool!(self, pool => sqlx::query_scalar(sql).bind(member_id).fetch_optional(pool).await)?;
        match status {
            Some(s) => Ok(member_status(&s)? == MemberStatus::Subscribed),
            None => Ok(false),
        }
    }

    async fn changed_or_current(
        &self,
        changed: Option<MemberRow>,
        community_id: i64,
        phone: &PhoneNumber,
    ) -> Result<Member, StoreError> {
        if let Some(row) = changed {
            return row.try_into();
        }
        self.member_by_phone(community_id, phone)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("member {phone} vanished during an upsert")))
    }
}
