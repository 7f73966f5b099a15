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

use crate::bus::Lane;
use crate::config::{CarrierProfile, LimitUnit};

/// The longest a send may take between its token grant and its request; longer ones re-pace.
pub const MAX_JITTER: Duration = Duration::from_millis(15);

/// One carrier account's bucket, shared by its lanes; cheap to clone.
///
/// Transactional sends (keyword replies) go first: one waiter at a time holds the `turn` and
/// waits for the next token, and a broadcast waiter gives its turn up while any transactional
/// waiter is queued, so a STOP confirmation waits for at most one token, not the backlog.
#[derive(Clone)]
pub struct Throttle {
    limiter: Arc<RateLimiter<NotKeyed, InMemoryState, DefaultClock>>,
    unit: LimitUnit,
    burst: NonZeroU32,
    turn: Arc<tokio::sync::Mutex<()>>,
    urgent: Arc<std::sync::atomic::AtomicUsize>,
    urgent_done: Arc<tokio::sync::Notify>,
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
            turn: Arc::default(),
            urgent: Arc::default(),
            urgent_done: Arc::default(),
        }
    }

    /// Waits until a message of `segments` segments may go from `lane`; transactional first.
    pub async fn acquire(&self, segments: u32, lane: Lane) {
        use std::sync::atomic::Ordering::SeqCst;
        if lane == Lane::Transactional {
            self.urgent.fetch_add(1, SeqCst);
            let turn = self.turn.lock().await;
            self.take(segments).await;
            drop(turn);
            self.urgent.fetch_sub(1, SeqCst);
            self.urgent_done.notify_waiters();
            return;
        }
        loop {
            while self.urgent.load(SeqCst) > 0 {
                let done = self.urgent_done.notified();
                if self.urgent.load(SeqCst) == 0 {
                    break;
                }
                done.await;
            }
            let turn = self.turn.lock().await;
            if self.urgent.load(SeqCst) > 0 {
                drop(turn); // a reply arrived while we queued: let it pass
                continue;
            }
            self.take(segments).await;
            return;
        }
    }

    async fn take(&self, segments: u32) {
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
            throttle.acquire(1, Lane::Broadcast).await;
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
        throttle.acquire(2, Lane::Broadcast).await; // uses the burst
        let started = std::time::Instant::now();
        throttle.acquire(3, Lane::Broadcast).await; // three more tokens at 100/s
        assert!(
            started.elapsed() >= Duration::from_millis(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_reply_overtakes_a_broadcast_backlog() {
        let throttle = Throttle::new(100.0, 1, LimitUnit::Requests);
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..20 {
            let (t, order) = (throttle.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                t.acquire(1, Lane::Broadcast).await;
                order.lock().unwrap().push(format!("broadcast-{i}"));
            }));
        }
        tokio::time::sleep(Duration::from_millis(30)).await; // the backlog is queued
        throttle.acquire(1, Lane::Transactional).await;
        order.lock().unwrap().push("reply".into());
        for w in waiters {
            w.await.unwrap();
        }
        let order = order.lock().unwrap();
        let reply_at = order.iter().position(|o| o == "reply").unwrap();
        assert!(
            reply_at <= 6,
            "the reply waited behind {reply_at} broadcast sends: {order:?}"
        );
    }
}
