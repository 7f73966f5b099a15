//! One token bucket (GCRA, governor) whose rate can change at runtime, serving
//! transactional sends before broadcast sends.
//!
//! GCRA with `rate` units per second and `burst` extra units: in any one-second window the
//! carrier sees at most `rate + burst` units. The carrier measures arrivals, not our grants:
//! between a grant and the request reaching the carrier lies a little work whose jitter can
//! bunch requests, so the bucket keeps `rate × MAX_JITTER` of the burst in reserve.
//!
//! A bucket starts **empty**, never full: a new instance taking over a lane, or a limit that
//! just changed, must not add a fresh burst on top of what the carrier saw a moment ago. After
//! a carrier's "too fast" it also stays shut until the pause ends, so sends queue for tokens at
//! the pause's end instead of collecting them during it.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::{Mutex, Notify};

use crate::bus::Lane;
use crate::config::{MAX_BURST, MAX_RATE_PER_SECOND, MIN_RATE_PER_SECOND};

/// The longest a send may take between its token grant and its request; longer ones re-pace.
pub const MAX_JITTER: Duration = Duration::from_millis(15);

/// The part of `burst` a gate may hand out at once: `rate × MAX_JITTER` stays in reserve for
/// requests that arrive bunched at the carrier, and at least one unit always remains.
pub fn usable_burst(rate: f64, burst: u32) -> u32 {
    let reserve = (rate * MAX_JITTER.as_secs_f64()).ceil() as u32;
    burst.min(MAX_BURST).saturating_sub(reserve).max(1)
}

type Gcra = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;

/// One limiter generation: replaced whole when the rate changes.
struct Generation {
    quota: Quota,
    burst: NonZeroU32,
    /// Nothing is granted before this; the bucket is empty then.
    opens_at: Instant,
    /// Made by the first grant after `opens_at`, so no tokens pile up before it.
    gcra: OnceLock<Gcra>,
}

impl Generation {
    /// A rate outside the accepted range is clamped to it (NaN to the slowest): the bounds are
    /// checked where limits are set, and a bucket must never fall back to some unrelated pace.
    fn empty(rate: f64, burst: u32, opens_at: Instant) -> Self {
        let rate = if rate.is_nan() {
            MIN_RATE_PER_SECOND
        } else {
            rate.clamp(MIN_RATE_PER_SECOND, MAX_RATE_PER_SECOND)
        };
        // At most 1,000 s, at least 1 µs: never zero, which governor would refuse.
        let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_nanos(1));
        let burst = NonZeroU32::new(usable_burst(rate, burst)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(burst);
        Self {
            quota,
            burst,
            opens_at,
            gcra: OnceLock::new(),
        }
    }

    /// Waits until `n` units are free, no earlier than `opens_at`.
    async fn until_n_ready(&self, n: NonZeroU32) {
        if self.opens_at > Instant::now() {
            tokio::time::sleep_until(self.opens_at.into()).await;
        }
        let gcra = self.gcra.get_or_init(|| {
            let gcra = RateLimiter::direct(self.quota);
            // governor starts full; spend the burst so the first grant comes a period later.
            let _ = gcra.check_n(self.burst);
            gcra
        });
        if gcra.until_n_ready(n).await.is_err() {
            // Cannot happen: callers never ask for more than the burst.
            gcra.until_ready().await;
        }
    }
}

/// A rate limit shared by both lanes of one carrier account or one sender; cheap to clone.
///
/// Transactional sends (keyword replies) go first: one waiter at a time holds the `turn` and
/// waits for the next token, and a broadcast waiter gives its turn up while any transactional
/// waiter is queued, so a STOP confirmation waits for at most one token, not the backlog.
#[derive(Clone)]
pub struct Bucket {
    generation: Arc<RwLock<Arc<Generation>>>,
    changed: Arc<Notify>,
    turn: Arc<Mutex<()>>,
    urgent: Arc<AtomicUsize>,
    urgent_done: Arc<Notify>,
}

impl Bucket {
    /// `rate` units per second (fractions allowed, e.g. 0.1) with `burst` extra units, empty.
    pub fn new(rate: f64, burst: u32) -> Self {
        Self {
            generation: Arc::new(RwLock::new(Arc::new(Generation::empty(
                rate,
                burst,
                Instant::now(),
            )))),
            changed: Arc::default(),
            turn: Arc::default(),
            urgent: Arc::default(),
            urgent_done: Arc::default(),
        }
    }

    /// Replaces the limit; the new bucket is empty at `opens_at`, grants nothing before it,
    /// and the waiting send re-queues on it.
    pub fn set(&self, rate: f64, burst: u32, opens_at: Instant) {
        let next = Arc::new(Generation::empty(rate, burst, opens_at));
        *self.generation.write().unwrap_or_else(|e| e.into_inner()) = next;
        self.changed.notify_waiters();
    }

    fn current(&self) -> Arc<Generation> {
        self.generation
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until `units` may go from `lane`; transactional first.
    pub async fn acquire(&self, units: u32, lane: Lane) {
        if lane == Lane::Transactional {
            self.urgent.fetch_add(1, SeqCst);
            let turn = self.turn.lock().await;
            self.take(units).await;
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
            self.take(units).await;
            return;
        }
    }

    async fn take(&self, units: u32) {
        let mut units = units.max(1);
        // A message longer than the burst is paid for in burst-sized instalments.
        while units > 0 {
            let changed = self.changed.notified();
            let generation = self.current();
            let take = units.min(generation.burst.get());
            let n = NonZeroU32::new(take).unwrap_or(NonZeroU32::MIN);
            tokio::select! {
                () = generation.until_n_ready(n) => units -= take,
                // The limit changed while we waited: wait on the new one instead.
                () = changed => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_bucket_starts_empty_then_keeps_the_rate() {
        let bucket = Bucket::new(100.0, 5);
        let started = Instant::now();
        for _ in 0..10 {
            bucket.acquire(1, Lane::Broadcast).await;
        }
        // No burst at start: ten tokens at 100/s take about 100 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(85),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn segments_are_paid_in_instalments_beyond_the_burst() {
        let bucket = Bucket::new(100.0, 2);
        let started = Instant::now();
        bucket.acquire(5, Lane::Broadcast).await; // five tokens at 100/s
        assert!(
            started.elapsed() >= Duration::from_millis(40),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_rate_beyond_the_bounds_is_clamped_not_slowed_to_one_per_second() {
        // 1e300/s rounds the token period to zero; governor refuses a zero period, and the
        // bucket used to fall back to 1/s. Clamped to the fastest rate, 200 tokens take
        // well under a second (at 1/s they would take minutes).
        for rate in [1e300, f64::INFINITY, 2e9] {
            let bucket = Bucket::new(rate, 1);
            let taken = tokio::time::timeout(Duration::from_secs(5), async {
                for _ in 0..200 {
                    bucket.acquire(1, Lane::Broadcast).await;
                }
            })
            .await;
            assert!(taken.is_ok(), "rate {rate} ran at a crawl");
        }
    }

    #[tokio::test]
    async fn a_lower_rate_applies_to_the_waiting_send() {
        let bucket = Bucket::new(1000.0, 1);
        bucket.acquire(1, Lane::Broadcast).await;
        bucket.set(5.0, 1, Instant::now());
        let started = Instant::now();
        bucket.acquire(1, Lane::Broadcast).await;
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "the new rate of 5/s should space grants by 200 ms: {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_bucket_set_to_open_later_grants_nothing_before_and_no_burst_after() {
        let bucket = Bucket::new(1000.0, 10);
        let opens_at = Instant::now() + Duration::from_millis(200);
        bucket.set(20.0, 10, opens_at);
        bucket.acquire(1, Lane::Broadcast).await;
        let first = Instant::now();
        assert!(first >= opens_at, "granted before the bucket opened");
        for _ in 0..3 {
            bucket.acquire(1, Lane::Broadcast).await;
        }
        // Empty at the opening: three more at 20/s take about 150 ms, not a burst.
        assert!(
            first.elapsed() >= Duration::from_millis(130),
            "{:?}",
            first.elapsed()
        );
    }

    #[tokio::test]
    async fn a_reply_overtakes_a_broadcast_backlog() {
        let bucket = Bucket::new(100.0, 1);
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..20 {
            let (b, order) = (bucket.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                b.acquire(1, Lane::Broadcast).await;
                order.lock().unwrap().push(format!("broadcast-{i}"));
            }));
        }
        tokio::time::sleep(Duration::from_millis(30)).await; // the backlog is queued
        bucket.acquire(1, Lane::Transactional).await;
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
