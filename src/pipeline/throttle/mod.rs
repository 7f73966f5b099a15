//! Throttle: the hierarchical limits every send to a carrier waits on.
//!
//! A send passes, in order: the account's daily cap (if configured), its sender number's
//! bucket (if that number has a rate: its own, else its kind's default from the profile's
//! `[sender_defaults]`), and the account's bucket. Units are segments where
//! the carrier counts segments (Twilio), requests otherwise. The account's rate adapts: a
//! throttled answer pauses the account and halves its rate, which then climbs back (AIMD).
//!
//! One instance at a time sends for an account (see `pipeline::lanes`), so these in-memory
//! buckets are the global truth for that account.

mod adaptive;
mod bucket;
mod daily_cap;
mod departures;
mod slots;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

pub use adaptive::Aimd;
pub use bucket::Bucket;
pub use daily_cap::DailyCapCounter;
use departures::Departures;
pub use slots::{RequestSlots, Slot};

use crate::bus::Lane;
use crate::config::{CarrierProfile, LimitUnit, SenderDefaults, SenderProfile, sender_rate};
use crate::store::StoredSenderRate;
use crate::telemetry::metrics as m;

/// The burst a sender number gets: its limits come as a rate only.
const SENDER_BURST: u32 = 1;

/// A sender number's own limit, and the units waiting for it right now.
#[derive(Clone)]
struct SenderLimit {
    rate: f64,
    bucket: Bucket,
    departures: Arc<Departures>,
    waiting: Arc<AtomicU64>,
}

/// Counts units as waiting for a sender until dropped (granted or cancelled).
struct Waiting<'a>(&'a AtomicU64, u64);

impl<'a> Waiting<'a> {
    fn count(counter: &'a AtomicU64, units: u64) -> Self {
        counter.fetch_add(units, Relaxed);
        Self(counter, units)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(self.1, Relaxed);
    }
}

/// Proof that a send left; tells a later throttled answer which back-off episode it is in.
///
/// Stamped as the request leaves, not when its token was granted: an answer to a request
/// that left after a back-off is news about the new pace, one to a request that left before
/// it is part of the episode already handled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grant {
    epoch: u64,
}

/// What the throttle decided for one send.
#[derive(Debug)]
pub enum Admission {
    /// The tokens are taken; the send may go once [`Throttle::depart`] agrees.
    Granted,
    /// Today's cap is used up; try again at `until`.
    Capped { until: DateTime<Utc> },
}

/// One carrier account's limits; cheap to clone, shared by the account's two lanes.
#[derive(Clone)]
pub struct Throttle {
    inner: Arc<Inner>,
}

struct Inner {
    carrier: String,
    unit: LimitUnit,
    account: Bucket,
    /// The account's limit at the moment requests leave (see `departures`).
    departures: Departures,
    /// Makes one departure's look at both gates and its charge one step.
    departing: Mutex<()>,
    burst: AtomicU32,
    senders: RwLock<HashMap<String, SenderLimit>>,
    /// The profile's `[[senders]]`: the base the store's rows are laid over.
    profile_senders: Vec<SenderProfile>,
    /// The profile's rates by kind, for numbers without one of their own.
    sender_defaults: SenderDefaults,
    /// Numbers whose limit (or lack of one) has been looked up in the store.
    looked_up: RwLock<HashSet<String>>,
    aimd: Mutex<Aimd>,
    cap: Option<DailyCapCounter>,
    /// Numbers whose own queue at the carrier is full, until when they wait.
    sender_pauses: Mutex<HashMap<String, Instant>>,
}

impl Throttle {
    /// The profile's account limit, sender limits (by number and by kind) and daily cap.
    pub fn for_profile(profile: &CarrierProfile) -> Self {
        let limits = &profile.limits;
        let cap = limits.daily_cap.as_ref().map(|cap| {
            // The zone was checked when the profile loaded.
            let zone = cap.time_zone.parse().unwrap_or(chrono_tz::UTC);
            DailyCapCounter::new(cap.limit, zone)
        });
        let throttle = Self::build(
            &profile.name,
            limits.rate_per_second,
            limits.burst,
            limits.unit,
            cap,
            (profile.senders.clone(), profile.sender_defaults.clone()),
        );
        throttle.apply_stored_sender_limits([]);
        throttle
    }

    /// An account bucket of `rate` units per second and `burst` extra, with no sender limits.
    pub fn new(carrier: &str, rate: f64, burst: u32, unit: LimitUnit) -> Self {
        Self::build(carrier, rate, burst, unit, None, Default::default())
    }

    fn build(
        carrier: &str,
        rate: f64,
        burst: u32,
        unit: LimitUnit,
        cap: Option<DailyCapCounter>,
        (profile_senders, sender_defaults): (Vec<SenderProfile>, SenderDefaults),
    ) -> Self {
        let throttle = Self {
            inner: Arc::new(Inner {
                carrier: carrier.to_string(),
                unit,
                account: Bucket::new(rate, burst),
                departures: Departures::new(rate, burst, Instant::now()),
                departing: Mutex::new(()),
                burst: AtomicU32::new(burst),
                senders: RwLock::default(),
                profile_senders,
                sender_defaults,
                looked_up: RwLock::default(),
                aimd: Mutex::new(Aimd::new(rate, Instant::now())),
                cap,
                sender_pauses: Mutex::default(),
            }),
        };
        throttle.publish_gauges();
        // Registered at 0, so a dashboard and an alert see "no back-off yet", not no data.
        metrics::counter!(m::CARRIER_BACKOFFS_TOTAL, "carrier" => carrier.to_string()).increment(0);
        throttle
    }

    /// The carrier profile this throttle limits.
    pub fn carrier(&self) -> &str {
        &self.inner.carrier
    }

    /// The tokens a message of `segments` segments costs here.
    pub fn units(&self, segments: u32) -> u32 {
        match self.inner.unit {
            LimitUnit::Requests => 1,
            LimitUnit::Segments => segments.max(1),
        }
    }

    /// Waits until a message of `segments` segments may go from `sender` on `lane`.
    ///
    /// After a throttled answer the account's bucket reopens only when the pause ends, and a
    /// send waiting for it re-queues there: no token is spent during the pause, and none is
    /// spent twice. A token granted just before the answer is held by [`Throttle::depart`].
    pub async fn acquire(&self, segments: u32, lane: Lane, sender: &str) -> Admission {
        let units = self.units(segments);
        self.tick();
        self.wait_out_pause().await;
        if let Some(cap) = &self.inner.cap {
            if let Err(until) = cap.try_take(u64::from(units), Utc::now()) {
                return Admission::Capped { until };
            }
        }
        if let Some(limit) = self.sender_limit(sender) {
            let _waiting = Waiting::count(&limit.waiting, u64::from(units));
            limit.bucket.acquire(units, lane).await;
        }
        self.inner.account.acquire(units, lane).await;
        Admission::Granted
    }

    /// The last gate, right before the request: `Ok` charges `units` to the account and the
    /// sender as leaving now; `Err` says how long to wait (nothing is charged then). A pause
    /// after a throttled answer holds here too: sends granted before it must not go during it.
    pub fn depart(&self, units: u32, sender: &str) -> Result<Grant, Duration> {
        let epoch = {
            let aimd = self.aimd();
            if let Some(until) = aimd.paused_until(Instant::now()) {
                return Err(until.saturating_duration_since(Instant::now()));
            }
            aimd.epoch()
        };
        let sender = self.sender_limit(sender).map(|limit| limit.departures);
        let _one_at_a_time = self
            .inner
            .departing
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let wait = self.inner.departures.wait(units, now).max(
            sender
                .as_ref()
                .map_or(Duration::ZERO, |gate| gate.wait(units, now)),
        );
        if !wait.is_zero() {
            return Err(wait);
        }
        self.inner.departures.charge(units, now);
        if let Some(gate) = sender {
            gate.charge(units, now);
        }
        Ok(Grant { epoch })
    }

    /// The own limit of `sender`, if it has one (a cheap clone of shared handles).
    fn sender_limit(&self, sender: &str) -> Option<SenderLimit> {
        self.inner
            .senders
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(sender)
            .cloned()
    }

    async fn wait_out_pause(&self) {
        loop {
            let paused = self.aimd().paused_until(Instant::now());
            match paused {
                Some(until) => tokio::time::sleep_until(until.into()).await,
                None => return,
            }
        }
    }

    /// The carrier answered "too fast" to a send granted by `grant`: pause and slow down.
    pub fn throttled(&self, grant: Grant, hint: Option<Duration>) {
        let back_off = self.aimd().throttled(grant.epoch, hint, Instant::now());
        if let Some(back_off) = back_off {
            tracing::warn!(
                carrier = %self.inner.carrier,
                rate = back_off.rate,
                pause_ms = back_off.pause.as_millis() as u64,
                "the carrier is throttling us: pausing and lowering the rate"
            );
            metrics::counter!(m::CARRIER_BACKOFFS_TOTAL, "carrier" => self.inner.carrier.clone())
                .increment(1);
            self.apply_rate(back_off.rate);
            self.inner
                .departures
                .hold_until(Instant::now() + back_off.pause);
        }
    }

    /// The carrier's queue for `sender` is full: that number sends nothing for `pause`, while
    /// the account and its other numbers go on at their pace.
    pub fn pause_sender(&self, sender: &str, pause: Duration) {
        let until = Instant::now() + pause;
        tracing::warn!(carrier = %self.inner.carrier, sender, pause_s = pause.as_secs(), "the carrier's queue for this sender is full: pausing the number");
        self.sender_pauses()
            .entry(sender.to_owned())
            .and_modify(|at| *at = (*at).max(until))
            .or_insert(until);
    }

    /// Until when `sender` waits after a full queue at the carrier, if it does.
    pub fn sender_paused_until(&self, sender: &str) -> Option<Instant> {
        let mut pauses = self.sender_pauses();
        let now = Instant::now();
        match pauses.get(sender) {
            Some(&until) if until > now => Some(until),
            Some(_) => {
                pauses.remove(sender);
                None
            }
            None => None,
        }
    }

    fn sender_pauses(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.inner
            .sender_pauses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// A send went through: the next back-off starts from the base pause.
    pub fn succeeded(&self) {
        self.aimd().succeeded();
    }

    /// Applies the additive increase when it is due; cheap, called before every send.
    pub fn tick(&self) {
        let raised = self.aimd().tick(Instant::now());
        if let Some(rate) = raised {
            self.apply_rate(rate);
        }
    }

    /// New configured limits (from `floodgate limits set`), in force at once.
    pub fn set_limits(&self, rate: f64, burst: u32) {
        let (configured, current) = {
            let aimd = self.aimd();
            (aimd.configured(), aimd.current())
        };
        let old_burst = self.inner.burst.swap(burst, Relaxed);
        if configured == rate && old_burst == burst {
            return;
        }
        tracing::info!(carrier = %self.inner.carrier, rate, burst, "carrier limits changed");
        let current_after = self.aimd().set_configured(rate, Instant::now());
        if current_after != current || old_burst != burst {
            self.apply_rate(current_after);
        }
        self.publish_gauges();
    }

    /// The per-sender limits (number → units per second); unchanged ones keep their state.
    pub fn set_sender_limits(&self, limits: impl IntoIterator<Item = (String, f64)>) {
        let mut senders = self
            .inner
            .senders
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let mut next = HashMap::new();
        for (number, rate) in limits {
            let limit = match senders.remove(&number) {
                Some(old) if old.rate == rate => old,
                _ => SenderLimit {
                    rate,
                    bucket: Bucket::new(rate, SENDER_BURST),
                    departures: Arc::new(Departures::new(rate, SENDER_BURST, Instant::now())),
                    waiting: Arc::default(),
                },
            };
            next.insert(number, limit);
        }
        *senders = next;
    }

    /// The store's numbers laid over the profile's `[[senders]]` (a row in the store is more
    /// specific): each gets its explicit rate, else its kind's default, else no limit of its
    /// own. Every number read is known afterwards, limited or not.
    pub fn apply_stored_sender_limits(&self, stored: impl IntoIterator<Item = StoredSenderRate>) {
        let (senders, defaults) = (&self.inner.profile_senders, &self.inner.sender_defaults);
        let mut limits: HashMap<String, f64> = senders
            .iter()
            .filter_map(|s| {
                let rate = sender_rate(senders, defaults, &s.number, s.kind, None)?;
                Some((s.number.clone(), rate))
            })
            .collect();
        let mut read = Vec::new();
        for row in stored {
            match sender_rate(
                senders,
                defaults,
                &row.number,
                row.kind,
                row.rate_per_second,
            ) {
                Some(rate) => limits.insert(row.number.clone(), rate),
                None => limits.remove(&row.number),
            };
            read.push(row.number);
        }
        self.set_sender_limits(limits);
        self.mark_looked_up(read.iter().map(String::as_str));
    }

    /// Whether `sender`'s own limit (or its lack of one) is known: it was in the profile or
    /// the store when last read, or it was looked up since. A number added while running is
    /// looked up before its first send, so its limit holds from the first message, not from
    /// the next refresh.
    pub fn knows_sender(&self, sender: &str) -> bool {
        let limited = self
            .inner
            .senders
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(sender);
        limited
            || self
                .inner
                .looked_up
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .contains(sender)
    }

    /// Remembers that these numbers' limits were just read from the store.
    pub fn mark_looked_up<'a>(&self, senders: impl IntoIterator<Item = &'a str>) {
        let mut looked_up = self
            .inner
            .looked_up
            .write()
            .unwrap_or_else(|e| e.into_inner());
        looked_up.extend(senders.into_iter().map(str::to_owned));
    }

    /// How long a new send from `sender` would wait behind those already waiting for the
    /// number's own limit; `None` when the number has none.
    pub fn sender_backlog(&self, sender: &str) -> Option<Duration> {
        let senders = self.inner.senders.read().unwrap_or_else(|e| e.into_inner());
        let limit = senders.get(sender)?;
        let waiting = limit.waiting.load(Relaxed) as f64;
        Some(Duration::from_secs_f64(waiting / limit.rate.max(1e-3)))
    }

    /// The daily cap, when the profile has one.
    pub fn daily_cap(&self) -> Option<&DailyCapCounter> {
        self.inner.cap.as_ref()
    }

    /// (configured, current) account rate in units per second.
    pub fn rates(&self) -> (f64, f64) {
        let aimd = self.aimd();
        (aimd.configured(), aimd.current())
    }

    /// The account's buckets at `rate`; the pacing bucket opens when a pause ends, if one runs.
    fn apply_rate(&self, rate: f64) {
        let burst = self.inner.burst.load(Relaxed);
        let now = Instant::now();
        let opens_at = self.aimd().paused_until(now).unwrap_or(now);
        self.inner.account.set(rate, burst, opens_at);
        self.inner.departures.set(rate, burst, now);
        self.publish_gauges();
    }

    fn publish_gauges(&self) {
        let (configured, current) = self.rates();
        let carrier = self.inner.carrier.clone();
        metrics::gauge!(m::CARRIER_LIMIT_CONFIGURED, "carrier" => carrier.clone()).set(configured);
        metrics::gauge!(m::CARRIER_LIMIT_CURRENT, "carrier" => carrier).set(current);
    }

    fn aimd(&self) -> std::sync::MutexGuard<'_, Aimd> {
        self.inner.aimd.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests;
