//! Members in bulk: imports, keyset pages and fan-out batches.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::decode::phone;
use super::members::{COLUMNS, MemberRow};
use super::pool::Pool;
use super::{Member, Store, StoreError};
use crate::domain::{MemberStatus, PhoneNumber};

/// Rows per import statement (each its own transaction), so an import of 400,000 members never
/// holds SQLite's single write lock long enough to stall the webhooks behind it.
const IMPORT_CHUNK: usize = 10_000;

/// An import adding this many rows refreshes PostgreSQL's statistics of `members` at once.
/// With statistics from when the table was nearly empty, the planner found a member by phone
/// through the (community, status) index, reading every subscribed row: a STOP took 70–380 ms
/// of CPU at 30,000 members and stalled the whole engine during a spike, until autovacuum
/// got round to it (a minute or more). ANALYZE samples a fixed number of rows: well under a
/// second even at a million members.
const ANALYZE_AFTER: u64 = 1_000;

/// The phones travel as one array (PostgreSQL) or one JSON array (SQLite) rather than one bound
/// parameter each: 1M members took 16 s (PostgreSQL) and 5 s (SQLite) instead of 23 s and 35 s.
const PG_IMPORT: &str = "INSERT INTO members (community_id, phone, status, subscribed_at, joined_via) \
    SELECT $1, p.phone, 'subscribed', $2, 'import' FROM UNNEST($3::TEXT[]) AS p (phone) \
    ON CONFLICT (community_id, phone) DO NOTHING";

/// See [`PG_IMPORT`]; `WHERE true` resolves SQLite's parsing ambiguity of `SELECT ... ON CONFLICT`.
const SQLITE_IMPORT: &str = "INSERT INTO members (community_id, phone, status, subscribed_at, joined_via) \
    SELECT $1, p.value, 'subscribed', $2, 'import' FROM json_each($3) AS p WHERE true \
    ON CONFLICT (community_id, phone) DO NOTHING";

/// What an import did; numbers repeated within the input count once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    pub inserted: u64,
    /// Already members, subscribed or not; an unsubscribed member stays unsubscribed.
    pub already_present: u64,
}

impl Store {
    /// Adds phones as subscribed members, leaving every existing row (and its consent state) alone.
    pub async fn import_members(
        &self,
        community_id: i64,
        phones: &[PhoneNumber],
        at: DateTime<Utc>,
    ) -> Result<ImportOutcome, StoreError> {
        let mut seen = HashSet::with_capacity(phones.len());
        let unique: Vec<&str> = phones
            .iter()
            .map(PhoneNumber::as_str)
            .filter(|p| seen.insert(*p))
            .collect();
        let mut inserted = 0;
        for chunk in unique.chunks(IMPORT_CHUNK) {
            inserted += self.import_chunk(community_id, chunk, at).await?;
        }
        if inserted >= ANALYZE_AFTER
            && let Pool::Postgres(pool) = &self.pool
        {
            sqlx::query("ANALYZE members").execute(pool).await?;
        }
        Ok(ImportOutcome {
            inserted,
            already_present: unique.len() as u64 - inserted,
        })
    }

    async fn import_chunk(
        &self,
        community_id: i64,
        phones: &[&str],
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let inserted = match &self.pool {
            Pool::Sqlite(pool) => {
                // E.164 text is `+` and digits, so quoting needs no escaping.
                let json = format!("[\"{}\"]", phones.join("\",\""));
                let query = sqlx::query(SQLITE_IMPORT)
                    .bind(community_id)
                    .bind(at)
                    .bind(json);
                query.execute(pool).await?.rows_affected()
            }
            Pool::Postgres(pool) => {
                let query = sqlx::query(PG_IMPORT)
                    .bind(community_id)
                    .bind(at)
                    .bind(phones);
                query.execute(pool).await?.rows_affected()
            }
        };
        Ok(inserted)
    }

    /// One page of members in id order, after `after_id`; ids are stable, so pages never overlap or skip.
    pub async fn members_page(
        &self,
        community_id: i64,
        status: Option<MemberStatus>,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Member>, StoreError> {
        let after = after_id.unwrap_or(0);
        let rows: Vec<MemberRow> = match status {
            Some(status) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM members WHERE community_id = $1 AND status = $2 AND id > $3 \
                     ORDER BY id LIMIT $4"
                );
                with_read_pool!(self, pool => sqlx::query_as(&sql)
                    .bind(community_id).bind(status.as_str()).bind(after).bind(limit)
                    .fetch_all(pool).await)?
            }
            None => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM members WHERE community_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                );
                with_read_pool!(self, pool => sqlx::query_as(&sql)
                    .bind(community_id).bind(after).bind(limit)
                    .fetch_all(pool).await)?
            }
        };
        rows.into_iter().map(Member::try_from).collect()
    }

    /// The next fan-out batch: subscribed members after `after_id`, as (member id, phone).
    pub async fn subscribed_member_batch(
        &self,
        community_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<(i64, PhoneNumber)>, StoreError> {
        let sql = "SELECT id, phone FROM members WHERE community_id = $1 AND status = 'subscribed' AND id > $2 \
                   ORDER BY id LIMIT $3";
        let rows: Vec<(i64, String)> = with_read_pool!(self, pool => sqlx::query_as(sql)
            .bind(community_id).bind(after_id).bind(limit)
            .fetch_all(pool).await)?;
        rows.into_iter()
            .map(|(id, p)| Ok((id, phone("members.phone", &p)?)))
            .collect()
    }

    /// How many members the community has, in one status or in all.
    pub async fn count_members(
        &self,
        community_id: i64,
        status: Option<MemberStatus>,
    ) -> Result<i64, StoreError> {
        let count = match status {
            Some(status) => {
                let sql = "SELECT COUNT(*) FROM members WHERE community_id = $1 AND status = $2";
                with_read_pool!(self, pool => sqlx::query_scalar(sql)
                    .bind(community_id).bind(status.as_str()).fetch_one(pool).await)?
            }
            None => {
                let sql = "SELECT COUNT(*) FROM members WHERE community_id = $1";
                with_read_pool!(self, pool => sqlx::query_scalar(sql).bind(community_id).fetch_one(pool).await)?
            }
        };
        Ok(count)
    }
}
