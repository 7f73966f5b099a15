//! Every pipeline knob in one place, with defaults sized for a 2-core machine.
//!
//! Set them in the config file's `[pipeline]` table, e.g.
//! ```toml
//! [pipeline]
//! deliver_chunk = 100
//! claim_lease_ms = 30000
//! ```

use std::time::Duration;

/// Concurrency, buffer, batch and retry settings of the stages.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Inbound texts processed at once (keyword handling, one transaction each).
    pub inbound_concurrency: usize,
    /// Unacknowledged inbound items held (RabbitMQ prefetch); ≥ concurrency.
    pub inbound_prefetch: u16,
    /// Broadcasts fanned out at once.
    pub fanout_concurrency: usize,
    /// Members read per page during fan-out (one multi-row insert each).
    pub fanout_page: i64,
    /// Message ids per delivery work item: one broker message carries this many sends.
    pub deliver_chunk: usize,
    /// Broadcast delivery work items (chunks) processed at once per carrier.
    pub deliver_concurrency: usize,
    /// Unacknowledged broadcast delivery work items held per carrier.
    pub deliver_prefetch: u16,
    /// Keyword replies processed at once per carrier. A reply is a work item of one message,
    /// so this is how many replies can be on their way together; a broadcast chunk carries
    /// `deliver_chunk` sends, so its lane needs far fewer items in progress.
    pub reply_concurrency: usize,
    /// Unacknowledged keyword replies held per carrier; ≥ reply_concurrency.
    pub reply_prefetch: u16,
    /// How long a claimed (`sending`) message is protected before another worker may retry it.
    pub claim_lease_ms: u64,
    /// Status callbacks applied at once.
    pub receipts_concurrency: usize,
    /// Unacknowledged receipts held.
    pub receipts_prefetch: u16,
    /// Send results written per database round trip.
    pub record_batch_size: usize,
    /// Longest wait before a partial batch of send results is written.
    pub record_batch_timeout_ms: u64,
    /// Deliveries of one work item before it is dead-lettered (at most 5).
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt, jittered.
    pub retry_base_ms: u64,
    /// Longest retry delay, including carriers' Retry-After hints.
    pub retry_max_ms: u64,
    /// Embedded bus: how long a leased queue row stays invisible without a heartbeat.
    pub embedded_lease_ms: u64,
    /// How long an instance's lease on a carrier's lanes lasts without renewal (renewed every
    /// fifth of it): the longest a dead instance's carrier waits before another takes over.
    pub carrier_lease_ms: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            inbound_concurrency: 16,
            inbound_prefetch: 64,
            fanout_concurrency: 2,
            fanout_page: 1000,
            deliver_chunk: 50,
            deliver_concurrency: 16,
            deliver_prefetch: 32,
            reply_concurrency: 64,
            reply_prefetch: 128,
            claim_lease_ms: 30_000,
            receipts_concurrency: 16,
            receipts_prefetch: 64,
            record_batch_size: 200,
            record_batch_timeout_ms: 5,
            max_attempts: 5,
            retry_base_ms: 1000,
            retry_max_ms: 300_000,
            embedded_lease_ms: 30_000,
            carrier_lease_ms: 5_000,
        }
    }
}

impl PipelineConfig {
    /// The retry policy the bus applies.
    pub fn retry_policy(&self) -> crate::bus::RetryPolicy {
        crate::bus::RetryPolicy {
            max_attempts: self.max_attempts,
            base_delay: Duration::from_millis(self.retry_base_ms),
            max_delay: Duration::from_millis(self.retry_max_ms),
        }
    }

    /// Checks bounds serde cannot express; returns the offending key and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let positive = [
            ("inbound_concurrency", self.inbound_concurrency),
            ("fanout_concurrency", self.fanout_concurrency),
            ("deliver_chunk", self.deliver_chunk),
            ("deliver_concurrency", self.deliver_concurrency),
            ("reply_concurrency", self.reply_concurrency),
            ("receipts_concurrency", self.receipts_concurrency),
            ("record_batch_size", self.record_batch_size),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err((key, "must be at least 1".into()));
            }
        }
        if !(1..=5).contains(&self.max_attempts) {
            return Err((
                "max_attempts",
                format!("must be between 1 and 5, found {}", self.max_attempts),
            ));
        }
        if self.carrier_lease_ms < 500 {
            return Err((
                "carrier_lease_ms",
                format!("must be at least 500 (ms), found {}", self.carrier_lease_ms),
            ));
        }
        if self.fanout_page < 1 {
            return Err(("fanout_page", "must be at least 1".into()));
        }
        Ok(())
    }
}
