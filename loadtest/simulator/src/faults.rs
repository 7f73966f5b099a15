//! Injected faults that are not rate limits: response latency, hung requests, and the
//! 429 storm. Sampling lives here so the engine's decision reads as a list of checks.

use std::time::Duration;

use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

/// The z-score of the 99th percentile of a standard normal distribution.
const Z_P99: f64 = 2.326_347_874;
/// No sampled latency exceeds this, so a heavy log-normal tail cannot hang a test.
pub const MAX_LATENCY: Duration = Duration::from_secs(60);

/// Response latency; random draws come from the seeded RNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// Answer at once.
    None,
    /// Always this long.
    Fixed(Duration),
    /// Uniformly between `min` and `max` inclusive.
    Uniform {
        /// Shortest delay.
        min: Duration,
        /// Longest delay.
        max: Duration,
    },
    /// Log-normal with these percentiles: most answers near `p50`, a long tail whose
    /// 99th percentile is `p99`, as real carrier APIs behave (capped at [`MAX_LATENCY`]).
    LogNormal {
        /// Median delay.
        p50: Duration,
        /// 99th-percentile delay; at least `p50`.
        p99: Duration,
    },
}

impl Latency {
    /// Whether the parameters describe a distribution (bounds in order, median positive).
    pub fn is_valid(&self) -> bool {
        match *self {
            Self::None | Self::Fixed(_) => true,
            Self::Uniform { min, max } => min <= max,
            Self::LogNormal { p50, p99 } => !p50.is_zero() && p50 <= p99,
        }
    }

    /// One delay.
    pub(crate) fn sample(&self, rng: &mut StdRng) -> Duration {
        match *self {
            Self::None => Duration::ZERO,
            Self::Fixed(d) => d,
            Self::Uniform { min, max } => rng.gen_range(min..=max),
            Self::LogNormal { p50, p99 } => {
                let mu = p50.as_secs_f64().ln();
                let sigma = (p99.as_secs_f64().ln() - mu) / Z_P99;
                let seconds = (mu + sigma * standard_normal(rng)).exp();
                Duration::from_secs_f64(seconds.min(MAX_LATENCY.as_secs_f64()))
            }
        }
    }
}

/// Box–Muller: one standard normal draw from two uniform ones.
fn standard_normal(rng: &mut StdRng) -> f64 {
    // `1 - u` keeps the logarithm's argument in (0, 1].
    let u1 = 1.0 - rng.r#gen::<f64>();
    let u2 = rng.r#gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A window in which the carrier answers over-limit regardless of the buckets, to see how
/// a client backs off and how fast it recovers. Times are on the simulator clock (since
/// start or the last reset), the clock of every `at_ms` in the record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Storm {
    /// When the storm begins.
    pub start: Duration,
    /// How long it lasts.
    pub duration: Duration,
    /// Fraction of requests in the window answered over-limit (1.0 = all).
    pub ratio: f64,
}

impl Storm {
    /// Whether `at` (simulator clock) falls in the half-open window `[start, start + duration)`.
    pub fn covers(&self, at: Duration) -> bool {
        at >= self.start && at < self.start + self.duration
    }

    /// The window's end on the simulator clock.
    pub fn end(&self) -> Duration {
        self.start + self.duration
    }
}

/// Hung requests: a fraction are decided as usual, then answered only after `hang`, so a
/// client with a shorter timeout never sees the answer of a send the carrier accepted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    /// Fraction of requests that hang.
    pub ratio: f64,
    /// How long a hung request waits before answering (on top of the latency).
    pub hang: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            ratio: 0.0,
            hang: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn log_normal_matches_its_percentiles() {
        let latency = Latency::LogNormal {
            p50: Duration::from_millis(20),
            p99: Duration::from_millis(200),
        };
        let mut rng = StdRng::seed_from_u64(7);
        let mut draws: Vec<Duration> = (0..20_000).map(|_| latency.sample(&mut rng)).collect();
        draws.sort_unstable();
        let p50 = draws[draws.len() / 2].as_secs_f64() * 1000.0;
        let p99 = draws[draws.len() * 99 / 100].as_secs_f64() * 1000.0;
        assert!((18.0..22.0).contains(&p50), "p50 {p50}");
        assert!((170.0..235.0).contains(&p99), "p99 {p99}");
    }

    #[test]
    fn storm_window_is_half_open() {
        let storm = Storm {
            start: Duration::from_secs(1),
            duration: Duration::from_secs(2),
            ratio: 1.0,
        };
        assert!(!storm.covers(Duration::from_millis(999)));
        assert!(storm.covers(Duration::from_secs(1)));
        assert!(!storm.covers(Duration::from_secs(3)));
    }

    #[test]
    fn invalid_distributions_are_refused() {
        let ms = Duration::from_millis;
        assert!(
            !Latency::Uniform {
                min: ms(2),
                max: ms(1)
            }
            .is_valid()
        );
        assert!(
            !Latency::LogNormal {
                p50: ms(0),
                p99: ms(1)
            }
            .is_valid()
        );
        assert!(
            !Latency::LogNormal {
                p50: ms(5),
                p99: ms(1)
            }
            .is_valid()
        );
        assert!(
            Latency::LogNormal {
                p50: ms(5),
                p99: ms(5)
            }
            .is_valid()
        );
    }
}
