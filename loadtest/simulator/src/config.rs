//! What the simulator is told to be: its accounts, their limits, and the faults it injects.
//! Everything a load-test scenario varies lives here, with defaults that behave like a
//! well-mannered carrier.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SimError;
pub use crate::faults::{Latency, Storm, Timeouts};
pub use crate::signing::VonageSignatureMethod;

/// Everything the simulator needs to start; `Default` gives one unlimited Twilio account
/// (`AC` + 32 zeros / `test-token`) on a free loopback port.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free one (read it back from [`crate::SimHandle::addr`]).
    pub listen: SocketAddr,
    /// Accounts that may send; requests matching none of them fail authentication.
    pub accounts: Vec<Account>,
    /// Delay added before every send response.
    pub latency: Latency,
    /// Fraction of admitted sends answered as a server error (retryable), drawn from the
    /// seeded RNG: HTTP 500 for Twilio and Telnyx, status 5 inside HTTP 200 for Vonage.
    pub failure_ratio: f64,
    /// Requests that hang before answering.
    pub timeouts: Timeouts,
    /// A window of forced over-limit answers, if any.
    pub storm: Option<Storm>,
    /// Fraction of accepted messages whose final callback is a failure (Twilio
    /// `undelivered` 30005, Telnyx `delivery_failed` 40008, Vonage `failed` err-code 3: all final).
    pub undelivered_ratio: f64,
    /// Whether status callbacks are sent at all.
    pub callbacks: bool,
    /// Delay before `sent`, and again between `sent` and the final status.
    pub callback_delay: Duration,
    /// Used when a send names no callback URL.
    pub default_callback_url: Option<String>,
    /// Bound of the callback queue; when full, callbacks are dropped and counted.
    pub callback_queue: usize,
    /// Number of tasks posting callbacks.
    pub callback_workers: usize,
    /// Seed for every random choice, so a run can be replayed.
    pub seed: u64,
    /// Numbers refused as opted out (Twilio 21610, Telnyx 40300, Vonage status 7).
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
            timeouts: Timeouts::default(),
            storm: None,
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
        let telnyx: Vec<&str> = self
            .accounts
            .iter()
            .filter(|a| a.carrier == Carrier::Telnyx)
            .map(|a| a.auth_token.as_str())
            .collect();
        if telnyx.iter().collect::<HashSet<_>>().len() != telnyx.len() {
            return invalid("Telnyx API keys (auth_token) must be unique: they name the account");
        }
        let ratios = [
            self.failure_ratio,
            self.undelivered_ratio,
            self.timeouts.ratio,
            self.storm.map_or(0.0, |s| s.ratio),
        ];
        if !ratios.iter().all(|r| (0.0..=1.0).contains(r)) {
            return invalid("failure, undelivered, timeout and storm ratios must be within 0..=1");
        }
        if !self.latency.is_valid() {
            return invalid("latency: uniform needs min <= max, log-normal 0 < p50 <= p99");
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

/// Which carrier's API an account speaks. The path picks the wire format; a request on
/// another carrier's path never matches the account, so it fails authentication there.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Carrier {
    /// `POST /2010-04-01/Accounts/{sid}/Messages.json`, Basic auth (carriers-reference §1).
    #[default]
    Twilio,
    /// `POST /v2/messages`, Bearer API key, JSON (§2).
    Telnyx,
    /// `POST /sms/json`, `api_key`/`api_secret` in the form or JSON (§3).
    Vonage,
}

impl Carrier {
    /// The lower-case name used in config and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Twilio => "twilio",
            Self::Telnyx => "telnyx",
            Self::Vonage => "vonage",
        }
    }
}

/// RFC 8032 §7.1 TEST 1 secret: the default Telnyx signing seed, whose public key is the
/// one carriers-reference §10 prints (`11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=`).
pub const DEFAULT_TELNYX_SEED: [u8; 32] = [
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
];

/// One carrier account: credentials, the keys that sign its callbacks, and the limits
/// the carrier enforces on it.
///
/// Credentials by carrier: Twilio `sid` = AccountSid, `auth_token` = Auth Token (also the
/// callback key); Telnyx `sid` = a name for the report, `auth_token` = the Bearer API key;
/// Vonage `sid` = `api_key`, `auth_token` = `api_secret`.
///
/// As JSON (`--accounts-file`), every field is optional (defaults as [`Account::default`])
/// and `signing_seed` is 64 hex digits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Account {
    /// Twilio `AC…` / Telnyx report name / Vonage `api_key`.
    pub sid: String,
    /// Twilio auth token / Telnyx API key / Vonage `api_secret`.
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
    /// The API this account speaks.
    pub carrier: Carrier,
    /// Telnyx: the Ed25519 seed that signs webhooks; give the receiver
    /// [`Account::telnyx_public_key`].
    #[serde(with = "seed_hex")]
    pub signing_seed: [u8; 32],
    /// Vonage: the signature secret for DLRs; empty sends them unsigned.
    pub signature_secret: String,
    /// Vonage: the digest chosen "in the dashboard".
    pub signature_method: VonageSignatureMethod,
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
            carrier: Carrier::Twilio,
            signing_seed: DEFAULT_TELNYX_SEED,
            signature_secret: "test-signature-secret".to_owned(),
            signature_method: VonageSignatureMethod::default(),
        }
    }
}

impl Account {
    /// A Telnyx account named `name` that authenticates with `api_key`.
    pub fn telnyx(name: &str, api_key: &str) -> Self {
        Self {
            sid: name.to_owned(),
            auth_token: api_key.to_owned(),
            carrier: Carrier::Telnyx,
            ..Self::default()
        }
    }

    /// A Vonage account with these credentials.
    pub fn vonage(api_key: &str, api_secret: &str) -> Self {
        Self {
            sid: api_key.to_owned(),
            auth_token: api_secret.to_owned(),
            carrier: Carrier::Vonage,
            ..Self::default()
        }
    }

    /// The base64 Ed25519 public key that verifies this account's Telnyx webhooks (what
    /// the Telnyx portal shows and Floodgate's `TELNYX_PUBLIC_KEY` holds).
    pub fn telnyx_public_key(&self) -> String {
        crate::signing::telnyx_public_key(&self.signing_seed)
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

/// The Telnyx seed as 64 hex digits in JSON, the form people paste keys in.
mod seed_hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(seed: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(seed))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(text.trim()).map_err(D::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| D::Error::custom("signing_seed must be 32 bytes (64 hex digits)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_file_entry_needs_only_what_differs() {
        let json = r#"{"carrier":"telnyx","sid":"t1","auth_token":"KEY","rate":50,
            "signing_seed":"0101010101010101010101010101010101010101010101010101010101010101"}"#;
        let account: Account = serde_json::from_str(json).expect("parses");
        assert_eq!(account.carrier, Carrier::Telnyx);
        assert_eq!((account.rate, account.unit), (50.0, Unit::Requests));
        assert_eq!(account.signing_seed, [1; 32]);
        let round_trip: Account =
            serde_json::from_value(serde_json::to_value(&account).expect("serialises"))
                .expect("parses back");
        assert_eq!(round_trip.signing_seed, [1; 32]);
    }
}
