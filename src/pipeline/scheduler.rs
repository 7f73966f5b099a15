//! The scheduler sweep: re-queues the fan-out of broadcasts that should have started and did not.
//!
//! Creating a broadcast commits its row, then publishes its fan-out; a crash (or a broker and
//! outbox both failing) between the two would strand it. Every `PERIOD` this sweep publishes the
//! fan-out again for broadcasts still `scheduled` `GRACE` after their `send_at`. A second fan-out
//! of the same broadcast is harmless: rows are unique per member and sends are claimed.

use std::time::Duration;

use bytes::Bytes;
use prost::Message as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::{Bus, QueueName};
use crate::events::v1;
use crate::store::Store;

/// How often the sweep runs.
const PERIOD: Duration = Duration::from_secs(30);
/// How long after `send_at` a broadcast may still be waiting in the fan-out queue.
const GRACE: Duration = Duration::from_secs(120);

/// Runs the sweep until `shutdown`.
pub fn spawn_scheduler(bus: Bus, store: Store, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(PERIOD) => {}
                () = shutdown.cancelled() => return,
            }
            let before = chrono::Utc::now().timestamp_millis() - GRACE.as_millis() as i64;
            let overdue = match store.overdue_broadcasts(before, 100).await {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduler cannot read overdue broadcasts");
                    continue;
                }
            };
            for id in overdue {
                let work = Bytes::from(v1::FanOutBroadcast { broadcast_id: id }.encode_to_vec());
                match bus.publish(&QueueName::fanout(), &[work]).await {
                    Ok(()) => tracing::warn!(
                        broadcast_id = id,
                        "re-queued the fan-out of an overdue broadcast"
                    ),
                    Err(e) => {
                        tracing::warn!(broadcast_id = id, error = %e, "cannot re-queue an overdue broadcast")
                    }
                }
            }
        }
    })
}
