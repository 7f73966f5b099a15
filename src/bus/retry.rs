//! The one place retries are decided: capped attempts, exponential backoff, jitter.

use std::time::Duration;

use rand::Rng;

/// How a failed work item comes back; after `max_attempts` it is dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Deliveries allowed before the item goes to the dead-letter queue (at most 5 by design).
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub base_delay: Duration,
    /// Ceiling for any delay, including a carrier's `Retry-After` hint.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
        }
    }
}

/// What to do with an item that has just failed its `attempts`-th delivery.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryDecision {
    /// Deliver again after this delay, as attempt `attempts + 1`.
    RetryAfter(Duration),
    /// Give up: it goes to the dead-letter queue.
    DeadLetter,
}

impl RetryPolicy {
    /// Decides from the attempts so far and an optional hint (e.g. `Retry-After`).
    pub fn decide(&self, attempts: u32, hint: Option<Duration>) -> RetryDecision {
        if attempts >= self.max_attempts {
            return RetryDecision::DeadLetter;
        }
        RetryDecision::RetryAfter(self.delay(attempts, hint))
    }

    /// Exponential backoff with full jitter on the upper half, never below a hint, never above the cap.
    pub fn delay(&self, attempts: u32, hint: Option<Duration>) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let jittered = capped.mul_f64(rand::thread_rng().gen_range(0.5..=1.0));
        jittered.max(hint.unwrap_or_default()).min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_failure_dead_letters() {
        let policy = RetryPolicy::default();
        for attempts in 1..5 {
            assert!(matches!(
                policy.decide(attempts, None),
                RetryDecision::RetryAfter(_)
            ));
        }
        assert_eq!(policy.decide(5, None), RetryDecision::DeadLetter);
    }

    #[test]
    fn delays_grow_are_jittered_and_capped() {
        let policy = RetryPolicy {
            max_attempts: 30,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        };
        for attempts in 1..30 {
            let d = policy.delay(attempts, None);
            let full = Duration::from_secs(1)
                .saturating_mul(1 << (attempts - 1).min(16))
                .min(Duration::from_secs(60));
            assert!(
                d >= full / 2 && d <= full,
                "attempt {attempts}: {d:?} not in [{:?}, {full:?}]",
                full / 2
            );
        }
    }

    #[test]
    fn a_hint_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert!(policy.delay(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3600))),
            policy.max_delay
        );
    }
}
