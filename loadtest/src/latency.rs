//! Latency percentiles from an HDR histogram, so a p99.9 over a million samples costs
//! kilobytes, not a sorted vector.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency recorded exactly (10 min, in µs); longer ones are clamped to it.
const MAX_MICROS: u64 = 600_000_000;

/// A latency histogram in microseconds with three significant figures.
#[derive(Debug, Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    /// An empty histogram covering 1 µs to 10 min.
    pub fn new() -> Self {
        let histogram = Histogram::new_with_bounds(1, MAX_MICROS, 3)
            .expect("1 µs..60 s with 3 significant figures is a valid histogram");
        Self(histogram)
    }

    /// Records one latency; anything above 10 min counts as 10 min.
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(MAX_MICROS);
        self.0.saturating_record(micros.clamp(1, MAX_MICROS));
    }

    /// Adds another worker's samples.
    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    /// The figures the report prints.
    pub fn summary(&self) -> LatencySummary {
        let ms = |micros: u64| micros as f64 / 1000.0;
        if self.0.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: self.0.len(),
            mean_ms: self.0.mean() / 1000.0,
            p50_ms: ms(self.0.value_at_quantile(0.50)),
            p99_ms: ms(self.0.value_at_quantile(0.99)),
            p999_ms: ms(self.0.value_at_quantile(0.999)),
            max_ms: ms(self.0.max()),
        }
    }
}

/// Percentiles in milliseconds; all zero when nothing was recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Samples behind the figures.
    pub count: u64,
    /// Arithmetic mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest sample.
    pub max_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_of_one_to_a_thousand_milliseconds() {
        let mut h = Latencies::new();
        for n in 1..=1000 {
            h.record(ms(n));
        }
        let s = h.summary();
        assert_eq!(s.count, 1000);
        // Three significant figures: each figure is within 0.1% of the exact one.
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.001 + 0.001;
        assert!(close(s.p50_ms, 500.0), "{s:?}");
        assert!(close(s.p99_ms, 990.0), "{s:?}");
        assert!(close(s.p999_ms, 999.0), "{s:?}");
        assert!(close(s.max_ms, 1000.0), "{s:?}");
        assert!(close(s.mean_ms, 500.5), "{s:?}");
    }

    #[test]
    fn merging_workers_keeps_every_sample() {
        let (mut a, mut b) = (Latencies::new(), Latencies::new());
        a.record(ms(1));
        b.record(ms(3));
        b.record(ms(5));
        a.merge(&b);
        assert_eq!(a.summary().count, 3);
        assert!((a.summary().max_ms - 5.0).abs() < 0.01);
    }

    #[test]
    fn empty_and_out_of_range_samples() {
        assert_eq!(Latencies::new().summary(), LatencySummary::default());
        let mut h = Latencies::new();
        h.record(Duration::ZERO);
        h.record(Duration::from_secs(3600));
        let s = h.summary();
        assert_eq!(s.count, 2);
        assert!(s.max_ms <= 600_000.0 * 1.001, "clamped to 10 min: {s:?}");
    }
}
