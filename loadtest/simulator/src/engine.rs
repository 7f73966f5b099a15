//! The carrier-neutral core: who may send, what the limits say, which faults strike,
//! and the record of it all. One lock guards it, held only for the decision (no I/O,
//! no await), so requests are recorded in the order the limiter saw them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::callbacks::{CallbackJob, Callbacks};
use crate::carriers::{Carrier, DeliveryStatus, Message, Rejection, SendRequest};
use crate::config::{Account, Latency, SimConfig, Unit};
use crate::limiter::TokenBucket;
use crate::record::{Log, NewEntry, e164_digits, format_sid};
use crate::segments;

/// State shared by the HTTP handlers, the callback workers and the [`crate::SimHandle`].
pub(crate) struct Shared {
    core: Mutex<Core>,
    pub callbacks: Callbacks,
}

/// Everything the decision for one send reads or changes.
pub(crate) struct Core {
    pub started: Instant,
    pub accounts: Vec<AccountState>,
    /// Per-sender buckets, keyed by account index and `From`.
    pub senders: HashMap<(usize, String), TokenBucket>,
    pub latency: Latency,
    pub failure_ratio: f64,
    pub undelivered_ratio: f64,
    pub callbacks_enabled: bool,
    pub callback_delay: Duration,
    pub default_callback_url: Option<String>,
    pub opted_out: HashSet<String>,
    seed: u64,
    rng: StdRng,
    pub log: Log,
}

/// An account and its bucket.
pub(crate) struct AccountState {
    pub account: Account,
    pub bucket: TokenBucket,
}

/// What the carrier module must do after the lock is released.
pub(crate) struct Decision {
    pub result: Result<Arc<Message>, Rejection>,
    pub latency: Duration,
    pub callback: Option<CallbackJob>,
}

impl Shared {
    pub fn new(config: &SimConfig, callbacks: Callbacks) -> Self {
        let now = Instant::now();
        let accounts = config
            .accounts
            .iter()
            .map(|a| AccountState {
                account: a.clone(),
                bucket: TokenBucket::new(a.rate, a.burst, now),
            })
            .collect();
        let core = Core {
            started: now,
            accounts,
            senders: HashMap::new(),
            latency: config.latency,
            failure_ratio: config.failure_ratio,
            undelivered_ratio: config.undelivered_ratio,
            callbacks_enabled: config.callbacks,
            callback_delay: config.callback_delay,
            default_callback_url: config.default_callback_url.clone(),
            opted_out: config.opted_out.clone(),
            seed: config.seed,
            rng: StdRng::seed_from_u64(config.seed),
            log: Log::new(config.max_distinct_bodies),
        };
        Self {
            core: Mutex::new(core),
            callbacks,
        }
    }

    /// The core, even if a panicking thread poisoned the lock (the data stays usable).
    pub fn core(&self) -> MutexGuard<'_, Core> {
        self.core
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Decides one send and records it; the caller sleeps `latency`, answers, then
    /// enqueues the callback (never under the lock).
    pub fn decide<C: Carrier>(&self, req: &SendRequest) -> Decision {
        let mut core = self.core();
        let now = Instant::now();
        let at_us = u64::try_from(now.duration_since(core.started).as_micros()).unwrap_or(u64::MAX);
        let latency = core.sample_latency();
        let body = req.body.as_deref().unwrap_or("");
        let segments = segments::count(body);
        let result = core
            .admit(req, segments, now)
            .map(|account| core.accept(account, req, segments));
        let (status, code, sid) = match &result {
            Ok((_, sid)) => (201, 0, *sid),
            Err(r) => (r.status(), C::error_code(*r), [0, 0]),
        };
        core.log.push(NewEntry {
            at_us,
            account: &req.account_sid,
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
            Ok((message, _)) => {
                let message = Arc::new(message);
                let callback = core.callback_job::<C>(&message, req, now + latency);
                Decision {
                    result: Ok(message),
                    latency,
                    callback,
                }
            }
            Err(rejection) => Decision {
                result: Err(rejection),
                latency,
                callback: None,
            },
        }
    }
}

impl Core {
    fn sample_latency(&mut self) -> Duration {
        match self.latency {
            Latency::None => Duration::ZERO,
            Latency::Fixed(d) => d,
            Latency::Uniform { min, max } => self.rng.gen_range(min..=max),
        }
    }

    /// Auth, validation, limits and injected failures, in the order a carrier applies them.
    fn admit(
        &mut self,
        req: &SendRequest,
        segments: u16,
        now: Instant,
    ) -> Result<usize, Rejection> {
        let idx = self
            .accounts
            .iter()
            .position(|a| a.account.sid == req.account_sid)
            .ok_or(Rejection::Unauthenticated)?;
        let account = &self.accounts[idx].account;
        match &req.credentials {
            Some((user, secret)) if *user == account.sid && *secret == account.auth_token => {}
            _ => return Err(Rejection::Unauthenticated),
        }
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
        let to = req
            .to
            .as_deref()
            .filter(|t| e164_digits(t).is_some())
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

    fn accept(&mut self, idx: usize, req: &SendRequest, segments: u16) -> (Message, [u64; 2]) {
        let sid = [self.rng.r#gen::<u64>().max(1), self.rng.r#gen::<u64>()];
        let undelivered = self.undelivered_ratio > 0.0 && self.rng.gen_bool(self.undelivered_ratio);
        let message = Message {
            sid: format_sid(sid),
            account_sid: self.accounts[idx].account.sid.clone(),
            from: req.from.clone().unwrap_or_default(),
            to: req.to.clone().unwrap_or_default(),
            body: req.body.clone().unwrap_or_default(),
            segments,
            created: Utc::now(),
            outcome: if undelivered {
                DeliveryStatus::Undelivered
            } else {
                DeliveryStatus::Delivered
            },
        };
        (message, sid)
    }

    fn callback_job<C: Carrier>(
        &self,
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
        let auth_token = self
            .accounts
            .iter()
            .find(|a| a.account.sid == message.account_sid)?
            .account
            .auth_token
            .clone();
        Some(CallbackJob::first::<C>(
            message.clone(),
            url,
            auth_token,
            answered_at,
            self.callback_delay,
        ))
    }

    /// Starts a fresh run: empty record, full buckets, clock and RNG from the start.
    pub fn reset(&mut self) {
        let now = Instant::now();
        self.started = now;
        self.log.clear();
        self.senders.clear();
        for a in &mut self.accounts {
            a.bucket.reset(now);
        }
        self.rng = StdRng::seed_from_u64(self.seed);
    }
}
