//! Adaptive back-off (AIMD): a carrier that says "too fast" (429, queue full) pauses the
//! account, halves its rate, and the rate then climbs back step by step to the configured one.
//!
//! Only the first throttled answer of a burst of them counts: every answer to a request
//! granted before the last back-off belongs to the same episode (the `epoch` check), so
//! fifty in-flight 429s halve the rate once, not fifty times.

use std::time::{Duration, Instant};

/// Multiplicative decrease on a throttled answer.
const DECREASE: f64 = 0.5;
/// The rate never drops below this share of the configured one.
const FLOOR: f64 = 0.05;
/// Additive increase per [`STEP`] without a throttled answer, as a share of the configured rate.
const INCREASE: f64 = 0.1;
/// How often the rate climbs back.
pub const STEP: Duration = Duration::from_secs(1);
/// The pause when the carrier gives no hint; doubles while throttling persists.
const BASE_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause without a hint; a carrier's own hint is honoured up to [`MAX_HINT`].
const MAX_PAUSE: Duration = Duration::from_secs(30);
const MAX_HINT: Duration = Duration::from_secs(300);

/// The adaptive state of one carrier account.
#[derive(Debug, Clone)]
pub struct Aimd {
    configured: f64,
    current: f64,
    paused_until: Option<Instant>,
    /// Back-offs in a row without a success in between.
    consecutive: u32,
    /// Increments on every back-off; a grant remembers the epoch it was made in.
    epoch: u64,
    last_change: Instant,
}

/// What a back-off decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackOff {
    pub rate: f64,
    pub pause: Duration,
}

impl Aimd {
    /// Starts at the configured rate.
    pub fn new(configured: f64, now: Instant) -> Self {
        Self {
            configured,
            current: configured,
            paused_until: None,
            consecutive: 0,
            epoch: 0,
            last_change: now,
        }
    }

    /// The rate sends may use now.
    pub fn current(&self) -> f64 {
        self.current
    }

    /// The rate the profile (or `limits set`) allows.
    pub fn configured(&self) -> f64 {
        self.configured
    }

    /// The back-off episode a grant made now belongs to.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Until when sends must wait, if paused.
    pub fn paused_until(&self, now: Instant) -> Option<Instant> {
        self.paused_until.filter(|&until| until > now)
    }

    /// A new configured rate; the current one follows it down at once, or up by steps.
    pub fn set_configured(&mut self, rate: f64, now: Instant) -> f64 {
        self.configured = rate;
        if (self.consecutive == 0 && self.paused_until(now).is_none()) || self.current > rate {
            self.current = rate;
        }
        self.last_change = now;
        self.current
    }

    /// A throttled answer to a request granted in `epoch`; `None` if this episode already
    /// backed off.
    pub fn throttled(
        &mut self,
        epoch: u64,
        hint: Option<Duration>,
        now: Instant,
    ) -> Option<BackOff> {
        if epoch != self.epoch {
            return None;
        }
        self.epoch += 1;
        self.consecutive += 1;
        let pause = match hint {
            Some(hint) => hint.min(MAX_HINT),
            None => BASE_PAUSE
                .saturating_mul(1 << (self.consecutive - 1).min(5))
                .min(MAX_PAUSE),
        };
        self.current = (self.current * DECREASE).max(self.configured * FLOOR);
        self.paused_until = Some(now + pause);
        self.last_change = now + pause;
        Some(BackOff {
            rate: self.current,
            pause,
        })
    }

    /// A request went through: the next back-off starts from the base pause again.
    pub fn succeeded(&mut self) {
        self.consecutive = 0;
    }

    /// The additive increase: a new rate when one [`STEP`] passed since the last change.
    pub fn tick(&mut self, now: Instant) -> Option<f64> {
        if self.current >= self.configured || self.paused_until(now).is_some() {
            return None;
        }
        if now.duration_since(self.last_change) < STEP {
            return None;
        }
        self.current = (self.current + self.configured * INCREASE).min(self.configured);
        self.last_change = now;
        Some(self.current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_halves_pauses_and_recovers_by_steps() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(100.0, t0);
        let back_off = aimd.throttled(aimd.epoch(), None, t0).unwrap();
        assert_eq!(back_off.rate, 50.0);
        assert_eq!(back_off.pause, BASE_PAUSE);
        assert!(aimd.paused_until(t0).is_some());
        assert_eq!(aimd.tick(t0 + Duration::from_millis(500)), None, "paused");
        let mut at = t0 + BASE_PAUSE;
        let mut steps = 0;
        while aimd.current() < 100.0 {
            at += STEP;
            aimd.tick(at).expect("one step per second");
            steps += 1;
        }
        assert_eq!(steps, 5, "50 → 100 in steps of 10");
        assert_eq!(
            aimd.tick(at + STEP),
            None,
            "never above the configured rate"
        );
    }

    #[test]
    fn many_answers_from_one_episode_back_off_once() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(100.0, t0);
        let epoch = aimd.epoch();
        assert!(aimd.throttled(epoch, None, t0).is_some());
        for _ in 0..50 {
            assert_eq!(aimd.throttled(epoch, None, t0), None);
        }
        assert_eq!(aimd.current(), 50.0);
    }

    #[test]
    fn persistent_throttling_doubles_the_pause_and_keeps_a_floor() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(100.0, t0);
        let mut pauses = Vec::new();
        for _ in 0..10 {
            pauses.push(aimd.throttled(aimd.epoch(), None, t0).unwrap().pause);
        }
        assert_eq!(pauses[1], 2 * pauses[0]);
        assert!(pauses.iter().all(|p| *p <= MAX_PAUSE));
        assert_eq!(aimd.current(), 5.0, "floor at 5% of the configured rate");
        aimd.succeeded();
        let next = aimd.throttled(aimd.epoch(), None, t0).unwrap();
        assert_eq!(next.pause, BASE_PAUSE, "a success resets the pause");
    }

    #[test]
    fn the_carriers_hint_sets_the_pause() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(10.0, t0);
        let hint = Duration::from_secs(7);
        assert_eq!(aimd.throttled(0, Some(hint), t0).unwrap().pause, hint);
    }

    #[test]
    fn a_lower_configured_rate_applies_at_once() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(100.0, t0);
        assert_eq!(aimd.set_configured(40.0, t0), 40.0);
        assert_eq!(
            aimd.set_configured(80.0, t0),
            80.0,
            "not backing off: follow up at once"
        );
    }
}
