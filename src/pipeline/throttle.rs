//! Throttle: the token bucket every send to a carrier account waits on.
//!
//! GCRA (governor) with `rate` units per second and `burst` extra units: in any
//! one-second window the account sees at most `rate + burst` units. Units are
//! segments where the carrier counts segments (Twilio), requests otherwise.
//!
//! The carrier measures arrivals, not our token grants. Between a grant and the request
//! reaching the carrier lies a little work (the last subscription check, the HTTP hop), and
//! its jitter can bunch requests: a window at the carrier may then hold the grants of
//! `1 s + jitter`. So the bucket keeps `rate × MAX_JITTER` of the burst in reserve, and the
//! deliver stage re-paces a send whose preparation took longer than [`MAX_JITTER`].

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::config::{CarrierProfile, LimitUnit};

/// The longest a send may take between its token grant and its request; longer ones re-pace.
pub const MAX_JITTER: Duration = Duration::from_millis(15);

/// One carrier account's bucket; cheap to clone.
#[derive(Clone)]
pub struct Throttle {
    limiter: Arc<RateLimiter<NotKeyed, InMemoryState, DefaultClock>>,
    unit: LimitUnit,
    burst: NonZeroU32,
}

impl Throttle {
    /// A bucket from the profile's account limit.
    pub fn for_profile(profile: &CarrierProfile) -> Self {
        Self::new(
            profile.limits.rate_per_second,
            profile.limits.burst,
            profile.limits.unit,
        )
    }

    /// `rate` units per second (fractions allowed, e.g. 0.1) with `burst` extra units, of which
    /// `rate × MAX_JITTER` are held back to absorb jitter after the grant (at least 1 remains).
    pub fn new(rate: f64, burst: u32, unit: LimitUnit) -> Self {
        let period = Duration::from_secs_f64(1.0 / rate.max(1e-6));
        let reserve = (rate * MAX_JITTER.as_secs_f64()).ceil() as u32;
        let burst =
            NonZeroU32::new(burst.saturating_sub(reserve).max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: Arc::new(RateLimiter::direct(quota)),
            unit,
            burst,
        }
    }

    /// Waits until a message of `segments` segments may go.
    pub async fn acquire(&self, segments: u32) {
        let mut units = match self.unit {
            LimitUnit::Requests => 1,
            LimitUnit::Segments => segments.max(1),
        };
        // A message longer than the burst is paid for in burst-sized instalments.
        while units > 0 {
            let take = units.min(self.burst.get());
            let n = NonZeroU32::new(take).unwrap_or(NonZeroU32::MIN);
            if self.limiter.until_n_ready(n).await.is_err() {
                // Cannot happen: `take` never exceeds the burst.
                self.limiter.until_ready().await;
            }
            units -= take;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_then_the_rate() {
        let throttle = Throttle::new(50.0, 5, LimitUnit::Requests);
        let started = std::time::Instant::now();
        for _ in 0..15 {
            throttle.acquire(1).await;
        }
        // Five pass on the burst; the other ten wait for 50/s, about 200 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn segments_cost_tokens_where_the_carrier_counts_them() {
        let throttle = Throttle::new(100.0, 2, LimitUnit::Segments);
        throttle.acquire(2).await; // uses the burst
        let started = std::time::Instant::now();
        throttle.acquire(3).await; // three more tokens at 100/s
        assert!(
            started.elapsed() >= Duration::from_millis(20),
            "{:?}",
            started.elapsed()
        );
    }
}
