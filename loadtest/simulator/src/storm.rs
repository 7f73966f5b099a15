//! The storm section of the report: how hard the client pushed while every request was
//! answered over-limit, and how it came back afterwards. A client that backs off sends
//! few requests during the storm; one that recovers well has its first accepted request
//! soon after the storm ends.

use serde::{Deserialize, Serialize};

use crate::config::Storm;
use crate::record::{Entry, Outcome};
use crate::window::{ONE_SECOND_US, scan};

/// Requests around the storm window `[start_ms, end_ms)` (simulator clock).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StormReport {
    /// Start of the window.
    pub start_ms: f64,
    /// End of the window (exclusive).
    pub end_ms: f64,
    /// Fraction of requests in the window answered over-limit.
    pub ratio: f64,
    /// Requests received before the window.
    pub requests_before: u64,
    /// Requests received in the window.
    pub requests_during: u64,
    /// Of which throttled by the storm.
    pub throttled_by_storm: u64,
    /// Of which accepted (only when `ratio < 1`).
    pub accepted_during: u64,
    /// Most requests in any one-second window inside the storm.
    pub max_requests_1s_during: u64,
    /// Requests received after the window.
    pub requests_after: u64,
    /// Of which accepted.
    pub accepted_after: u64,
    /// Milliseconds from the end of the window to the first accepted request after it.
    pub first_accepted_after_ms: Option<f64>,
}

/// Splits the log (in time order) around `storm`.
pub(crate) fn report(entries: &[Entry], storm: Storm) -> StormReport {
    let start = u64::try_from(storm.start.as_micros()).unwrap_or(u64::MAX);
    let end = u64::try_from(storm.end().as_micros()).unwrap_or(u64::MAX);
    let from = entries.partition_point(|e| e.at_us < start);
    let to = entries.partition_point(|e| e.at_us < end);
    let (during, after) = (&entries[from..to], &entries[to..]);
    let accepted = |es: &[Entry]| {
        es.iter()
            .filter(|e| e.outcome() == Outcome::Accepted)
            .count() as u64
    };
    let times: Vec<(u64, u32)> = during.iter().map(|e| (e.at_us, 1)).collect();
    StormReport {
        start_ms: start as f64 / 1000.0,
        end_ms: end as f64 / 1000.0,
        ratio: storm.ratio,
        requests_before: from as u64,
        requests_during: during.len() as u64,
        throttled_by_storm: during.iter().filter(|e| e.in_storm()).count() as u64,
        accepted_during: accepted(during),
        max_requests_1s_during: scan(&times, ONE_SECOND_US, None).max,
        requests_after: after.len() as u64,
        accepted_after: accepted(after),
        first_accepted_after_ms: after
            .iter()
            .find(|e| e.outcome() == Outcome::Accepted)
            .map(|e| (e.at_us - end) as f64 / 1000.0),
    }
}
