//! Fan-out writes: one `queued` message per member, many thousand rows per statement.

use std::fmt::Write;

use chrono::Utc;

use super::pool::Pool;
use super::{Store, StoreError};
use crate::domain::{PhoneNumber, SenderAddress};

/// Locks the broadcast row for the rest of the transaction (a write on both engines) and moves the
/// fan-out cursor, but only while the broadcast may still fan out: a concurrent cancel either
/// waits for this batch (and then cancels its rows) or wins (and this batch inserts nothing).
const LOCK_AND_ADVANCE: &str = "UPDATE broadcasts \
    SET fanout_cursor = CASE WHEN fanout_cursor < $3 THEN $3 ELSE fanout_cursor END \
    WHERE id = $1 AND community_id = $2 AND status IN ('scheduled', 'fanning_out', 'sending') RETURNING id";

/// PostgreSQL's fast path: two arrays instead of 2 parameters per row, so one short statement
/// (planned once) carries any number of rows: 1M rows took 33 s instead of 52 s with VALUES lists.
const PG_INSERT_UNNEST: &str = "INSERT INTO messages (community_id, broadcast_id, from_number, carrier, \
    created_at, updated_at, member_id, to_number, priority, status, status_rank) \
    SELECT $1, $2, $3, $4, $5, $5, r.member_id, r.to_number, 'broadcast', 'queued', 0 \
    FROM UNNEST($6::BIGINT[], $7::TEXT[]) AS r (member_id, to_number) \
    ON CONFLICT (broadcast_id, member_id) DO NOTHING";

/// SQLite's fast path: the rows travel as one JSON array of `[member_id, phone]` pairs that
/// SQLite unpacks itself, instead of 2 bound parameters per row through the driver: 1M rows
/// took 18 s instead of 123 s (debug build).
const SQLITE_INSERT_JSON: &str = "INSERT INTO messages (community_id, broadcast_id, from_number, carrier, \
    created_at, updated_at, member_id, to_number, priority, status, status_rank) \
    SELECT $1, $2, $3, $4, $5, $5, json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), \
    'broadcast', 'queued', 0 FROM json_each($6) AS r WHERE true \
    ON CONFLICT (broadcast_id, member_id) DO NOTHING";

/// `[[member_id,"+1..."],...]`; phone numbers are E.164 (`+` and digits), so need no escaping.
fn json_pairs(recipients: &[(i64, PhoneNumber)]) -> String {
    let mut json = String::with_capacity(recipients.len() * 28 + 2);
    json.push('[');
    for (i, (member_id, phone)) in recipients.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(json, "{sep}[{member_id},\"{phone}\"]");
    }
    json.push(']');
    json
}

impl Store {
    /// Queues one message per (member id, phone) and advances the fan-out cursor to the batch's
    /// highest member id, in one transaction; rows that already exist are skipped, so a fan-out
    /// resumed after a crash can replay a batch. Returns the rows inserted (0 once cancelled).
    /// The batch is one write transaction: on SQLite keep it to ~10,000 rows (about 0.1 s) so
    /// the single write lock never keeps inbound webhooks waiting.
    pub async fn insert_broadcast_messages(
        &self,
        broadcast_id: i64,
        community_id: i64,
        carrier: &str,
        from: Option<&SenderAddress>,
        recipients: &[(i64, PhoneNumber)],
    ) -> Result<u64, StoreError> {
        let Some(cursor) = recipients.iter().map(|(id, _)| *id).max() else {
            return Ok(0);
        };
        let from = from.map(SenderAddress::as_str);
        let at = Utc::now();
        let _turn = self.write_turn().await;
        let inserted = match &self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let open: Option<i64> = sqlx::query_scalar(LOCK_AND_ADVANCE)
                    .bind(broadcast_id)
                    .bind(community_id)
                    .bind(cursor)
                    .fetch_optional(&mut *tx)
                    .await?;
                let mut inserted = 0;
                if open.is_some() {
                    inserted = sqlx::query(SQLITE_INSERT_JSON)
                        .bind(community_id)
                        .bind(broadcast_id)
                        .bind(from)
                        .bind(carrier)
                        .bind(at)
                        .bind(json_pairs(recipients))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                tx.commit().await?;
                inserted
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let open: Option<i64> = sqlx::query_scalar(LOCK_AND_ADVANCE)
                    .bind(broadcast_id)
                    .bind(community_id)
                    .bind(cursor)
                    .fetch_optional(&mut *tx)
                    .await?;
                let mut inserted = 0;
                if open.is_some() {
                    let member_ids: Vec<i64> = recipients.iter().map(|(id, _)| *id).collect();
                    let phones: Vec<&str> = recipients.iter().map(|(_, p)| p.as_str()).collect();
                    inserted = sqlx::query(PG_INSERT_UNNEST)
                        .bind(community_id)
                        .bind(broadcast_id)
                        .bind(from)
                        .bind(carrier)
                        .bind(at)
                        .bind(member_ids)
                        .bind(phones)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                tx.commit().await?;
                inserted
            }
        };
        Ok(inserted)
    }
}
