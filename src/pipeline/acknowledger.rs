//! Broadway's acknowledger: settles a delivery once its effect is durable, and counts how.

use std::time::Instant;

use crate::bus::{Delivery, Outcome, Settled};
use crate::telemetry::metrics::{STAGE_COMPLETED_TOTAL, STAGE_DURATION_SECONDS};

/// Settles `delivery` with `outcome`; a failure to settle leaves the item to be redelivered.
pub async fn settle(stage: &'static str, delivery: Delivery, outcome: Outcome, started: Instant) {
    let label = match &outcome {
        Outcome::Done => "done",
        Outcome::Retry { .. } => "retry",
        Outcome::Reject { .. } => "rejected",
    };
    if let Outcome::Reject { reason } = &outcome {
        tracing::warn!(stage, queue = %delivery.queue, reason, "work item rejected to the dead-letter queue");
    }
    let queue = delivery.queue.clone();
    match delivery.settle(outcome).await {
        Ok(Settled::DeadLettered) => {
            tracing::warn!(stage, queue = %queue, "work item dead-lettered");
            metrics::counter!(STAGE_COMPLETED_TOTAL, "stage" => stage, "outcome" => "dead_lettered").increment(1);
        }
        Ok(_) => metrics::counter!(STAGE_COMPLETED_TOTAL, "stage" => stage, "outcome" => label)
            .increment(1),
        Err(e) => {
            // Not acknowledged: the broker (or the lease) brings it back; the work is idempotent.
            tracing::warn!(stage, queue = %queue, error = %e, "cannot settle a work item; it will be redelivered");
            metrics::counter!(STAGE_COMPLETED_TOTAL, "stage" => stage, "outcome" => "unsettled")
                .increment(1);
        }
    }
    metrics::histogram!(STAGE_DURATION_SECONDS, "stage" => stage)
        .record(started.elapsed().as_secs_f64());
}
