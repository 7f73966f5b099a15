//! A message the carrier gave up on for a passing reason (a handset switched off, a queue that
//! overflowed) goes back to `queued` for another attempt: the one move back a status makes.
//!
//! The attempt budget is the same as for any send (`attempts`, counted at each claim), a message
//! of a cancelled broadcast stays failed, and the old provider id is cleared so a late report
//! about the failed attempt cannot touch the new one.

use chrono::Utc;

use super::{Store, StoreError};

/// Where a message to send again goes, and how many attempts it has had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResendCandidate {
    /// The carrier profile whose lane sends it.
    pub carrier: String,
    /// Broadcast messages go back to the broadcast lane, replies to the transactional one.
    pub broadcast_id: Option<i64>,
    pub attempts: u32,
}

const CANDIDATE: &str = "SELECT m.carrier, m.broadcast_id, m.attempts FROM messages m \
    WHERE m.id = $1 AND m.status IN ('failed', 'undelivered') AND m.attempts < $2 \
    AND NOT EXISTS (SELECT 1 FROM broadcasts b WHERE b.id = m.broadcast_id AND b.status = 'cancelled')";
const REQUEUE: &str = "UPDATE messages SET status = 'queued', status_rank = 0, \
    provider_message_id = NULL, sent_at = NULL, delivered_at = NULL, claimed_until_ms = 0, \
    updated_at = $3 WHERE id = $1 AND status IN ('failed', 'undelivered') AND attempts = $2";
const FORGET_PARTS: &str = "DELETE FROM message_parts WHERE message_id = $1";

impl Store {
    /// The message if it failed and may be sent again (attempts left, broadcast not cancelled).
    pub async fn resend_candidate(
        &self,
        message_id: i64,
        max_attempts: u32,
    ) -> Result<Option<ResendCandidate>, StoreError> {
        let row: Option<(String, Option<i64>, i32)> = with_read_pool!(self, pool => sqlx::query_as(CANDIDATE)
            .bind(message_id)
            .bind(i32::try_from(max_attempts).unwrap_or(i32::MAX))
            .fetch_optional(pool)
            .await)?;
        Ok(
            row.map(|(carrier, broadcast_id, attempts)| ResendCandidate {
                carrier,
                broadcast_id,
                attempts: u32::try_from(attempts).unwrap_or(0),
            }),
        )
    }

    /// Puts the failed message back in `queued` (forgetting the failed attempt's parts); false
    /// when it moved on meanwhile or was requeued already. Call after its work item is published.
    pub async fn requeue_for_resend(
        &self,
        message_id: i64,
        attempts: u32,
    ) -> Result<bool, StoreError> {
        let requeued = with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(REQUEUE)
                .bind(message_id)
                .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if done {
                sqlx::query(FORGET_PARTS).bind(message_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(done)
        }
        .await)?;
        Ok(requeued)
    }
}
