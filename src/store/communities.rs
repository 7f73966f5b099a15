//! Communities and the sender numbers that identify them to members.

use chrono::{DateTime, Utc};

use super::decode::{corrupt, name, phone};
use super::{Store, StoreError};
use crate::domain::PhoneNumber;

/// Replies used when a leader has not written their own; carriers require HELP and STOP answers.
pub const DEFAULT_WELCOME_REPLY: &str = "You're subscribed! Msg frequency varies. Msg&data rates may apply. Reply HELP for help, STOP to opt out.";
/// See [`DEFAULT_WELCOME_REPLY`].
pub const DEFAULT_HELP_REPLY: &str = "Reply STOP to opt out. Msg&data rates may apply.";
/// See [`DEFAULT_WELCOME_REPLY`].
pub const DEFAULT_STOP_REPLY: &str =
    "You're unsubscribed and will get no more messages. Reply JOIN to rejoin.";

/// A leader's audience and its keyword replies.
#[derive(Debug, Clone, PartialEq)]
pub struct Community {
    pub id: i64,
    pub name: String,
    pub join_keyword: String,
    pub welcome_reply: String,
    pub help_reply: String,
    pub stop_reply: String,
    /// Messages per day this community may send; `None` means no cap.
    pub daily_message_cap: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// What a new community needs; `new` fills in the default replies.
#[derive(Debug, Clone)]
pub struct NewCommunity {
    pub name: String,
    pub join_keyword: String,
    pub welcome_reply: String,
    pub help_reply: String,
    pub stop_reply: String,
    pub daily_message_cap: Option<i64>,
}

impl NewCommunity {
    /// A community joined with `JOIN`, using the default replies and no daily cap.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            join_keyword: "JOIN".to_owned(),
            welcome_reply: DEFAULT_WELCOME_REPLY.to_owned(),
            help_reply: DEFAULT_HELP_REPLY.to_owned(),
            stop_reply: DEFAULT_STOP_REPLY.to_owned(),
            daily_message_cap: None,
        }
    }
}

/// What kind of number a sender is; carriers rate-limit each kind differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenderKind {
    LongCode,
    TollFree,
    ShortCode,
}

impl SenderKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LongCode => "long_code",
            Self::TollFree => "toll_free",
            Self::ShortCode => "short_code",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::LongCode, Self::TollFree, Self::ShortCode]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A number a community sends from and members text.
#[derive(Debug, Clone, PartialEq)]
pub struct SenderNumber {
    pub id: i64,
    pub community_id: i64,
    pub carrier: String,
    pub number: PhoneNumber,
    pub kind: SenderKind,
    /// This number's own limit, below the carrier account's; `None` means only the account limit.
    pub rate_per_second: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct CommunityRow {
    id: i64,
    name: String,
    join_keyword: String,
    welcome_reply: String,
    help_reply: String,
    stop_reply: String,
    daily_message_cap: Option<i64>,
    created_at: DateTime<Utc>,
}

impl From<CommunityRow> for Community {
    fn from(r: CommunityRow) -> Self {
        let CommunityRow {
            id,
            name,
            join_keyword,
            welcome_reply,
            help_reply,
            stop_reply,
            daily_message_cap,
            created_at,
        } = r;
        Self {
            id,
            name,
            join_keyword,
            welcome_reply,
            help_reply,
            stop_reply,
            daily_message_cap,
            created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SenderRow {
    id: i64,
    community_id: i64,
    carrier: String,
    number: String,
    kind: String,
    rate_per_second: Option<f64>,
}

impl TryFrom<SenderRow> for SenderNumber {
    type Error = StoreError;
    fn try_from(r: SenderRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id,
            community_id: r.community_id,
            number: phone("sender_numbers.number", &r.number)?,
            kind: name("sender_numbers.kind", &r.kind, SenderKind::parse)?,
            carrier: r.carrier,
            rate_per_second: r.rate_per_second,
        })
    }
}

const COMMUNITY_COLUMNS: &str =
    "id, name, join_keyword, welcome_reply, help_reply, stop_reply, daily_message_cap, created_at";
const SENDER_COLUMNS: &str = "id, community_id, carrier, number, kind, rate_per_second";

impl Store {
    /// Creates a community; its join keyword is stored upper-case because keywords match case-insensitively.
    pub async fn create_community(&self, new: &NewCommunity) -> Result<Community, StoreError> {
        let sql = format!(
            "INSERT INTO communities (name, join_keyword, welcome_reply, help_reply, stop_reply, \
             daily_message_cap, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COMMUNITY_COLUMNS}"
        );
        let row: CommunityRow = with_pool!(self, pool => sqlx::query_as(&sql)
            .bind(&new.name)
            .bind(new.join_keyword.to_uppercase())
            .bind(&new.welcome_reply)
            .bind(&new.help_reply)
            .bind(&new.stop_reply)
            .bind(new.daily_message_cap)
            .bind(Utc::now())
            .fetch_one(pool)
            .await)?;
        Ok(row.into())
    }

    /// One community, if it exists.
    pub async fn community(&self, id: i64) -> Result<Option<Community>, StoreError> {
        let sql = format!("SELECT {COMMUNITY_COLUMNS} FROM communities WHERE id = $1");
        let row: Option<CommunityRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(row.map(Community::from))
    }

    /// Registers a number the community sends from; a number belongs to one community only.
    pub async fn add_sender_number(
        &self,
        community_id: i64,
        carrier: &str,
        number: &PhoneNumber,
        kind: SenderKind,
        rate_per_second: Option<f64>,
    ) -> Result<SenderNumber, StoreError> {
        let sql = format!(
            "INSERT INTO sender_numbers (community_id, carrier, number, kind, rate_per_second) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {SENDER_COLUMNS}"
        );
        let row: SenderRow = with_pool!(self, pool => sqlx::query_as(&sql)
            .bind(community_id)
            .bind(carrier)
            .bind(number.as_str())
            .bind(kind.as_str())
            .bind(rate_per_second)
            .fetch_one(pool)
            .await)?;
        row.try_into()
    }

    /// The community an inbound text is for, found by the number the member texted.
    pub async fn community_by_number(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<(Community, SenderNumber)>, StoreError> {
        let sql = format!("SELECT {SENDER_COLUMNS} FROM sender_numbers WHERE number = $1");
        let row: Option<SenderRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(number.as_str()).fetch_optional(pool).await)?;
        let Some(row) = row else { return Ok(None) };
        let sender = SenderNumber::try_from(row)?;
        let community = self.community(sender.community_id).await?.ok_or_else(|| {
            corrupt(
                "sender_numbers.community_id",
                &sender.community_id.to_string(),
                "no such community",
            )
        })?;
        Ok(Some((community, sender)))
    }

    /// Every number of a community, in the order they were added.
    pub async fn sender_numbers(&self, community_id: i64) -> Result<Vec<SenderNumber>, StoreError> {
        let sql = format!(
            "SELECT {SENDER_COLUMNS} FROM sender_numbers WHERE community_id = $1 ORDER BY id"
        );
        let rows: Vec<SenderRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(community_id).fetch_all(pool).await)?;
        rows.into_iter().map(SenderNumber::try_from).collect()
    }
}
