//! A broadcast's life after creation: status, fan-out cursor, cancellation, progress counts.

use chrono::{DateTime, Utc};

use super::broadcasts::{BroadcastRow, COLUMNS};
use super::decode::message_status;
use super::{Broadcast, BroadcastStatus, Store, StoreError};
use crate::domain::MessageStatus;

/// The stored broadcast status as a rank, so a status update can only move forward.
const RANK_SQL: &str = "(CASE status WHEN 'scheduled' THEN 0 WHEN 'fanning_out' THEN 1 \
    WHEN 'sending' THEN 2 ELSE 3 END)";

/// How many of a broadcast's messages are in each status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub delivered: i64,
    pub undelivered: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl StatusCounts {
    /// The counter for one status.
    pub fn get_mut(&mut self, status: MessageStatus) -> &mut i64 {
        match status {
            MessageStatus::Queued => &mut self.queued,
            MessageStatus::Sending => &mut self.sending,
            MessageStatus::Sent => &mut self.sent,
            MessageStatus::Delivered => &mut self.delivered,
            MessageStatus::Undelivered => &mut self.undelivered,
            MessageStatus::Failed => &mut self.failed,
            MessageStatus::Cancelled => &mut self.cancelled,
        }
    }

    /// Every message of the broadcast, whatever its status.
    pub fn total(&self) -> i64 {
        self.queued
            + self.sending
            + self.sent
            + self.delivered
            + self.undelivered
            + self.failed
            + self.cancelled
    }
}

impl Store {
    /// Cancels a broadcast and, in the same transaction, its still-`queued` messages; messages
    /// already handed to a carrier keep their status. Returns the broadcast as it now is
    /// (a completed one stays completed, and one whose every message is already out completes
    /// rather than cancels), or `None` if the community has no such broadcast.
    pub async fn cancel_broadcast(
        &self,
        community_id: i64,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<Broadcast>, StoreError> {
        let sql = format!(
            "UPDATE broadcasts SET status = 'cancelled', cancelled_at = $3 WHERE community_id = $1 AND id = $2 \
             AND status IN ('scheduled', 'fanning_out', 'sending') RETURNING {COLUMNS}"
        );
        let messages = "UPDATE messages SET status = 'cancelled', status_rank = 3, updated_at = $2 \
                        WHERE broadcast_id = $1 AND status = 'queued'";
        self.complete_if_finished(id, at).await?;
        let cancelled: Option<BroadcastRow> = with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let row: Option<BroadcastRow> = sqlx::query_as(&sql)
                .bind(community_id).bind(id).bind(at).fetch_optional(&mut *tx).await?;
            if row.is_some() {
                sqlx::query(messages).bind(id).bind(at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(row)
        }.await)?;
        match cancelled {
            Some(row) => Ok(Some(row.try_into()?)),
            None => self.broadcast(community_id, id).await,
        }
    }

    /// Moves a broadcast forward (never back, never out of `completed`/`cancelled`); false if it did not move.
    /// Cancelling goes through [`Store::cancel_broadcast`], which also cancels queued messages.
    pub async fn set_broadcast_status(
        &self,
        id: i64,
        status: BroadcastStatus,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE broadcasts SET status = $2, started_at = COALESCE(started_at, $4), \
             completed_at = COALESCE(completed_at, $5), cancelled_at = COALESCE(cancelled_at, $6) \
             WHERE id = $1 AND {RANK_SQL} < $3"
        );
        let when = |s: BroadcastStatus| (status == s).then_some(at);
        let done = with_pool!(self, pool => sqlx::query(&sql)
            .bind(id)
            .bind(status.as_str())
            .bind(status.rank())
            .bind(when(BroadcastStatus::FanningOut))
            .bind(when(BroadcastStatus::Completed))
            .bind(when(BroadcastStatus::Cancelled))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Fan-out is over: the broadcast is `sending`, and its recipient count becomes the rows it
    /// really has (members who joined during the fan-out are included, those who left are not).
    pub async fn finish_fanout(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE broadcasts SET status = 'sending', started_at = COALESCE(started_at, $2), \
             recipients = (SELECT COUNT(*) FROM messages WHERE broadcast_id = $1) \
             WHERE id = $1 AND {RANK_SQL} < 2"
        );
        let done = with_pool!(self, pool => sqlx::query(&sql).bind(id).bind(at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Marks every `sending` broadcast none of whose messages is still `queued` or `sending`
    /// as `completed`; returns their ids. Idempotent, so every instance may run it.
    pub async fn complete_finished_broadcasts(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let sql = "UPDATE broadcasts SET status = 'completed', completed_at = $1 \
                   WHERE status = 'sending' AND NOT EXISTS (SELECT 1 FROM messages m \
                   WHERE m.broadcast_id = broadcasts.id AND m.status IN ('queued', 'sending')) \
                   RETURNING id";
        let ids = with_pool!(self, pool => sqlx::query_scalar(sql).bind(at).fetch_all(pool).await)?;
        Ok(ids)
    }

    /// [`Store::complete_finished_broadcasts`] for one broadcast.
    async fn complete_if_finished(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        let sql = "UPDATE broadcasts SET status = 'completed', completed_at = $1 \
                   WHERE id = $2 AND status = 'sending' AND NOT EXISTS (SELECT 1 FROM messages m \
                   WHERE m.broadcast_id = $2 AND m.status IN ('queued', 'sending'))";
        with_pool!(self, pool => sqlx::query(sql).bind(at).bind(id).execute(pool).await.map(drop))?;
        Ok(())
    }

    /// Records fan-out progress; the cursor only moves forward so a late writer cannot rewind it.
    pub async fn save_fanout_cursor(
        &self,
        broadcast_id: i64,
        last_member_id: i64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE broadcasts SET fanout_cursor = $2 WHERE id = $1 AND fanout_cursor < $2";
        with_pool!(self, pool => sqlx::query(sql).bind(broadcast_id).bind(last_member_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Progress of a broadcast: its messages counted per status.
    pub async fn message_counts(&self, broadcast_id: i64) -> Result<StatusCounts, StoreError> {
        let sql = "SELECT status, COUNT(*) FROM messages WHERE broadcast_id = $1 GROUP BY status";
        let rows: Vec<(String, i64)> = with_read_pool!(self, pool => sqlx::query_as(sql).bind(broadcast_id).fetch_all(pool).await)?;
        let mut counts = StatusCounts::default();
        for (status, n) in rows {
            *counts.get_mut(message_status(&status)?) += n;
        }
        Ok(counts)
    }

    /// Messages this community had sent (handed to a carrier) since `since`, for its daily cap.
    pub async fn messages_sent_today(
        &self,
        community_id: i64,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM messages WHERE community_id = $1 AND sent_at >= $2";
        let n = with_read_pool!(self, pool => sqlx::query_scalar(sql).bind(community_id).bind(since).fetch_one(pool).await)?;
        Ok(n)
    }
}
