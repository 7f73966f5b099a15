//! Per-sender limits by kind of number (`[sender_defaults]` in a profile), and the rule that
//! decides a sender number's own rate.
//!
//! Carriers throttle each sender number by its kind (Twilio: a long code 1 segment/s, a
//! toll-free number 3, a short code 100; carriers-reference §6), below the account's limit.
//! A number without a rate of its own gets its kind's default; without a default either, only
//! the account's limit applies to it.

use super::rate_bounds::check_rate;
use super::{SenderKind, SenderProfile};

/// The rate, in the profile's units per second, a sender of each kind gets by default.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderDefaults {
    pub long_code: Option<f64>,
    pub toll_free: Option<f64>,
    pub short_code: Option<f64>,
}

impl SenderDefaults {
    /// The default for `kind`; `None` leaves such numbers to the account's limit.
    pub fn for_kind(&self, kind: SenderKind) -> Option<f64> {
        match kind {
            SenderKind::LongCode => self.long_code,
            SenderKind::TollFree => self.toll_free,
            SenderKind::ShortCode => self.short_code,
        }
    }

    /// Checks each default is in range; returns the offending key and why.
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        for kind in [
            SenderKind::LongCode,
            SenderKind::TollFree,
            SenderKind::ShortCode,
        ] {
            if let Some(rate) = self.for_kind(kind) {
                check_rate(rate)
                    .map_err(|problem| (format!("sender_defaults.{}", kind.as_str()), problem))?;
            }
        }
        Ok(())
    }
}

/// A sender number's own rate: the store's explicit rate, else the profile's `[[senders]]`
/// rate for the number, else its kind's default; `None` means only the account limit.
pub fn sender_rate(
    senders: &[SenderProfile],
    defaults: &SenderDefaults,
    number: &str,
    kind: SenderKind,
    stored: Option<f64>,
) -> Option<f64> {
    stored
        .or_else(|| {
            senders
                .iter()
                .find(|s| s.number == number)
                .and_then(|s| s.rate_per_second)
        })
        .or_else(|| defaults.for_kind(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_rate_beats_the_profile_entry_beats_the_kind() {
        let defaults = SenderDefaults {
            long_code: Some(1.0),
            toll_free: Some(3.0),
            short_code: None,
        };
        let senders = vec![
            SenderProfile {
                number: "+14155550100".into(),
                kind: SenderKind::LongCode,
                rate_per_second: Some(5.0),
            },
            SenderProfile {
                number: "+18005550100".into(),
                kind: SenderKind::TollFree,
                rate_per_second: None,
            },
        ];
        let rate = |number, kind, stored| sender_rate(&senders, &defaults, number, kind, stored);
        assert_eq!(
            rate("+14155550100", SenderKind::LongCode, Some(2.0)),
            Some(2.0)
        );
        assert_eq!(rate("+14155550100", SenderKind::LongCode, None), Some(5.0));
        assert_eq!(rate("+18005550100", SenderKind::TollFree, None), Some(3.0));
        assert_eq!(rate("+14155550199", SenderKind::LongCode, None), Some(1.0));
        assert_eq!(rate("12345", SenderKind::ShortCode, None), None);
    }

    #[test]
    fn a_default_out_of_range_names_its_key() {
        let defaults = SenderDefaults {
            toll_free: Some(0.0),
            ..SenderDefaults::default()
        };
        let (key, _) = defaults.validate().unwrap_err();
        assert_eq!(key, "sender_defaults.toll_free");
    }
}
