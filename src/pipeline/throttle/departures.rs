//! The last gate before a carrier call: the account's (or number's) limit measured at the
//! moment a request leaves, not when its token was granted.
//!
//! The pacing buckets ([`super::Bucket`]) decide *when* a send may start; between that grant
//! and the request lies the last look in the store and a free request slot, whose time varies.
//! Sends granted in order can therefore leave bunched, and a carrier measures arrivals. This
//! gate is a GCRA of the same rate and burst (less the same jitter reserve, since arrivals
//! still scatter a little after departure), checked and charged in one step right
//! before the request: in any window of `T` seconds at most `burst + rate × T` units leave,
//! whatever happened after the grants. A send it holds back waits, and takes the last look
//! again before it goes; it spends no extra token, so utilisation does not pay for jitter.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::bucket::usable_burst;

/// One GCRA: the theoretical arrival time moves `period` per unit sent.
#[derive(Debug)]
pub struct Departures {
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy)]
struct State {
    /// Time per unit at the current rate.
    period: Duration,
    /// Units that may leave at once (the jitter reserve already taken off).
    burst: u32,
    /// When the bucket is empty again if nothing more leaves; in the past = full.
    tat: Instant,
}

impl State {
    /// How long `units` must wait from `now`; zero when they may leave now.
    fn wait(&self, units: u32, now: Instant) -> Duration {
        let after = self.tat.max(now) + self.period * units;
        // A message longer than the burst leaves when the bucket is full.
        let allowance = self.period * self.burst.max(units).max(1);
        after.saturating_duration_since(now + allowance)
    }
}

/// `rate` units per second, at least one per 1,000 s (rates are validated on the way in).
fn period(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate.clamp(1e-3, 1e9))
}

impl Departures {
    /// A full gate: the pacing bucket in front of it starts empty, so no burst comes at start.
    pub fn new(rate: f64, burst: u32, now: Instant) -> Self {
        Self {
            state: Mutex::new(State {
                period: period(rate),
                burst: usable_burst(rate, burst),
                tat: now,
            }),
        }
    }

    /// A new rate or burst. What already left still counts, unit for unit: the carrier counts
    /// units, so a backlog of `k` units at the old rate is `k` units at the new one, and a
    /// lower rate hands out no fresh burst on top of what the carrier saw a moment ago.
    pub fn set(&self, rate: f64, burst: u32, now: Instant) {
        let mut state = self.lock();
        let next = period(rate);
        let queued = state.tat.saturating_duration_since(now);
        state.tat = now + queued.mul_f64(next.as_secs_f64() / state.period.as_secs_f64());
        state.period = next;
        state.burst = usable_burst(rate, burst);
    }

    /// Nothing leaves before `until`, and from then on one unit per period, without a burst:
    /// the carrier has just said "too fast".
    pub fn hold_until(&self, until: Instant) {
        let mut state = self.lock();
        let empty_at = until + state.period * state.burst.saturating_sub(1);
        state.tat = state.tat.max(empty_at);
    }

    /// How long `units` would wait at `now`, without charging anything.
    pub fn wait(&self, units: u32, now: Instant) -> Duration {
        self.lock().wait(units, now)
    }

    /// Charges `units` as leaving at `now`; call only after every gate said zero.
    pub fn charge(&self, units: u32, now: Instant) {
        let mut state = self.lock();
        state.tat = state.tat.max(now) + state.period * units;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `units` every time the gate allows, from `start` for `span`, on a simulated clock
    /// stepping 1 ms; returns the departure times.
    fn drive(gate: &Departures, units: u32, start: Instant, span: Duration) -> Vec<Instant> {
        let mut left = Vec::new();
        let mut now = start;
        while now < start + span {
            if gate.wait(units, now).is_zero() {
                gate.charge(units, now);
                left.push(now);
            } else {
                now += Duration::from_millis(1);
            }
        }
        left
    }

    #[test]
    fn no_window_of_a_second_carries_more_than_rate_plus_burst() {
        let start = Instant::now();
        let gate = Departures::new(50.0, 10, start);
        let left = drive(&gate, 1, start, Duration::from_secs(5));
        for (i, first) in left.iter().enumerate() {
            let in_window = left[i..]
                .iter()
                .take_while(|t| t.duration_since(*first) < Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 60,
                "{in_window} in the second from departure {i}"
            );
        }
        // 10 at once, then 50/s: about 260 in 5 s.
        assert!((255..=262).contains(&left.len()), "{}", left.len());
    }

    #[test]
    fn a_late_send_cannot_bring_a_backlog_with_it() {
        let start = Instant::now();
        let gate = Departures::new(5.0, 1, start);
        gate.charge(1, start);
        // Three sends whose grants came 0, 200 and 400 ms after the first, all leaving late
        // at 500 ms: the second and third must wait their turn.
        let late = start + Duration::from_millis(500);
        assert!(gate.wait(1, late).is_zero());
        gate.charge(1, late);
        assert_eq!(gate.wait(1, late), Duration::from_millis(200));
    }

    #[test]
    fn a_long_message_leaves_when_the_bucket_is_full() {
        let start = Instant::now();
        // Burst 3 at 10/s: one unit is the jitter reserve, two may leave at once.
        let gate = Departures::new(10.0, 3, start);
        assert!(
            gate.wait(5, start).is_zero(),
            "five segments from a full bucket"
        );
        gate.charge(5, start);
        assert_eq!(gate.wait(1, start), Duration::from_millis(400));
    }

    #[test]
    fn a_lower_rate_counts_what_just_left_at_the_new_rate() {
        let start = Instant::now();
        // 200/s, burst 10: after a saturated second the bucket holds about a burst.
        let gate = Departures::new(200.0, 10, start);
        let left = drive(&gate, 1, start, Duration::from_secs(1));
        let switch = start + Duration::from_secs(1);
        gate.set(40.0, 10, switch);
        let after = drive(&gate, 1, switch, Duration::from_millis(100));
        let at_once = after.iter().filter(|t| **t == switch).count();
        // Kept in time instead of units, the backlog would let 7 leave at once on top of the
        // ~200 just sent.
        assert!(
            at_once <= 3,
            "{at_once} left at once after the switch to 40/s"
        );
        assert!(left.len() >= 200, "{}", left.len());
    }

    #[test]
    fn a_hold_stops_departures_then_lets_them_go_one_period_apart() {
        let start = Instant::now();
        let gate = Departures::new(10.0, 5, start);
        let until = start + Duration::from_millis(300);
        gate.hold_until(until);
        assert_eq!(gate.wait(1, start), Duration::from_millis(300));
        let left = drive(&gate, 1, start, Duration::from_millis(650));
        let offsets: Vec<_> = left
            .iter()
            .map(|t| t.duration_since(start).as_millis())
            .collect();
        assert_eq!(offsets, [300, 400, 500, 600], "no burst after the hold");
    }
}
