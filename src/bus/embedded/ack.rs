//! Settling an embedded delivery: delete, delay or dead-letter its row.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;

use super::now_ms;
use crate::bus::{BusError, Outcome, QueueName, RetryDecision, RetryPolicy, Settled};
use crate::store::Store;

/// Acknowledges one embedded delivery; holding it keeps one prefetch slot and the row's lease.
#[derive(Debug)]
pub struct EmbeddedAck {
    pub(crate) id: i64,
    pub(crate) store: Store,
    pub(crate) retry: RetryPolicy,
    pub(crate) in_flight: Arc<Mutex<HashSet<i64>>>,
    pub(crate) _permit: OwnedSemaphorePermit,
}

impl EmbeddedAck {
    /// Deletes the row (done), delays it (retry), or moves it to `dead_letters`.
    pub async fn settle(
        self,
        queue: &QueueName,
        payload: Bytes,
        attempt: u32,
        outcome: &Outcome,
    ) -> Result<Settled, BusError> {
        let settled = match outcome {
            Outcome::Done => {
                self.store.delete_item(self.id).await?;
                Settled::Acked
            }
            Outcome::Retry { hint, reason } => match self.retry.decide(attempt, *hint) {
                RetryDecision::RetryAfter(delay) => {
                    let visible = now_ms() + delay.as_millis() as i64;
                    self.store
                        .delay_item(self.id, attempt as i32 + 1, visible)
                        .await?;
                    Settled::RetryScheduled(delay)
                }
                RetryDecision::DeadLetter => {
                    let reason = format!("gave up after {attempt} attempts: {reason}");
                    self.store
                        .dead_letter_item(
                            self.id,
                            queue.as_str(),
                            &payload,
                            attempt as i32,
                            &reason,
                            now_ms(),
                        )
                        .await?;
                    Settled::DeadLettered
                }
            },
            Outcome::Reject { reason } => {
                self.store
                    .dead_letter_item(
                        self.id,
                        queue.as_str(),
                        &payload,
                        attempt as i32,
                        reason,
                        now_ms(),
                    )
                    .await?;
                Settled::DeadLettered
            }
        };
        Ok(settled)
    }
}

impl Drop for EmbeddedAck {
    /// Settled or abandoned, the row is no longer ours to keep leased.
    fn drop(&mut self) {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}
