//! The part sweep: what becomes of long inbound texts whose parts never all arrived.
//!
//! Vonage resends an unanswered webhook for 24 h, so a set still incomplete [`FLUSH_AFTER`]
//! its first part will not complete. Its text is not dropped (a 2xx'd webhook is never lost):
//! the sweep queues a flush order and the inbound stage files the parts it has, joined, in the
//! leader's inbox, without reading them as a keyword. Complete sets are deleted
//! [`KEEP_COMPLETE`] after their first part, past any retry of theirs. Orders from several
//! instances, or a second sweep before the first order ran, are harmless: the fragment is
//! de-duplicated by its lowest part's id and its set is deleted once applied.

use std::time::Duration;

use bytes::Bytes;
use prost::Message as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::{Bus, BusError, QueueName};
use crate::events::{timestamp, v1};
use crate::store::{Store, StoreError};

/// How long an incomplete set waits for its missing parts.
pub const FLUSH_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How long a complete set is kept to recognise carrier retries of its parts.
pub const KEEP_COMPLETE: Duration = Duration::from_secs(48 * 3600);
/// How often the sweep runs.
const PERIOD: Duration = Duration::from_secs(600);
/// Sets flushed per pass at most; the next pass takes the rest.
const BATCH: i64 = 200;

/// Why a sweep pass stopped early; the next pass tries again.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("part sweep cannot read the store: {0}")]
    Store(#[from] StoreError),
    #[error("part sweep cannot queue a flush: {0}")]
    Bus(#[from] BusError),
}

/// Runs a pass every `PERIOD` until `shutdown`.
pub fn spawn_part_sweep(bus: Bus, store: Store, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(PERIOD) => {}
                () = shutdown.cancelled() => return,
            }
            let now_ms = chrono::Utc::now().timestamp_millis();
            if let Err(e) = sweep_parts_once(&bus, &store, now_ms).await {
                tracing::warn!(error = %e, "part sweep incomplete");
            }
        }
    })
}

/// One pass as of `now_ms`: queues a flush order per stale incomplete set and deletes old
/// complete ones; returns how many flush orders were queued.
pub async fn sweep_parts_once(bus: &Bus, store: &Store, now_ms: i64) -> Result<usize, SweepError> {
    let stale = store
        .stale_inbound_part_sets(now_ms - FLUSH_AFTER.as_millis() as i64, BATCH)
        .await?;
    let at = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_else(chrono::Utc::now);
    let orders: Vec<Bytes> = stale
        .iter()
        .map(|set| {
            let order = v1::ProcessInbound {
                carrier: set.carrier.clone(),
                provider_message_id: String::new(),
                from: set.from.as_str().to_owned(),
                to: set.to.as_str().to_owned(),
                body: String::new(),
                received_at: Some(timestamp(at)),
                concat: Some(v1::ConcatPart {
                    reference: set.reference.clone(),
                    total: u32::from(set.total),
                    part: 0,
                }),
                flush_concat: true,
            };
            Bytes::from(order.encode_to_vec())
        })
        .collect();
    if !orders.is_empty() {
        bus.publish(&QueueName::inbound(), &orders).await?;
    }
    store
        .purge_inbound_part_sets(now_ms - KEEP_COMPLETE.as_millis() as i64)
        .await?;
    Ok(orders.len())
}
