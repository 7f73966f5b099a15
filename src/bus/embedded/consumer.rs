//! The task that turns visible rows into deliveries, never holding more than the prefetch.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::{AckCommits, EmbeddedAck, EmbeddedConfig, now_ms};
use crate::bus::delivery::Acker;
use crate::bus::{ConsumeOptions, Consumer, Delivery, QueueName};
use crate::store::Store;

/// Rows leased per round trip at most.
const LEASE_BATCH: usize = 256;

/// Starts the leasing loop and the lease heartbeat for `queue`.
pub(super) fn spawn(
    store: Store,
    acks: AckCommits,
    config: EmbeddedConfig,
    queue: QueueName,
    options: ConsumeOptions,
    waker: Arc<Notify>,
) -> Consumer {
    let prefetch = usize::from(options.prefetch.max(1));
    let (tx, rx) = mpsc::channel(prefetch);
    let cancel = CancellationToken::new();
    let permits = Arc::new(Semaphore::new(prefetch));
    let in_flight = Arc::new(Mutex::new(HashSet::new()));

    // Both tasks write for the stage that consumes, so they keep its place at SQLite's writer.
    tokio::spawn(crate::store::inherit(heartbeat(
        store.clone(),
        config,
        in_flight.clone(),
        cancel.clone(),
    )));
    let loop_cancel = cancel.clone();
    tokio::spawn(crate::store::inherit(async move {
        let mut idle = Duration::from_millis(1);
        loop {
            let first = tokio::select! {
                permit = permits.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => return },
                () = loop_cancel.cancelled() => return,
            };
            let mut held = vec![first];
            while held.len() < LEASE_BATCH {
                match permits.clone().try_acquire_owned() {
                    Ok(p) => held.push(p),
                    Err(_) => break,
                }
            }
            let now = now_ms();
            let lease_until = now + config.lease.as_millis() as i64;
            let items = match store
                .lease_items(queue.as_str(), held.len() as i64, now, lease_until)
                .await
            {
                Ok(items) => items,
                Err(e) => {
                    tracing::warn!(queue = %queue, error = %e, "cannot lease work items; retrying");
                    Vec::new()
                }
            };
            if items.is_empty() {
                drop(held);
                tokio::select! {
                    () = waker.notified() => {}
                    () = tokio::time::sleep(idle) => {}
                    () = loop_cancel.cancelled() => return,
                }
                idle = (idle * 2).min(config.max_idle);
                continue;
            }
            idle = Duration::from_millis(1);
            for item in items {
                let Some(permit) = held.pop() else { break };
                in_flight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(item.id);
                let ack = EmbeddedAck {
                    id: item.id,
                    store: store.clone(),
                    acks: acks.clone(),
                    retry: config.retry,
                    in_flight: in_flight.clone(),
                    _permit: permit,
                };
                let delivery = Delivery {
                    payload: Bytes::from(item.payload),
                    queue: queue.clone(),
                    attempt: item.attempt.max(1) as u32,
                    acker: Acker::Embedded(ack),
                };
                if tx.send(delivery).await.is_err() {
                    return; // the consumer was dropped; unsent leases expire and the rows come back
                }
            }
        }
    }));
    Consumer { rx, cancel }
}

/// Extends the leases of in-flight items so long work (a big fan-out) is not delivered twice.
async fn heartbeat(
    store: Store,
    config: EmbeddedConfig,
    in_flight: Arc<Mutex<HashSet<i64>>>,
    cancel: CancellationToken,
) {
    let period = config.lease / 3;
    loop {
        tokio::time::sleep(period).await;
        let ids: Vec<i64> = in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect();
        if ids.is_empty() && cancel.is_cancelled() {
            return;
        }
        let until = now_ms() + config.lease.as_millis() as i64;
        if let Err(e) = store.extend_leases(&ids, until).await {
            tracing::warn!(error = %e, "cannot extend leases of in-flight work items");
        }
    }
}
