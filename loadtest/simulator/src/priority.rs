//! Priority order: did the client send to the numbers it marked urgent ahead of the rest?
//!
//! A client marks recipients (`POST /sim/priority`, [`crate::SimHandle::mark_priority`])
//! when it learns they are urgent; the simulator notes the time. For every accepted request
//! to a marked number after its mark, the report counts the non-priority requests accepted
//! between the mark and that request (`others_between`: 0 means it jumped the whole queue)
//! and the latency from mark to request. Nothing is stored per request beyond the log: the
//! figures come from one pass over it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::record::{Entry, Log, Outcome, e164_digits};

/// Per-request details kept in the report; the summaries cover every request.
pub const MAX_DETAILS: usize = 1_000;

/// Marked recipients (E.164 digits) and when each was first marked (µs, simulator clock).
#[derive(Debug, Default)]
pub(crate) struct Marks {
    at: HashMap<u64, u64>,
}

impl Marks {
    /// Marks `numbers` at `now_us` (a number marked before keeps its first mark); returns
    /// the numbers that are not phone numbers (`+E.164` or the same digits without `+`).
    pub fn mark<S: AsRef<str>>(&mut self, numbers: &[S], now_us: u64) -> Vec<String> {
        let mut invalid = Vec::new();
        for number in numbers {
            let number = number.as_ref().trim();
            let digits = if number.starts_with('+') {
                e164_digits(number)
            } else {
                e164_digits(&format!("+{number}"))
            };
            match digits {
                Some(d) => {
                    self.at.entry(d).or_insert(now_us);
                }
                None => invalid.push(number.to_owned()),
            }
        }
        invalid
    }

    /// How many numbers are marked.
    pub fn len(&self) -> usize {
        self.at.len()
    }
}

/// The report's `priority` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PriorityReport {
    /// Numbers marked.
    pub marked: u64,
    /// Marked numbers that were sent to (accepted) after their mark.
    pub sent_to: u64,
    /// Accepted requests to marked numbers after their mark.
    pub requests: u64,
    /// Non-priority requests accepted between a mark and the request to that number.
    pub others_between: Summary,
    /// Milliseconds from a mark to the request to that number.
    pub latency_ms: Summary,
    /// The first [`MAX_DETAILS`] such requests, in time order.
    pub details: Vec<PriorityRequest>,
}

/// Max, median and 99th percentile (nearest rank); zero when there is nothing to summarise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Summary {
    /// Largest value.
    pub max: f64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// One accepted request to a marked number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorityRequest {
    /// The recipient, `+E.164`.
    pub to: String,
    /// When it was marked, ms on the simulator clock.
    pub marked_at_ms: f64,
    /// When the request arrived.
    pub at_ms: f64,
    /// Non-priority requests accepted between the mark and this request.
    pub others_between: u64,
    /// `at_ms - marked_at_ms`.
    pub latency_ms: f64,
}

/// One pass over the log (in time order) with the marks merged in by time.
pub(crate) fn report(log: &Log, marks: &Marks) -> PriorityReport {
    let mut timeline: Vec<(u64, u64)> = marks.at.iter().map(|(&n, &t)| (t, n)).collect();
    timeline.sort_unstable();
    let mut next_mark = 0;
    // Number → (mark µs, non-priority count when marked).
    let mut active: HashMap<u64, (u64, u64)> = HashMap::new();
    let mut others: u64 = 0;
    let mut sent_to: HashMap<u64, ()> = HashMap::new();
    let mut between = Vec::new();
    let mut latencies = Vec::new();
    let mut details = Vec::new();
    for e in log
        .entries()
        .iter()
        .filter(|e| e.outcome() == Outcome::Accepted)
    {
        while let Some(&(t, number)) = timeline.get(next_mark) {
            if t > e.at_us {
                break;
            }
            active.insert(number, (t, others));
            next_mark += 1;
        }
        match active.get(&e.to) {
            Some(&(marked_us, others_at_mark)) => {
                let request = priority_request(log, e, marked_us, others - others_at_mark);
                sent_to.insert(e.to, ());
                between.push(request.others_between as f64);
                latencies.push(request.latency_ms);
                if details.len() < MAX_DETAILS {
                    details.push(request);
                }
            }
            None => others += 1,
        }
    }
    PriorityReport {
        marked: marks.len() as u64,
        sent_to: sent_to.len() as u64,
        requests: between.len() as u64,
        others_between: summarise(between),
        latency_ms: summarise(latencies),
        details,
    }
}

fn priority_request(log: &Log, e: &Entry, marked_us: u64, others_between: u64) -> PriorityRequest {
    PriorityRequest {
        to: log.to_string_of(e.to),
        marked_at_ms: marked_us as f64 / 1000.0,
        at_ms: e.at_us as f64 / 1000.0,
        others_between,
        latency_ms: e.at_us.saturating_sub(marked_us) as f64 / 1000.0,
    }
}

/// Nearest-rank percentiles.
fn summarise(mut values: Vec<f64>) -> Summary {
    if values.is_empty() {
        return Summary::default();
    }
    values.sort_unstable_by(f64::total_cmp);
    let rank =
        |p: f64| values[((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    Summary {
        max: values[values.len() - 1],
        p50: rank(0.5),
        p99: rank(0.99),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let s = summarise((1..=100).map(f64::from).collect());
        assert_eq!((s.max, s.p50, s.p99), (100.0, 50.0, 99.0));
        assert_eq!(summarise(vec![7.0]).p99, 7.0);
    }

    #[test]
    fn marks_accept_both_forms_and_keep_the_first_time() {
        let mut marks = Marks::default();
        assert_eq!(marks.mark(&["+14155550100", "14155550101", "x"], 5), ["x"]);
        assert!(marks.mark(&["+14155550100"], 9).is_empty());
        assert_eq!(marks.len(), 2);
        assert_eq!(marks.at.get(&14_155_550_100), Some(&5));
    }
}
