//! Members in bulk: imports, keyset pages and fan-out batches.

use std::collections::HashSet;
use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::decode::phone;
use super::members::{COLUMNS, MemberRow};
use super::{Member, Store, StoreError};
use crate::domain::{MemberStatus, PhoneNumber};

/// Rows per import statement: 2 shared parameters + 1 per row stays under SQLite's 32,766.
const IMPORT_CHUNK: usize = 10_000;

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
        let mut sql = String::from(
            "INSERT INTO members (community_id, phone, status, subscribed_at, joined_via) VALUES ",
        );
        for i in 0..phones.len() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}($1, ${}, 'subscribed', $2, 'import')", i + 3);
        }
        sql.push_str(" ON CONFLICT (community_id, phone) DO NOTHING");
        let done = with_pool!(self, pool => {
            let mut query = sqlx::query(&sql).bind(community_id).bind(at);
            for p in phones {
                query = query.bind(*p);
            }
            query.execute(pool).await.map(|r| r.rows_affected())
        })?;
        Ok(done)
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
                with_pool!(self, pool => sqlx::query_as(&sql)
                    .bind(community_id).bind(status.as_str()).bind(after).bind(limit)
                    .fetch_all(pool).await)?
            }
            None => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM members WHERE community_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                );
                with_pool!(self, pool => sqlx::query_as(&sql)
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
        let rows: Vec<(i64, String)> = with_pool!(self, pool => sqlx::query_as(sql)
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
                with_pool!(self, pool => sqlx::query_scalar(sql)
                    .bind(community_id).bind(status.as_str()).fetch_one(pool).await)?
            }
            None => {
                let sql = "SELECT COUNT(*) FROM members WHERE community_id = $1";
                with_pool!(self, pool => sqlx::query_scalar(sql).bind(community_id).fetch_one(pool).await)?
            }
        };
        Ok(count)
    }
}
