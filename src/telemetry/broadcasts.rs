//! Gauges of running broadcasts: progress, recent send rate and ETA, one series set per
//! broadcast, gone as soon as it finishes.
//!
//! The `metrics` facade cannot remove a series, so these gauges do not go through the
//! recorder: each sampler publishes its latest snapshot here, and `/metrics` appends
//! [`render`]'s text to the recorder's.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::metrics::{
    BROADCAST_ETA_SECONDS, BROADCAST_RECIPIENTS, BROADCAST_REMAINING_MESSAGES,
    BROADCAST_SEND_RATE_PER_SECOND, BROADCAST_SENT_MESSAGES, lookup,
};

/// How far back the send rate behind the ETA looks.
pub const RATE_WINDOW: Duration = Duration::from_secs(30);

/// One running broadcast as the sampler last saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastSample {
    pub id: i64,
    pub recipients: i64,
    pub sent: i64,
    pub remaining: i64,
    /// Messages per second over [`RATE_WINDOW`]; `None` until two samples exist.
    pub rate: Option<f64>,
    /// `remaining / rate`; +Inf while the rate is zero; `None` while the rate is unknown.
    pub eta_seconds: Option<f64>,
}

/// Each live sampler's latest snapshot, by sampler id (one per pipeline; tests run several).
static SNAPSHOTS: Mutex<BTreeMap<u64, Vec<BroadcastSample>>> = Mutex::new(BTreeMap::new());
static NEXT_SLOT: AtomicU64 = AtomicU64::new(0);

/// A sampler's place in the rendered output; dropping it removes its series.
#[derive(Debug)]
pub struct Slot(u64);

impl Slot {
    /// Claims an empty slot.
    pub fn claim() -> Self {
        Self(NEXT_SLOT.fetch_add(1, Ordering::Relaxed))
    }

    /// Replaces this slot's series with `samples`: a broadcast left out is removed.
    pub fn publish(&self, samples: Vec<BroadcastSample>) {
        let mut all = SNAPSHOTS.lock().unwrap_or_else(PoisonError::into_inner);
        all.insert(self.0, samples);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut all = SNAPSHOTS.lock().unwrap_or_else(PoisonError::into_inner);
        all.remove(&self.0);
    }
}

/// Reads one gauge's value from a sample; `None` leaves the series out.
type Reading = fn(&BroadcastSample) -> Option<f64>;

/// Prometheus text for every published broadcast (one series per id; the first slot wins).
pub fn render() -> String {
    let all = SNAPSHOTS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut by_id: BTreeMap<i64, &BroadcastSample> = BTreeMap::new();
    for sample in all.values().flatten() {
        by_id.entry(sample.id).or_insert(sample);
    }
    let families: [(&str, Reading); 5] = [
        (BROADCAST_RECIPIENTS, |s| Some(s.recipients as f64)),
        (BROADCAST_SENT_MESSAGES, |s| Some(s.sent as f64)),
        (BROADCAST_REMAINING_MESSAGES, |s| Some(s.remaining as f64)),
        (BROADCAST_SEND_RATE_PER_SECOND, |s| s.rate),
        (BROADCAST_ETA_SECONDS, |s| s.eta_seconds),
    ];
    let mut out = String::new();
    for (name, value) in families {
        let series: Vec<(i64, f64)> = by_id
            .values()
            .filter_map(|s| value(s).map(|v| (s.id, v)))
            .collect();
        if series.is_empty() {
            continue;
        }
        let help = lookup(name).map_or("", |m| m.help);
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (id, v) in series {
            let _ = writeln!(out, "{name}{{broadcast=\"{id}\"}} {}", number(v));
        }
    }
    out
}

/// A sample value as the exposition format spells it.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        v.to_string()
    }
}

/// Seconds to send `remaining` at `rate` per second.
pub fn eta_seconds(remaining: i64, rate: Option<f64>) -> Option<f64> {
    let rate = rate?;
    Some(if remaining <= 0 {
        0.0
    } else if rate > 0.0 {
        remaining as f64 / rate
    } else {
        f64::INFINITY
    })
}

/// The sent counts of one broadcast over the last [`RATE_WINDOW`].
#[derive(Debug, Default)]
struct RateWindow(VecDeque<(Instant, i64)>);

impl RateWindow {
    /// Adds a sample and returns the rate across the window, once it spans some time.
    fn push(&mut self, at: Instant, sent: i64) -> Option<f64> {
        self.0.push_back((at, sent));
        while self.0.len() > 2 && self.0.front().is_some_and(|(t, _)| at - *t > RATE_WINDOW) {
            self.0.pop_front();
        }
        let (t0, s0) = *self.0.front()?;
        let span = (at - t0).as_secs_f64();
        (span > 0.0).then(|| ((sent - s0).max(0) as f64) / span)
    }
}

/// One broadcast's state as read from the store.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub id: i64,
    pub recipients: i64,
    pub sent: i64,
    pub remaining: i64,
    /// Fan-out is over: `remaining == 0` then means the broadcast is finished.
    pub fanned_out: bool,
}

/// Turns successive store reads into samples, remembering rates and finished broadcasts.
#[derive(Debug, Default)]
pub struct Tracker {
    windows: HashMap<i64, RateWindow>,
    finished: HashSet<i64>,
}

impl Tracker {
    /// Whether `id` was seen finished (its counts need not be read again).
    pub fn is_finished(&self, id: i64) -> bool {
        self.finished.contains(&id)
    }

    /// Samples for `running` at `at`; finished broadcasts get none and are remembered.
    /// `listed` is every id the store still lists as running, finished or not, so the memory
    /// of finished ones stays bounded by the store's listing.
    pub fn observe(
        &mut self,
        at: Instant,
        running: &[Progress],
        listed: &[i64],
    ) -> Vec<BroadcastSample> {
        self.finished.retain(|id| listed.contains(id));
        let mut samples = Vec::with_capacity(running.len());
        for p in running {
            if p.fanned_out && p.remaining <= 0 {
                self.finished.insert(p.id);
                continue;
            }
            let rate = self.windows.entry(p.id).or_default().push(at, p.sent);
            samples.push(BroadcastSample {
                id: p.id,
                recipients: p.recipients,
                sent: p.sent,
                remaining: p.remaining,
                rate,
                eta_seconds: eta_seconds(p.remaining, rate),
            });
        }
        self.windows
            .retain(|id, _| samples.iter().any(|s| s.id == *id));
        samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(id: i64, sent: i64, remaining: i64) -> Progress {
        Progress {
            id,
            recipients: sent + remaining,
            sent,
            remaining,
            fanned_out: true,
        }
    }

    #[test]
    fn the_eta_is_remaining_over_the_recent_rate() {
        let mut tracker = Tracker::default();
        let t0 = Instant::now();
        let first = tracker.observe(t0, &[progress(7, 0, 100)], &[7]);
        assert_eq!(first[0].rate, None);
        assert_eq!(first[0].eta_seconds, None);
        let second = tracker.observe(t0 + Duration::from_secs(2), &[progress(7, 20, 80)], &[7]);
        assert_eq!(second[0].rate, Some(10.0));
        assert_eq!(second[0].eta_seconds, Some(8.0));
    }

    #[test]
    fn a_stalled_broadcast_has_an_infinite_eta() {
        let mut tracker = Tracker::default();
        let t0 = Instant::now();
        tracker.observe(t0, &[progress(1, 5, 10)], &[1]);
        let s = tracker.observe(t0 + Duration::from_secs(2), &[progress(1, 5, 10)], &[1]);
        assert_eq!(s[0].eta_seconds, Some(f64::INFINITY));
        assert!(render_of(&s).contains("floodgate_broadcast_eta_seconds{broadcast=\"1\"} +Inf"));
    }

    #[test]
    fn a_finished_broadcast_loses_its_series_and_is_forgotten_once_unlisted() {
        let mut tracker = Tracker::default();
        let t0 = Instant::now();
        assert_eq!(tracker.observe(t0, &[progress(3, 9, 1)], &[3]).len(), 1);
        assert!(tracker.observe(t0, &[progress(3, 10, 0)], &[3]).is_empty());
        assert!(tracker.is_finished(3));
        tracker.observe(t0, &[], &[]);
        assert!(!tracker.is_finished(3));
    }

    #[test]
    fn the_rate_only_looks_back_over_the_window() {
        let mut window = RateWindow::default();
        let t0 = Instant::now();
        window.push(t0, 0);
        window.push(t0 + Duration::from_secs(20), 1000);
        let rate = window.push(t0 + Duration::from_secs(40), 1000);
        assert_eq!(rate, Some(0.0), "the burst 40 s ago has left the window");
    }

    fn render_of(samples: &[BroadcastSample]) -> String {
        let slot = Slot::claim();
        slot.publish(samples.to_vec());
        let text = render();
        drop(slot);
        text
    }
}
