//! Settling an embedded delivery: delete, delay or dead-letter its row.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;

use super::now_ms;
use crate::bus::{BusError, Outcome, QueueName, RetryDecision, RetryPolicy, Settled};
use crate::pipeline::{BatchConfig, Batcher};
use crate::store::Store;

/// Acknowledgements deleted in one statement at most.
const ACKS_PER_COMMIT: usize = 512;

/// Group-commits acknowledgements: concurrent acks share one `DELETE`, so a busy pipeline
/// pays one write per batch instead of one per item (they were a fifth of all statements).
pub(crate) type AckCommits = Batcher<(), i64, ()>;

/// Starts the group commit of `store`'s acknowledgements; needs a Tokio runtime.
pub(crate) fn spawn_ack_commits(store: Store) -> AckCommits {
    let config = BatchConfig {
        size: ACKS_PER_COMMIT,
        timeout: std::time::Duration::ZERO,
        capacity: ACKS_PER_COMMIT * 8,
    };
    let (commits, _task) = Batcher::spawn(config, move |(), ids: Vec<i64>, _| {
        let store = store.clone();
        async move {
            let n = ids.len();
            store.delete_items(&ids).await.map_err(|e| e.to_string())?;
            Ok(vec![(); n])
        }
    });
    commits
}

/// Acknowledges one embedded delivery; holding it keeps one prefetch slot and the row's lease.
#[derive(Debug)]
pub struct EmbeddedAck {
    pub(crate) id: i64,
    pub(crate) store: Store,
    pub(crate) acks: AckCommits,
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
                self.acks
                    .submit((), self.id)
                    .await
                    .map_err(|e| BusError::Embedded(e.to_string()))?;
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
