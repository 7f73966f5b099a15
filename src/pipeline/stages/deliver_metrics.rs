//! The deliver stage's metric handles, registered once per carrier rather than per send.

use metrics::{Counter, Histogram};

use crate::telemetry::metrics::{
    CARRIER_REQUEST_DURATION_SECONDS, CARRIER_SENDS_TOTAL, THROTTLE_WAIT_SECONDS,
};

/// Every outcome label of `floodgate_carrier_sends_total`.
const OUTCOMES: [&str; 12] = [
    "sent",
    "failed",
    "opted_out",
    "retry",
    "throttled",
    "skipped_opted_out",
    "skipped_cancelled",
    "held_at_departure",
    "capped",
    "sender_busy",
    "parked",
    "claim_lost",
];

/// Handles for one carrier; recording through them allocates nothing.
#[derive(Clone)]
pub struct DeliverMetrics {
    sends: [Counter; OUTCOMES.len()],
    /// Time a send waited for its token bucket.
    pub throttle_wait: Histogram,
    /// Carrier API request latency.
    pub request_duration: Histogram,
}

impl DeliverMetrics {
    /// Registers the handles labelled with `carrier`.
    pub fn new(carrier: &str) -> Self {
        let carrier = carrier.to_owned();
        Self {
            sends: OUTCOMES.map(|outcome| metrics::counter!(CARRIER_SENDS_TOTAL, "carrier" => carrier.clone(), "outcome" => outcome)),
            throttle_wait: metrics::histogram!(THROTTLE_WAIT_SECONDS, "carrier" => carrier.clone()),
            request_duration: metrics::histogram!(CARRIER_REQUEST_DURATION_SECONDS, "carrier" => carrier),
        }
    }

    /// Counts one send attempt by outcome (one of [`OUTCOMES`]).
    pub fn count(&self, outcome: &'static str) {
        self.count_n(outcome, 1);
    }

    /// Counts `n` sends with one outcome.
    pub fn count_n(&self, outcome: &'static str, n: u64) {
        debug_assert!(OUTCOMES.contains(&outcome), "unknown outcome {outcome}");
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.sends[i].increment(n);
        }
    }
}
