//! Per-key request rate limit: SMS APIs are a target for cost fraud, and one leaked key must
//! not be able to hammer the store.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::http::Problem;

/// Requests per second and burst allowed to one API key.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Default for RateLimit {
    /// 20 requests per second with bursts of 40: far above what a leader's app needs.
    fn default() -> Self {
        Self {
            per_second: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(40).unwrap_or(NonZeroU32::MIN),
        }
    }
}

/// One token bucket per API key id.
pub struct KeyLimiter {
    limiter: DefaultKeyedRateLimiter<i64>,
    clock: DefaultClock,
}

impl KeyLimiter {
    /// A limiter allowing `limit` to every key.
    pub fn new(limit: RateLimit) -> Self {
        let quota = Quota::per_second(limit.per_second).allow_burst(limit.burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one token for `key_id`, or answers 429 with the whole seconds until the next one.
    pub fn check(&self, key_id: i64) -> Result<(), Problem> {
        self.limiter.check_key(&key_id).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Problem::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests with this API key; slow down",
            )
            .retry_after(seconds.max(1))
        })
    }
}
