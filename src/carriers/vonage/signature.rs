//! Vonage signed webhooks: a `sig` field over the other fields, with a dashboard-chosen digest.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::carriers::mac::{hmac, same};
use crate::carriers::vonage::webhook::params;
use crate::carriers::webhook::{SignatureFailure, WebhookRequest};
use crate::config::Secret;

/// The field that carries the signature; it is the one field not signed.
pub const SIG_PARAM: &str = "sig";
/// Unix seconds (not milliseconds), set by Vonage when it signs.
pub const TIMESTAMP_PARAM: &str = "timestamp";

/// The signature method chosen in the Vonage dashboard; it must match, Vonage does not say which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignatureMethod {
    /// Legacy `md5hash`: plain MD5 of the string with the secret appended (not an HMAC).
    #[default]
    Md5Hash,
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl SignatureMethod {
    /// Every method Vonage offers, in the dashboard's order; configuration accepts only these.
    pub const ALL: [SignatureMethod; 5] = [
        Self::Md5Hash,
        Self::Md5,
        Self::Sha1,
        Self::Sha256,
        Self::Sha512,
    ];

    /// The dashboard's and SDKs' name, used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5Hash => "md5hash",
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Reads a configured name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// Signs like Vonage (lower-case hex); any `sig` field is skipped and a repeated name keeps its
/// first value, exactly as [`verify`] reads them. No `timestamp` is added: pass one.
pub fn sign<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    secret: &str,
    method: SignatureMethod,
) -> String {
    let message = signing_string(&signed_fields(params));
    let digest = match method {
        SignatureMethod::Md5Hash => {
            let mut hasher = Md5::new();
            hasher.update(message.as_bytes());
            hasher.update(secret.as_bytes());
            hasher.finalize().to_vec()
        }
        SignatureMethod::Md5 => hmac::<Md5>(secret.as_bytes(), message.as_bytes()),
        SignatureMethod::Sha1 => hmac::<Sha1>(secret.as_bytes(), message.as_bytes()),
        SignatureMethod::Sha256 => hmac::<Sha256>(secret.as_bytes(), message.as_bytes()),
        SignatureMethod::Sha512 => hmac::<Sha512>(secret.as_bytes(), message.as_bytes()),
    };
    hex::encode(digest)
}

/// How old a signed Vonage webhook may be: Vonage resends a failed webhook for 24 hours and,
/// as far as the reference says, keeps its original signed `timestamp`; a 300 s window would
/// turn every late retry into a lost message. Replays are harmless anyway: inbound texts are
/// de-duplicated by message id and status updates only move forward.
pub const REPLAY_WINDOW_SECS: u64 = 25 * 3600;

/// Checks `sig`, then that `timestamp` is within [`REPLAY_WINDOW_SECS`]: older is `Stale`.
pub fn verify(
    request: &WebhookRequest<'_>,
    secret: &Secret,
    method: SignatureMethod,
    now: DateTime<Utc>,
) -> Result<(), SignatureFailure> {
    // A body we cannot read as fields cannot carry a `sig` either.
    let pairs = params(request).ok_or(SignatureFailure::Missing)?;
    let given = pairs
        .iter()
        .find(|(k, _)| k == SIG_PARAM)
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .ok_or(SignatureFailure::Missing)?;
    let expected = sign(&pairs, secret.expose(), method);
    if !same(given.as_bytes(), expected.as_bytes()) {
        return Err(SignatureFailure::Invalid);
    }
    // Signed but without a usable timestamp: we cannot tell a replay from a fresh call.
    let timestamp = signed_fields(&pairs)
        .get(TIMESTAMP_PARAM)
        .and_then(|ts| ts.trim().parse::<i64>().ok());
    match timestamp {
        Some(ts) if now.timestamp().abs_diff(ts) <= REPLAY_WINDOW_SECS => Ok(()),
        _ => Err(SignatureFailure::Stale),
    }
}

/// Every field but `sig`, sorted by name; the first of a repeated name wins.
fn signed_fields<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> BTreeMap<&str, &str> {
    let mut fields = BTreeMap::new();
    for (name, value) in params {
        if name.as_ref() != SIG_PARAM {
            fields.entry(name.as_ref()).or_insert(value.as_ref());
        }
    }
    fields
}

/// `&k1=v1&k2=v2…`; `&` and `=` inside values become `_` so the string stays unambiguous.
fn signing_string(fields: &BTreeMap<&str, &str>) -> String {
    let mut out = String::new();
    for (name, value) in fields {
        out.push('&');
        out.push_str(name);
        out.push('=');
        out.extend(
            value
                .chars()
                .map(|c| if matches!(c, '&' | '=') { '_' } else { c }),
        );
    }
    out
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
