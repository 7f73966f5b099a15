//! Carrier profiles: one TOML file per carrier account in `carriers/`.
//!
//! A profile says which adapter speaks to the carrier, where its API is, which
//! environment variables hold its credentials, and the limits Floodgate must
//! never exceed: the account's, and each sender number's (its own rate, else its
//! kind's `[sender_defaults]`). Any value can be overridden from the environment with
//! `FLOODGATE_CARRIER_<NAME>__<KEY>[__<SUBKEY>]` (e.g.
//! `FLOODGATE_CARRIER_TWILIO__LIMITS__RATE_PER_SECOND=50` or
//! `FLOODGATE_CARRIER_TWILIO__API_BASE=http://127.0.0.1:9000`), so one profile
//! can point at the real carrier or at the simulator on loopback; a variable that
//! matches no key is refused (see `profiles`).

use std::collections::BTreeMap;

use super::Secret;
use super::rate_bounds::{check_burst, check_rate};
use super::sender_defaults::{SenderDefaults, sender_rate};
use crate::domain::SenderAddress;
pub use crate::domain::SenderKind;

/// Adapters that exist; a profile naming another one is a configuration error.
pub const ADAPTERS: &[&str] = &["twilio", "telnyx", "vonage"];

/// One carrier account as Floodgate uses it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierProfile {
    /// The file's stem (`twilio` for `twilio.toml`); used in routes, metrics and the store.
    #[serde(skip)]
    pub name: String,
    /// Which wire protocol this account speaks: `twilio`, `telnyx` or `vonage`.
    pub adapter: String,
    /// The API root, e.g. `https://api.twilio.com`; a loopback URL for the simulator.
    pub api_base: url::Url,
    /// Credential name (e.g. `auth_token`) to the environment variable that holds it.
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    /// The account's limits.
    pub limits: Limits,
    /// Per-sender rates by kind, for numbers without a rate of their own.
    #[serde(default)]
    pub sender_defaults: SenderDefaults,
    /// Sender numbers on this account, each with its kind and optionally its own rate.
    #[serde(default)]
    pub senders: Vec<SenderProfile>,
    /// Credentials read from the environment at load time; absent ones are missing.
    #[serde(skip)]
    pub secrets: BTreeMap<String, Secret>,
}

/// What the carrier allows for the whole account.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Sustained rate, in `unit`s per second.
    pub rate_per_second: f64,
    /// Extra units allowed in a burst above the sustained rate.
    pub burst: u32,
    /// Concurrent HTTP requests to the carrier (Twilio answers 20429 past its limit).
    pub max_in_flight: u32,
    /// Whether the carrier counts messages or segments against the rate.
    #[serde(default)]
    pub unit: LimitUnit,
    /// A daily cap, e.g. a T-Mobile brand cap.
    pub daily_cap: Option<DailyCap>,
}

/// What one token of a rate limit stands for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitUnit {
    /// One request, whatever its length (Vonage, Telnyx).
    #[default]
    Requests,
    /// One SMS segment: a 3-segment message uses 3 tokens (Twilio).
    Segments,
}

/// A cap per calendar day in a given time zone.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyCap {
    /// Units allowed per day.
    pub limit: u64,
    /// IANA time zone whose midnight resets the cap (T-Mobile: `America/Los_Angeles`).
    pub time_zone: String,
}

/// A number (or short code) we send from.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderProfile {
    /// E.164 for long codes and toll-free numbers; 5-6 digits for short codes.
    pub number: String,
    /// Picks the `[sender_defaults]` rate that applies when `rate_per_second` is absent.
    pub kind: SenderKind,
    /// Per-sender rate in units per second; absent means its kind's default, if any.
    pub rate_per_second: Option<f64>,
}

impl CarrierProfile {
    /// The own rate of sender `number` of `kind`, given its stored rate: see [`sender_rate`].
    pub fn sender_rate(&self, number: &str, kind: SenderKind, stored: Option<f64>) -> Option<f64> {
        sender_rate(&self.senders, &self.sender_defaults, number, kind, stored)
    }

    /// A credential read from the environment, if it was set.
    pub fn secret(&self, name: &str) -> Option<&Secret> {
        self.secrets.get(name)
    }

    /// Checks what serde cannot: rates and bursts in range, known adapter, well-formed senders
    /// (whose numbers it rewrites in canonical form, the one the store and the throttle use);
    /// returns the offending key and why, for the caller to blame on the file or the override.
    pub(super) fn validate(&mut self) -> Result<(), (String, String)> {
        let bad = |key: &str, problem: String| Err((key.to_owned(), problem));
        if !ADAPTERS.contains(&self.adapter.as_str()) {
            return bad(
                "adapter",
                format!(
                    "`{}` is not an adapter; use one of {}",
                    self.adapter,
                    ADAPTERS.join(", ")
                ),
            );
        }
        if let Err(problem) = check_rate(self.limits.rate_per_second) {
            return bad("limits.rate_per_second", problem);
        }
        if let Err(problem) = check_burst(self.limits.burst) {
            return bad("limits.burst", problem);
        }
        if self.limits.max_in_flight == 0 {
            return bad("limits.max_in_flight", "must be at least 1".into());
        }
        if let Some(cap) = &self.limits.daily_cap {
            if cap.limit == 0 {
                return bad("limits.daily_cap.limit", "must be at least 1".into());
            }
            if cap.time_zone.parse::<chrono_tz::Tz>().is_err() {
                return bad(
                    "limits.daily_cap.time_zone",
                    format!(
                        "`{}` is not an IANA time zone (e.g. America/Los_Angeles)",
                        cap.time_zone
                    ),
                );
            }
        }
        self.sender_defaults.validate()?;
        for (i, sender) in self.senders.iter_mut().enumerate() {
            match SenderAddress::parse(&sender.number, sender.kind) {
                Ok(address) => sender.number = address.as_str().to_owned(),
                Err(e) => return bad(&format!("senders[{i}].number"), e.to_string()),
            }
            if let Some(rate) = sender.rate_per_second {
                if let Err(problem) = check_rate(rate) {
                    return bad(&format!("senders[{i}].rate_per_second"), problem);
                }
            }
        }
        Ok(())
    }
}
