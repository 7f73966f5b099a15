//! What the leader API needs beyond creation: idempotent replays and the daily-cap budget.

use chrono::{DateTime, Utc};

use super::broadcasts::{BroadcastRow, COLUMNS};
use super::{Broadcast, Store, StoreError};

impl Store {
    /// The broadcast created earlier with this idempotency key, so a replay skips the cap check.
    pub async fn broadcast_by_idempotency_key(
        &self,
        community_id: i64,
        key: &str,
    ) -> Result<Option<Broadcast>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM broadcasts WHERE community_id = $1 AND idempotency_key = $2"
        );
        let row: Option<BroadcastRow> = with_read_pool!(self, pool => sqlx::query_as(&sql)
            .bind(community_id).bind(key).fetch_optional(pool).await)?;
        row.map(Broadcast::try_from).transpose()
    }

    /// Messages counted against the daily cap: sent since `since`, plus every recipient of the
    /// community's unfinished broadcasts. Deliberately over-counts (a half-sent broadcast counts
    /// its sent part twice) because the cap exists to stop cost fraud, and a dozen broadcasts
    /// created back to back must not each see an empty budget.
    pub async fn messages_committed_since(
        &self,
        community_id: i64,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let sql = "SELECT CAST(\
             (SELECT COUNT(*) FROM messages WHERE community_id = $1 AND sent_at >= $2) + \
             (SELECT COALESCE(SUM(recipients), 0) FROM broadcasts WHERE community_id = $1 \
              AND status IN ('scheduled', 'fanning_out', 'sending')) AS BIGINT)";
        let n: i64 = with_read_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(community_id).bind(since).fetch_one(pool).await)?;
        Ok(n)
    }
}
