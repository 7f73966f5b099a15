//! The sampler: every 2 s, the gauges that are states rather than events — queue depths and
//! head ages, the outbox, and the progress of running broadcasts.
//!
//! Counts of what goes in and out are recorded where it happens; this task only reads. It
//! also registers the counters that would otherwise appear only after their first event
//! (dead letters, outbox), so dashboards and alerts see a 0 rather than no data.

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::broadcasts::{Progress, Slot, Tracker};
use super::metrics::{
    DEAD_LETTERS_TOTAL, INGEST_OUTBOX_TOTAL, OUTBOX_DEPTH, OUTBOX_FORWARDED_TOTAL, QUEUE_DEPTH,
    QUEUE_OLDEST_AGE_SECONDS,
};
use crate::api::broadcast_json::remaining;
use crate::bus::{Bus, QueueName};
use crate::store::{BroadcastStatus, Store};

/// Time between two samples.
pub const PERIOD: Duration = Duration::from_secs(2);
/// Longest one round of reads may take before it is abandoned (and logged).
const ROUND_LIMIT: Duration = Duration::from_secs(10);
/// Running broadcasts sampled at most, newest first.
const BROADCAST_LIMIT: i64 = 100;

/// Samples `queues` (plus the dead-letter queue), the outbox and running broadcasts until `shutdown`.
pub fn spawn_sampler(
    bus: Bus,
    store: Store,
    mut queues: Vec<QueueName>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    if !queues.contains(&QueueName::dead_letter()) {
        queues.push(QueueName::dead_letter());
    }
    for queue in &queues {
        let label = queue.as_str().to_owned();
        metrics::counter!(DEAD_LETTERS_TOTAL, "queue" => label.clone()).increment(0);
        metrics::counter!(INGEST_OUTBOX_TOTAL, "queue" => label).increment(0);
    }
    metrics::counter!(OUTBOX_FORWARDED_TOTAL).increment(0);
    tokio::spawn(async move {
        let slot = Slot::claim();
        let mut tracker = Tracker::default();
        loop {
            let round = async {
                sample_queues(&bus, &queues).await;
                sample_outbox(&store).await;
                sample_broadcasts(&store, &mut tracker, &slot).await;
            };
            tokio::select! {
                done = tokio::time::timeout(ROUND_LIMIT, round) => if done.is_err() {
                    tracing::warn!("a metrics sample took over {ROUND_LIMIT:?}; abandoned");
                },
                () = shutdown.cancelled() => return,
            }
            tokio::select! {
                () = tokio::time::sleep(PERIOD) => {}
                () = shutdown.cancelled() => return,
            }
        }
    })
}

async fn sample_queues(bus: &Bus, queues: &[QueueName]) {
    for queue in queues {
        match bus.depth(queue).await {
            Ok(depth) => {
                let label = queue.as_str().to_owned();
                metrics::gauge!(QUEUE_DEPTH, "queue" => label.clone()).set(depth.messages as f64);
                metrics::gauge!(QUEUE_OLDEST_AGE_SECONDS, "queue" => label)
                    .set(depth.oldest_age.as_secs_f64());
            }
            // The bus is away (its readiness gauge says so); the last values stay.
            Err(e) => tracing::debug!(%queue, error = %e, "queue not sampled"),
        }
    }
}

async fn sample_outbox(store: &Store) {
    match store.outbox_len().await {
        Ok(n) => metrics::gauge!(OUTBOX_DEPTH).set(n as f64),
        Err(e) => tracing::debug!(error = %e, "outbox not sampled"),
    }
}

async fn sample_broadcasts(store: &Store, tracker: &mut Tracker, slot: &Slot) {
    let listed = match store.running_broadcasts(BROADCAST_LIMIT).await {
        Ok(listed) => listed,
        Err(e) => {
            tracing::debug!(error = %e, "broadcasts not sampled");
            return;
        }
    };
    let ids: Vec<i64> = listed.iter().map(|b| b.id).collect();
    let mut running = Vec::new();
    for b in listed.iter().filter(|b| !tracker.is_finished(b.id)) {
        let counts = match store.message_counts(b.id).await {
            Ok(counts) => counts,
            Err(e) => {
                tracing::debug!(broadcast = b.id, error = %e, "broadcast not sampled");
                return; // publish nothing rather than a partial list that would drop series
            }
        };
        running.push(Progress {
            id: b.id,
            recipients: b.recipients,
            sent: counts.sent + counts.delivered + counts.undelivered + counts.failed,
            remaining: remaining(b, &counts),
            fanned_out: b.status == BroadcastStatus::Sending,
        });
    }
    slot.publish(tracker.observe(Instant::now(), &running, &ids));
}
