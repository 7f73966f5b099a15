//! Communities: a leader's audience and the replies its keywords send.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

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

#[derive(sqlx::FromRow)]
pub(super) struct CommunityRow {
    pub(super) id: i64,
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

const COMMUNITY_COLUMNS: &str =
    "id, name, join_keyword, welcome_reply, help_reply, stop_reply, daily_message_cap, created_at";

/// Inserts a community (binds: name, keyword, three replies, cap, created_at); returns its row.
pub(super) fn insert_community_sql() -> String {
    format!(
        "INSERT INTO communities (name, join_keyword, welcome_reply, help_reply, stop_reply, \
         daily_message_cap, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COMMUNITY_COLUMNS}"
    )
}

impl Store {
    /// Creates a community; its join keyword is stored upper-case because keywords match case-insensitively.
    pub async fn create_community(&self, new: &NewCommunity) -> Result<Community, StoreError> {
        let sql = insert_community_sql();
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
        let row: Option<CommunityRow> = with_read_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(row.map(Community::from))
    }
}
