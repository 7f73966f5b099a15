//! The reads behind the metrics sampler: running broadcasts, queue heads, dead letters.
//!
//! Each is an index range or a small table, because the sampler runs them every 2 s.

use super::broadcasts::{BroadcastRow, COLUMNS};
use super::{Broadcast, Store, StoreError};

impl Store {
    /// Broadcasts fanning out or sending, newest first, at most `limit`.
    ///
    /// A broadcast stays `sending` for up to a completion sweep after its last message is out
    /// (`pipeline::completion`), so callers skip those they have seen finish.
    pub async fn running_broadcasts(&self, limit: i64) -> Result<Vec<Broadcast>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM broadcasts WHERE status IN ('fanning_out', 'sending') \
             ORDER BY id DESC LIMIT $1"
        );
        let rows: Vec<BroadcastRow> =
            with_read_pool!(self, pool => sqlx::query_as(&sql).bind(limit).fetch_all(pool).await)?;
        rows.into_iter().map(Broadcast::try_from).collect()
    }

    /// The smallest `visible_at_ms` in `queue` (index-only): when the oldest item waiting to be
    /// leased became visible. In the future when every item is leased or delayed.
    pub async fn queue_head_visible_ms(&self, queue: &str) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT MIN(visible_at_ms) FROM queue_items WHERE queue = $1";
        let ms: Option<i64> = with_read_pool!(self, pool => sqlx::query_scalar(sql).bind(queue).fetch_one(pool).await)?;
        Ok(ms)
    }

    /// Dead letters kept, and when the oldest of them died.
    pub async fn dead_letter_stats(&self) -> Result<(i64, Option<i64>), StoreError> {
        let sql = "SELECT COUNT(*), MIN(dead_at_ms) FROM dead_letters";
        let stats: (i64, Option<i64>) =
            with_read_pool!(self, pool => sqlx::query_as(sql).fetch_one(pool).await)?;
        Ok(stats)
    }
}
