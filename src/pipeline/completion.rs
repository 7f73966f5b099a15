//! The completion sweep: a broadcast whose every message has left the pipeline is `completed`.
//!
//! No single stage sees a broadcast's last message go (chunks are sent concurrently, on any
//! instance), so every `PERIOD` each instance asks the store to complete the `sending`
//! broadcasts that have nothing `queued` or `sending` left. The update is idempotent, so
//! instances need not agree on who does it. A completed broadcast stops counting against its
//! community's daily cap, leaves the running-broadcast gauges, and can no longer be cancelled.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::store::Store;
use crate::telemetry::metrics::BROADCASTS_COMPLETED_TOTAL;

/// How often the sweep runs: the longest a finished broadcast still reads `sending`.
pub const PERIOD: Duration = Duration::from_secs(1);

/// Runs the sweep until `shutdown`.
pub fn spawn_completion(store: Store, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(PERIOD) => {}
                () = shutdown.cancelled() => return,
            }
            match store.complete_finished_broadcasts(chrono::Utc::now()).await {
                Ok(ids) => {
                    for id in &ids {
                        tracing::info!(broadcast_id = id, "broadcast completed");
                    }
                    metrics::counter!(BROADCASTS_COMPLETED_TOTAL).increment(ids.len() as u64);
                }
                Err(e) => tracing::warn!(error = %e, "completion sweep failed; trying again"),
            }
        }
    })
}
