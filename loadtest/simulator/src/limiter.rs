//! Token buckets: the carrier-side limit Floodgate must stay under.
//!
//! A bucket holds at most `max(burst, 1)` tokens, starts full and refills at `rate` per
//! second. A request costing `n` units is admitted when the bucket holds at least
//! `min(n, capacity)` tokens and then takes all `n`, possibly going into debt: a
//! 3-segment SMS on a 1-segment/s sender is admitted and blocks the next 3 s, which is how
//! Twilio spends segments (carriers-reference §6) and keeps large messages sendable.

use std::time::Instant;

/// One rate limit; `rate == 0` means unlimited.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket, as a carrier account is at the start of a run.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        let mut bucket = Self {
            rate,
            burst,
            tokens: 0.0,
            last: now,
        };
        bucket.tokens = bucket.capacity();
        bucket
    }

    /// Whether the limit applies at all.
    pub fn is_limited(&self) -> bool {
        self.rate > 0.0
    }

    /// The configured rate (units per second).
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The configured burst.
    pub fn burst(&self) -> f64 {
        self.burst
    }

    fn capacity(&self) -> f64 {
        self.burst.max(1.0)
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity());
        self.last = now;
    }

    /// Whether `units` would be admitted now, without taking them; lets the caller check
    /// the account and the sender bucket before charging either.
    pub fn would_admit(&mut self, units: f64, now: Instant) -> bool {
        if !self.is_limited() {
            return true;
        }
        self.refill(now);
        // The epsilon absorbs float drift from refilling in many small steps.
        self.tokens + 1e-9 >= units.min(self.capacity())
    }

    /// Charges `units` (call after [`Self::would_admit`] said yes).
    pub fn take(&mut self, units: f64, now: Instant) {
        if self.is_limited() {
            self.refill(now);
            self.tokens -= units;
        }
    }

    /// Changes the limit at runtime, keeping the tokens already earned (capped).
    pub fn reconfigure(&mut self, rate: f64, burst: f64, now: Instant) {
        self.refill(now);
        self.rate = rate;
        self.burst = burst;
        self.tokens = self.tokens.min(self.capacity());
    }

    /// Refills completely, as after `POST /sim/reset`.
    pub fn reset(&mut self, now: Instant) {
        self.tokens = self.capacity();
        self.last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::TokenBucket;
    use std::time::{Duration, Instant};

    fn admit(b: &mut TokenBucket, units: f64, now: Instant) -> bool {
        let ok = b.would_admit(units, now);
        if ok {
            b.take(units, now);
        }
        ok
    }

    #[test]
    fn starts_with_burst_then_refills_at_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 5.0, t0);
        assert_eq!((0..20).filter(|_| admit(&mut b, 1.0, t0)).count(), 5);
        assert!(!admit(&mut b, 1.0, t0 + Duration::from_millis(99)));
        assert!(admit(&mut b, 1.0, t0 + Duration::from_millis(100)));
    }

    #[test]
    fn zero_rate_is_unlimited() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(0.0, 0.0, t0);
        assert!((0..1000).all(|_| admit(&mut b, 3.0, t0)));
    }

    #[test]
    fn a_large_message_goes_into_debt() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(1.0, 1.0, t0);
        assert!(admit(&mut b, 3.0, t0));
        assert!(!admit(&mut b, 1.0, t0 + Duration::from_millis(2900)));
        assert!(admit(&mut b, 1.0, t0 + Duration::from_millis(3000)));
    }
}
