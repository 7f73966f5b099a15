//! The outbox forwarder: publishes what ingest parked in the store while the broker was away.

use std::time::Duration;

use bytes::Bytes;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::{Bus, QueueName};
use crate::store::Store;
use crate::telemetry::metrics::{OUTBOX_DEPTH, OUTBOX_FORWARDED_TOTAL};

/// Items forwarded per round trip.
const BATCH: i64 = 200;

/// Forwards outbox rows to their queues, oldest first, deleting each only after its confirm.
pub fn spawn_forwarder(bus: Bus, store: Store, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let forwarded = match forward_once(&bus, &store).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox forwarding paused");
                    0
                }
            };
            if let Ok(depth) = store.outbox_len().await {
                metrics::gauge!(OUTBOX_DEPTH).set(depth as f64);
            }
            let pause = if forwarded > 0 {
                Duration::ZERO
            } else {
                Duration::from_millis(500)
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = shutdown.cancelled() => return,
            }
        }
    })
}

/// One pass: publish a batch while the bus is up; returns how many rows left the outbox.
pub async fn forward_once(
    bus: &Bus,
    store: &Store,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    if !bus.is_ready() {
        return Ok(0);
    }
    let items = store.outbox_peek(BATCH).await?;
    let mut done = Vec::with_capacity(items.len());
    for item in items {
        let queue = QueueName::from_stored(&item.routing_key);
        if let Err(e) = bus.publish(&queue, &[Bytes::from(item.payload)]).await {
            tracing::debug!(error = %e, "broker still unavailable for the outbox");
            break;
        }
        done.push(item.id);
    }
    store.outbox_delete(&done).await?;
    metrics::counter!(OUTBOX_FORWARDED_TOTAL).increment(done.len() as u64);
    Ok(done.len())
}
