//! What the simulator is told to be: its accounts, their limits, and the faults it injects.
//! Everything a load-test scenario varies lives here, with defaults that behave like a
//! well-mannered carrier.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SimError;

/// Everything the simulator needs to start; `Default` gives one unlimited account
/// (`AC` + 32 zeros / `test-token`) on a free loopback port.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free one (read it back from [`crate::SimHandle::addr`]).
    pub listen: SocketAddr,
    /// Accounts that may send; requests for any other `AccountSid` get 401.
    pub accounts: Vec<Account>,
    /// Delay added before every send response.
    pub latency: Latency,
    /// Fraction of admitted sends answered 500 (retryable), drawn from the seeded RNG.
    pub failure_ratio: f64,
    /// Fraction of accepted messages whose final callback is `undelivered` (30003).
    pub undelivered_ratio: f64,
    /// Whether status callbacks are sent at all.
    pub callbacks: bool,
    /// Delay before `sent`, and again between `sent` and the final status.
    pub callback_delay: Duration,
    /// Used when a send carries no `StatusCallback`.
    pub default_callback_url: Option<String>,
    /// Bound of the callback queue; when full, callbacks are dropped and counted.
    pub callback_queue: usize,
    /// Number of tasks posting callbacks.
    pub callback_workers: usize,
    /// Seed for every random choice, so a run can be replayed.
    pub seed: u64,
    /// Numbers that answer 21610 (the member texted STOP to the carrier).
    pub opted_out: HashSet<String>,
    /// Keep up to this many distinct bodies verbatim in the record; beyond it only a hash.
    pub max_distinct_bodies: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            accounts: vec![Account::default()],
            latency: Latency::None,
            failure_ratio: 0.0,
            undelivered_ratio: 0.0,
            callbacks: true,
            callback_delay: Duration::from_millis(200),
            default_callback_url: None,
            callback_queue: 10_000,
            callback_workers: 8,
            seed: 0,
            opted_out: HashSet::new(),
            max_distinct_bodies: 10_000,
        }
    }
}

impl SimConfig {
    /// Rejects settings that would make the simulator lie (ratios outside 0..=1, ...).
    pub fn validate(&self) -> Result<(), SimError> {
        let invalid = |m: &str| Err(SimError::InvalidConfig(m.to_owned()));
        if self.accounts.is_empty() {
            return invalid("at least one account is required");
        }
        let sids: HashSet<&str> = self.accounts.iter().map(|a| a.sid.as_str()).collect();
        if sids.len() != self.accounts.len() {
            return invalid("account SIDs must be unique");
        }
        if !(0.0..=1.0).contains(&self.failure_ratio)
            || !(0.0..=1.0).contains(&self.undelivered_ratio)
        {
            return invalid("failure_ratio and undelivered_ratio must be within 0..=1");
        }
        if let Latency::Uniform { min, max } = self.latency
            && min > max
        {
            return invalid("latency min must not exceed max");
        }
        if self.callback_queue == 0 || self.callback_workers == 0 {
            return invalid("callback_queue and callback_workers must be at least 1");
        }
        for a in &self.accounts {
            if !(a.rate >= 0.0 && a.sender_rate >= 0.0) {
                return invalid("rates must be zero (unlimited) or positive");
            }
        }
        Ok(())
    }
}

/// One carrier account: credentials and the limits the carrier enforces on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    /// `AC…`, the user name of HTTP Basic auth and part of the URL.
    pub sid: String,
    /// Basic-auth password, and the key that signs callbacks.
    pub auth_token: String,
    /// Units per second for the whole account; 0 = unlimited.
    pub rate: f64,
    /// Units available at once (the bucket starts full).
    pub burst: f64,
    /// What one unit is: a request, or an SMS segment as Twilio counts.
    pub unit: Unit,
    /// Units per second per sender number (`From`); 0 = unlimited.
    pub sender_rate: f64,
    /// Burst per sender number.
    pub sender_burst: f64,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            sid: format!("AC{}", "0".repeat(32)),
            auth_token: "test-token".to_owned(),
            rate: 0.0,
            burst: 0.0,
            unit: Unit::Requests,
            sender_rate: 0.0,
            sender_burst: 0.0,
        }
    }
}

/// What a rate limit counts; Twilio counts segments, most others count requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// One unit per send request.
    Requests,
    /// One unit per SMS segment of the body.
    Segments,
}

/// Response latency; uniform draws come from the seeded RNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// Answer at once.
    None,
    /// Always this long.
    Fixed(Duration),
    /// Uniformly between `min` and `max` inclusive.
    Uniform {
        /// Shortest delay.
        min: Duration,
        /// Longest delay.
        max: Duration,
    },
}
