//! Sender numbers: the numbers a community texts from, which also tell inbound texts apart.

use super::decode::{corrupt, name, sender_address};
use super::{Community, Store, StoreError};
use crate::domain::SenderAddress;
pub use crate::domain::SenderKind;

/// A number a community sends from and members text.
#[derive(Debug, Clone, PartialEq)]
pub struct SenderNumber {
    pub id: i64,
    pub community_id: i64,
    pub carrier: String,
    /// E.164, or a short code's digits.
    pub number: SenderAddress,
    pub kind: SenderKind,
    /// This number's own rate, below the carrier account's; `None` means the profile's rate
    /// for its kind (`[sender_defaults]`), if it has one, else only the account limit.
    pub rate_per_second: Option<f64>,
}

/// What the throttle needs of each number on a carrier: its kind picks the default rate
/// when the number has no rate of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSenderRate {
    pub number: String,
    pub kind: SenderKind,
    /// The number's explicit rate, if set (`community create --rate`, `limits set --sender`).
    pub rate_per_second: Option<f64>,
}

#[derive(sqlx::FromRow)]
pub(super) struct SenderRow {
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
            number: sender_address("sender_numbers.number", &r.number)?,
            kind: name("sender_numbers.kind", &r.kind, SenderKind::parse)?,
            carrier: r.carrier,
            rate_per_second: r.rate_per_second,
        })
    }
}

const SENDER_COLUMNS: &str = "id, community_id, carrier, number, kind, rate_per_second";

/// Inserts a sender number (binds: community, carrier, number, kind, rate); returns its row.
pub(super) fn insert_sender_sql() -> String {
    format!(
        "INSERT INTO sender_numbers (community_id, carrier, number, kind, rate_per_second) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {SENDER_COLUMNS}"
    )
}

/// A community's first number, created with it in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSender {
    pub carrier: String,
    pub number: SenderAddress,
    pub kind: SenderKind,
    /// Its own rate; `None` leaves it to its kind's default.
    pub rate_per_second: Option<f64>,
}

impl Store {
    /// Registers a number the community sends from; a number belongs to one community only.
    pub async fn add_sender_number(
        &self,
        community_id: i64,
        carrier: &str,
        number: impl Into<SenderAddress>,
        kind: SenderKind,
        rate_per_second: Option<f64>,
    ) -> Result<SenderNumber, StoreError> {
        let number = number.into();
        let sql = insert_sender_sql();
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

    /// The community an inbound text is for: the one that owns the number or short code the
    /// member texted, and that sender's row.
    pub async fn community_by_address(
        &self,
        address: &SenderAddress,
    ) -> Result<Option<(Community, SenderNumber)>, StoreError> {
        let sql = format!("SELECT {SENDER_COLUMNS} FROM sender_numbers WHERE number = $1");
        let row: Option<SenderRow> = with_read_pool!(self, pool => sqlx::query_as(&sql).bind(address.as_str()).fetch_optional(pool).await)?;
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

    /// The row of one number or short code, if some community owns it.
    pub async fn sender_number(
        &self,
        address: &SenderAddress,
    ) -> Result<Option<SenderNumber>, StoreError> {
        let sql = format!("SELECT {SENDER_COLUMNS} FROM sender_numbers WHERE number = $1");
        let row: Option<SenderRow> = with_read_pool!(self, pool => sqlx::query_as(&sql).bind(address.as_str()).fetch_optional(pool).await)?;
        row.map(SenderNumber::try_from).transpose()
    }

    /// Sets (or with `None` clears) a number's own rate; the instance sending for its carrier
    /// applies it on its next lease renewal. `None` when no community owns the number.
    pub async fn set_sender_rate(
        &self,
        address: &SenderAddress,
        rate_per_second: Option<f64>,
    ) -> Result<Option<SenderNumber>, StoreError> {
        let sql = format!(
            "UPDATE sender_numbers SET rate_per_second = $2 WHERE number = $1 RETURNING {SENDER_COLUMNS}"
        );
        let row: Option<SenderRow> = with_pool!(self, pool => sqlx::query_as(&sql)
            .bind(address.as_str())
            .bind(rate_per_second)
            .fetch_optional(pool)
            .await)?;
        row.map(SenderNumber::try_from).transpose()
    }

    /// Every number of a community, in the order they were added.
    pub async fn sender_numbers(&self, community_id: i64) -> Result<Vec<SenderNumber>, StoreError> {
        let sql = format!(
            "SELECT {SENDER_COLUMNS} FROM sender_numbers WHERE community_id = $1 ORDER BY id"
        );
        let rows: Vec<SenderRow> = with_read_pool!(self, pool => sqlx::query_as(&sql).bind(community_id).fetch_all(pool).await)?;
        rows.into_iter().map(SenderNumber::try_from).collect()
    }

    /// Every number on `carrier`, with its kind and its explicit rate (if any).
    pub async fn sender_limits(&self, carrier: &str) -> Result<Vec<StoredSenderRate>, StoreError> {
        let sql = "SELECT number, kind, rate_per_second FROM sender_numbers \
                   WHERE carrier = $1 ORDER BY id";
        let rows: Vec<(String, String, Option<f64>)> =
            with_read_pool!(self, pool => sqlx::query_as(sql).bind(carrier).fetch_all(pool).await)?;
        rows.into_iter()
            .map(|(number, kind, rate_per_second)| {
                Ok(StoredSenderRate {
                    kind: name("sender_numbers.kind", &kind, SenderKind::parse)?,
                    number,
                    rate_per_second,
                })
            })
            .collect()
    }
}
