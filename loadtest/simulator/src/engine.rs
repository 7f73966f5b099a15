//! The carrier-neutral core: who may send, what the limits say, which faults strike,
//! and the record of it all. One lock guards it, held only for the decision (no I/O,
//! no await), so requests are recorded in the order the limiter saw them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use crate::callbacks::{CallbackJob, Callbacks};
use crate::carriers::ids::message_id;
use crate::carriers::{DeliveryStatus, Message, Rejection, SendRequest, Wire};
use crate::config::{Account, Carrier, Latency, SimConfig, Storm, Timeouts, Unit};
use crate::limiter::TokenBucket;
use crate::priority::Marks;
use crate::record::{Log, NewEntry, Outcome, e164_digits};
use crate::segments;

/// State shared by the HTTP handlers, the callback workers and the [`crate::SimHandle`].
pub(crate) struct Shared {
    core: Mutex<Core>,
    pub callbacks: Callbacks,
    /// Turns true at shutdown; cuts hung requests short so the drain does not wait.
    stopped: watch::Receiver<bool>,
}

/// Everything the decision for one send reads or changes.
pub(crate) struct Core {
    pub started: Instant,
    pub accounts: Vec<AccountState>,
    /// Per-sender buckets, keyed by account index and `From`.
    pub senders: HashMap<(usize, String), TokenBucket>,
    pub latency: Latency,
    pub failure_ratio: f64,
    pub timeouts: Timeouts,
    pub storm: Option<Storm>,
    pub undelivered_ratio: f64,
    pub callbacks_enabled: bool,
    pub callback_delay: Duration,
    pub default_callback_url: Option<String>,
    pub opted_out: HashSet<String>,
    /// Senders whose own queue is full: every send from them is refused (Twilio 21611).
    pub full_senders: HashSet<String>,
    /// Recipients the client marked as priority, with when.
    pub priority: Marks,
    seed: u64,
    rng: StdRng,
    pub log: Log,
}

/// An account, its bucket, and a snapshot of its keys for signing callbacks.
pub(crate) struct AccountState {
    pub account: Account,
    pub bucket: TokenBucket,
    pub keys: Arc<Account>,
}

/// What the carrier module must do after the lock is released.
pub(crate) struct Decision {
    pub result: Result<Arc<Message>, Rejection>,
    /// Latency plus any timeout hang.
    pub delay: Duration,
    pub callback: Option<CallbackJob>,
}

impl Shared {
    pub fn new(config: &SimConfig, callbacks: Callbacks, stopped: watch::Receiver<bool>) -> Self {
        let now = Instant::now();
        let accounts = config
            .accounts
            .iter()
            .map(|a| AccountState {
                account: a.clone(),
                bucket: TokenBucket::new(a.rate, a.burst, now),
                keys: Arc::new(a.clone()),
            })
            .collect();
        let core = Core {
            started: now,
            accounts,
            senders: HashMap::new(),
            latency: config.latency,
            failure_ratio: config.failure_ratio,
            timeouts: config.timeouts,
            storm: config.storm,
            undelivered_ratio: config.undelivered_ratio,
            callbacks_enabled: config.callbacks,
            callback_delay: config.callback_delay,
            default_callback_url: config.default_callback_url.clone(),
            opted_out: config.opted_out.clone(),
            full_senders: HashSet::new(),
            priority: Marks::default(),
            seed: config.seed,
            rng: StdRng::seed_from_u64(config.seed),
            log: Log::new(config.max_distinct_bodies),
        };
        Self {
            core: Mutex::new(core),
            callbacks,
            stopped,
        }
    }

    /// The core, even if a panicking thread poisoned the lock (the data stays usable).
    pub fn core(&self) -> MutexGuard<'_, Core> {
        self.core
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sleeps `delay`, or less if the simulator is shutting down.
    pub async fn wait(&self, delay: Duration) {
        if delay.is_zero() {
            return;
        }
        let mut stopped = self.stopped.clone();
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stopped.wait_for(|stop| *stop) => {}
        }
    }

    /// Decides one send and records it; the caller enqueues the callback, sleeps
    /// `delay`, then answers (never under the lock).
    pub fn decide<C: Wire>(&self, req: &SendRequest) -> Decision {
        let mut guard = self.core();
        let core = &mut *guard;
        let now = Instant::now();
        let elapsed = now.duration_since(core.started);
        let at_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let latency = core.latency.sample(&mut core.rng);
        let timed_out = core.timeouts.ratio > 0.0 && core.rng.gen_bool(core.timeouts.ratio);
        let delay = latency
            + if timed_out {
                core.timeouts.hang
            } else {
                Duration::ZERO
            };
        let body = req.body.as_deref().unwrap_or("");
        let segments = segments::count(body);
        let account = core
            .accounts
            .iter()
            .position(|a| a.account.carrier == C::CARRIER && C::owns(&a.account, req));
        let mut storm = false;
        let result = account
            .ok_or(Rejection::Unauthenticated)
            .and_then(|idx| {
                storm = core.storm_strikes(elapsed);
                if storm {
                    Err(Rejection::Throttled)
                } else {
                    Ok(idx)
                }
            })
            .and_then(|idx| core.admit(idx, req, segments, now))
            .map(|idx| core.accept::<C>(idx, req, segments));
        let (outcome, status, code, sid) = summarise::<C>(&result);
        // Fields of `core` borrow apart: the name is read while the log is written.
        let account_name = match account {
            Some(idx) => core.accounts[idx].account.sid.as_str(),
            None => req.account_sid.as_str(),
        };
        core.log.push(NewEntry {
            at_us,
            carrier: C::CARRIER,
            outcome,
            storm,
            timed_out,
            account: account_name,
            from: req.from.as_deref().unwrap_or(""),
            to: req.to.as_deref().unwrap_or(""),
            body,
            segments,
            status,
            code,
            sid,
            client_id: req.client_id.as_deref(),
        });
        match result {
            Ok(message) => {
                let message = Arc::new(message);
                let callback = account
                    .and_then(|idx| core.callback_job::<C>(idx, &message, req, now + latency));
                Decision {
                    result: Ok(message),
                    delay,
                    callback,
                }
            }
            Err(rejection) => Decision {
                result: Err(rejection),
                delay,
                callback: None,
            },
        }
    }
}

/// What the record keeps of a decision: outcome, HTTP status, carrier code, message bits.
fn summarise<C: Wire>(result: &Result<Message, Rejection>) -> (Outcome, u16, u16, [u64; 2]) {
    match result {
        // A created message: Twilio answers 201, the others 200.
        Ok(message) => {
            let status = if C::CARRIER == Carrier::Twilio {
                201
            } else {
                200
            };
            (Outcome::Accepted, status, 0, message.bits)
        }
        Err(r) => {
            let outcome = match r {
                Rejection::Throttled => Outcome::Throttled,
                Rejection::ServerError => Outcome::Failed,
                _ => Outcome::Rejected,
            };
            (outcome, C::http_status(*r), C::error_code(*r), [0, 0])
        }
    }
}

impl Core {
    /// Whether the storm answers this request over-limit.
    fn storm_strikes(&mut self, elapsed: Duration) -> bool {
        match self.storm {
            Some(storm) if storm.covers(elapsed) => {
                storm.ratio >= 1.0 || (storm.ratio > 0.0 && self.rng.gen_bool(storm.ratio))
            }
            _ => false,
        }
    }

    /// Validation, limits and injected failures, in the order a carrier applies them,
    /// for a request already authenticated as account `idx`.
    fn admit(
        &mut self,
        idx: usize,
        req: &SendRequest,
        segments: u16,
        now: Instant,
    ) -> Result<usize, Rejection> {
        let account = &self.accounts[idx].account;
        let (unit, sender_rate, sender_burst) =
            (account.unit, account.sender_rate, account.sender_burst);
        let from = req
            .from
            .as_deref()
            .filter(|f| !f.is_empty())
            .ok_or(Rejection::MissingFrom)?;
        if req.body.as_deref().is_none_or(str::is_empty) {
            return Err(Rejection::MissingBody);
        }
        if self.full_senders.contains(from) {
            return Err(Rejection::SenderQueueFull);
        }
        let to = req
            .to
            .as_deref()
            .filter(|t| !req.to_malformed && e164_digits(t).is_some())
            .ok_or(Rejection::InvalidTo)?;
        if self.opted_out.contains(to) {
            return Err(Rejection::OptedOut);
        }
        let units = match unit {
            Unit::Requests => 1.0,
            Unit::Segments => f64::from(segments),
        };
        let mut sender = None;
        if sender_rate > 0.0 {
            let bucket = self
                .senders
                .entry((idx, from.to_owned()))
                .or_insert_with(|| TokenBucket::new(sender_rate, sender_burst, now));
            if !bucket.would_admit(units, now) {
                return Err(Rejection::Throttled);
            }
            sender = Some(bucket);
        }
        let account_bucket = &mut self.accounts[idx].bucket;
        if !account_bucket.would_admit(units, now) {
            return Err(Rejection::Throttled);
        }
        account_bucket.take(units, now);
        if let Some(bucket) = sender {
            bucket.take(units, now);
        }
        if self.failure_ratio > 0.0 && self.rng.gen_bool(self.failure_ratio) {
            return Err(Rejection::ServerError);
        }
        Ok(idx)
    }

    fn accept<C: Wire>(&mut self, idx: usize, req: &SendRequest, segments: u16) -> Message {
        let bits = [self.rng.r#gen::<u64>().max(1), self.rng.r#gen::<u64>()];
        let undelivered = self.undelivered_ratio > 0.0 && self.rng.gen_bool(self.undelivered_ratio);
        Message {
            id: message_id(C::CARRIER, bits),
            bits,
            account_sid: self.accounts[idx].account.sid.clone(),
            from: req.from.clone().unwrap_or_default(),
            messaging_service: req.messaging_service,
            to: req.to.clone().unwrap_or_default(),
            body: req.body.clone().unwrap_or_default(),
            segments,
            client_ref: req.client_ref.clone(),
            created: Utc::now(),
            outcome: if undelivered {
                DeliveryStatus::Undelivered
            } else {
                DeliveryStatus::Delivered
            },
        }
    }

    fn callback_job<C: Wire>(
        &self,
        idx: usize,
        message: &Arc<Message>,
        req: &SendRequest,
        answered_at: Instant,
    ) -> Option<CallbackJob> {
        if !self.callbacks_enabled {
            return None;
        }
        let url = req
            .status_callback
            .clone()
            .or_else(|| self.default_callback_url.clone())?;
        Some(CallbackJob::first::<C>(
            message.clone(),
            url,
            self.accounts[idx].keys.clone(),
            answered_at,
            self.callback_delay,
        ))
    }

    /// Microseconds on the simulator clock.
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Starts a fresh run: empty record and marks, full buckets, clock and RNG from the
    /// start. Configuration (limits, faults, the storm schedule) is kept.
    pub fn reset(&mut self) {
        let now = Instant::now();
        self.started = now;
        self.log.clear();
        self.priority = Marks::default();
        self.senders.clear();
        for a in &mut self.accounts {
            a.bucket.reset(now);
        }
        self.rng = StdRng::seed_from_u64(self.seed);
    }
}
