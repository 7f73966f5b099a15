//! Fan-out writes: one `queued` message per member, many thousand rows per statement.

use std::fmt::Write;

use chrono::Utc;

use super::{Store, StoreError};
use crate::domain::PhoneNumber;

/// Rows per statement: 5 shared parameters + 2 per row stays under SQLite's 32,766.
const CHUNK: usize = 10_000;

/// Locks the broadcast row for the rest of the transaction (a write on both engines) and moves the
/// fan-out cursor, but only while the broadcast may still fan out: a concurrent cancel either
/// waits for this batch (and then cancels its rows) or wins (and this batch inserts nothing).
const LOCK_AND_ADVANCE: &str = "UPDATE broadcasts \
    SET fanout_cursor = CASE WHEN fanout_cursor < $3 THEN $3 ELSE fanout_cursor END \
    WHERE id = $1 AND community_id = $2 AND status IN ('scheduled', 'fanning_out', 'sending') RETURNING id";

/// The multi-row INSERT for `rows` recipients; shared values are bound once as $1..$5.
fn insert_sql(rows: usize) -> String {
    let mut sql = String::with_capacity(64 * rows + 256);
    sql.push_str(
        "INSERT INTO messages (community_id, broadcast_id, from_number, carrier, created_at, updated_at, \
         member_id, to_number, priority, status, status_rank) VALUES ",
    );
    for i in 0..rows {
        let sep = if i == 0 { "" } else { ", " };
        let p = 6 + 2 * i;
        let _ = write!(
            sql,
            "{sep}($1, $2, $3, $4, $5, $5, ${p}, ${}, 'broadcast', 'queued', 0)",
            p + 1
        );
    }
    sql.push_str(" ON CONFLICT (broadcast_id, member_id) DO NOTHING");
    sql
}

impl Store {
    /// Queues one message per (member id, phone) and advances the fan-out cursor to the batch's
    /// highest member id, in one transaction; rows that already exist are skipped, so a fan-out
    /// resumed after a crash can replay a batch. Returns the rows inserted (0 once cancelled).
    pub async fn insert_broadcast_messages(
        &self,
        broadcast_id: i64,
        community_id: i64,
        carrier: &str,
        from: Option<&PhoneNumber>,
        recipients: &[(i64, PhoneNumber)],
    ) -> Result<u64, StoreError> {
        let Some(cursor) = recipients.iter().map(|(id, _)| *id).max() else {
            return Ok(0);
        };
        let from = from.map(PhoneNumber::as_str);
        let at = Utc::now();
        let full_chunk_sql = insert_sql(CHUNK.min(recipients.len()));
        let inserted = with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let open: Option<i64> = sqlx::query_scalar(LOCK_AND_ADVANCE)
                .bind(broadcast_id).bind(community_id).bind(cursor)
                .fetch_optional(&mut *tx).await?;
            if open.is_none() {
                return Ok::<_, sqlx::Error>(0);
            }
            let mut inserted = 0;
            for chunk in recipients.chunks(CHUNK) {
                let partial_sql;
                let sql = if chunk.len() == CHUNK.min(recipients.len()) {
                    &full_chunk_sql
                } else {
                    partial_sql = insert_sql(chunk.len());
                    &partial_sql
                };
                let mut query = sqlx::query(sql)
                    .bind(community_id).bind(broadcast_id).bind(from).bind(carrier).bind(at);
                for (member_id, phone) in chunk {
                    query = query.bind(*member_id).bind(phone.as_str());
                }
                inserted += query.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(inserted)
        }.await)?;
        Ok(inserted)
    }
}
