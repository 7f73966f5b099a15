//! Reading carrier fields: forms, required values, phone numbers, signed timestamps.

use chrono::{DateTime, Utc};

use crate::carriers::webhook::WebhookError;
use crate::domain::{PhoneNumber, SenderAddress};

/// How far a signed timestamp may be from our clock (Telnyx and Vonage), either way.
pub(crate) const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// True when `ts` (unix seconds) is within [`MAX_CLOCK_SKEW_SECS`] of `now`.
pub(crate) fn is_fresh(ts: i64, now: DateTime<Utc>) -> bool {
    now.timestamp().abs_diff(ts) <= MAX_CLOCK_SKEW_SECS
}

/// Form-urlencoded pairs in order, repeats kept; lossy UTF-8 because carriers send UTF-8 anyway.
pub(crate) fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

/// The first value of `name`, as carriers never repeat the fields we read.
pub(crate) fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An E.164 number, or a malformed error naming the field; shape only, the carrier routed it.
pub(crate) fn phone(value: &str, field: &str) -> Result<PhoneNumber, WebhookError> {
    PhoneNumber::from_carrier(value).map_err(|e| WebhookError::Malformed(format!("`{field}`: {e}")))
}

/// One of our addresses: an E.164 number or a 5–6 digit short code (members text both).
pub(crate) fn address(value: &str, field: &str) -> Result<SenderAddress, WebhookError> {
    SenderAddress::from_carrier(value)
        .map_err(|e| WebhookError::Malformed(format!("`{field}`: {e}")))
}

/// The channel of a `channel:address` sender or recipient (`whatsapp:+1…`, `messenger:…`):
/// carriers name non-SMS channels this way, and an E.164 number never contains a `:`.
pub(crate) fn channel(value: &str) -> Option<&str> {
    let (name, address) = value.split_once(':')?;
    let is_name = (1..=20).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphabetic());
    (is_name && !address.is_empty()).then_some(name)
}

/// A required field, or a malformed error naming it.
pub(crate) fn required<'a>(value: Option<&'a str>, field: &str) -> Result<&'a str, WebhookError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(WebhookError::Malformed(format!("`{field}` is missing"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_window_is_300_seconds_both_ways() {
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        assert!(is_fresh(1_700_000_300, now));
        assert!(is_fresh(1_699_999_700, now));
        assert!(!is_fresh(1_700_000_301, now));
        assert!(!is_fresh(i64::MIN, now));
    }

    #[test]
    fn channels_are_named_before_a_colon() {
        assert_eq!(channel("whatsapp:+14155550100"), Some("whatsapp"));
        assert_eq!(channel("messenger:1234567890"), Some("messenger"));
        assert_eq!(channel("+14155550100"), None);
        assert_eq!(channel("hello"), None);
        assert_eq!(channel(":+1415"), None);
        assert_eq!(channel("whatsapp:"), None);
        assert_eq!(channel("what sapp:+1"), None);
    }
}
