//! E.164 phone numbers.

mod example;
mod plan;

use std::fmt;
use std::str::FromStr;

/// A phone number in E.164 form (`+` country code and national number): if you hold one, it is valid.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

/// Why a string is not an E.164 phone number; the message is shown to API callers as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneNumberError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number `{0}` must start with `+` and a country code (E.164)")]
    MissingPlus(String),
    #[error("phone number `{0}` contains characters other than digits")]
    NotDigits(String),
    #[error("phone number `{0}` has {1} digits; E.164 allows 8 to 15")]
    Length(String, usize),
    /// No numbering plan knows the country code, or the digits cannot be a number in it.
    #[error("phone number `{0}` does not belong to any country's numbering plan")]
    Invalid(String),
    #[error("phone number `{0}` starts with 0; country codes start with 1 to 9")]
    LeadingZero(String),
    /// The country is known but the number is not assigned or has the wrong length there.
    #[error("phone number `{number}` is not a valid number for its country ({country})")]
    InvalidForCountry { number: String, country: String },
    /// Usually a national trunk prefix kept after the country code (`+44 0 7700 ...`).
    #[error("phone number `{number}` is not in E.164 form; did you mean `{canonical}`?")]
    NotCanonical { number: String, canonical: String },
}

impl PhoneNumber {
    /// Parses E.164 text (`+14155550100`); spaces, dashes, dots and brackets are tolerated
    /// because people paste numbers as they see them printed.
    pub fn parse(input: &str) -> Result<Self, PhoneNumberError> {
        let canonical = structural(input)?;
        plan::validate(&canonical)?;
        Ok(Self(canonical))
    }

    /// Re-reads a number this process (or another instance) stored after `parse`: only the
    /// cheap E.164 shape is checked, since the full per-country check costs tens of microseconds
    /// and runs for every recipient of a broadcast when read back.
    pub fn from_stored(stored: &str) -> Result<Self, PhoneNumberError> {
        let canonical = structural(stored)?;
        if canonical != stored {
            return Err(PhoneNumberError::Invalid(stored.to_owned()));
        }
        Ok(Self(canonical))
    }

    /// Reads a number a carrier reported in a webhook: the carrier routed a real text from or
    /// to it, so only the E.164 shape is checked; the per-country check would reject numbers
    /// newer than our numbering-plan tables and costs a quarter of the work in an inbound spike.
    pub fn from_carrier(reported: &str) -> Result<Self, PhoneNumberError> {
        structural(reported).map(Self)
    }

    /// The canonical `+` form that Twilio, Telnyx and the store use.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without `+`, as the Vonage SMS API wants them.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

/// The cheap checks, first, so that garbage never reaches the numbering-plan regexes.
fn structural(input: &str) -> Result<String, PhoneNumberError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PhoneNumberError::Empty);
    }
    let Some(rest) = trimmed.strip_prefix('+') else {
        return Err(PhoneNumberError::MissingPlus(trimmed.to_owned()));
    };
    let mut canonical = String::with_capacity(16);
    canonical.push('+');
    for c in rest.chars() {
        match c {
            '0'..='9' => canonical.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(PhoneNumberError::NotDigits(trimmed.to_owned())),
        }
    }
    let digits = canonical.len() - 1;
    if !(8..=15).contains(&digits) {
        return Err(PhoneNumberError::Length(trimmed.to_owned(), digits));
    }
    if canonical.as_bytes()[1] == b'0' {
        return Err(PhoneNumberError::LeadingZero(trimmed.to_owned()));
    }
    Ok(canonical)
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.0)
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for PhoneNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PhoneNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(input: &str) -> PhoneNumberError {
        PhoneNumber::parse(input).expect_err(input)
    }

    #[test]
    fn carrier_numbers_are_checked_for_shape_only() {
        assert_eq!(
            PhoneNumber::from_carrier("+1 415 555 0100")
                .unwrap()
                .as_str(),
            "+14155550100"
        );
        // Not assigned in the plan tables, but a carrier delivered a text from it.
        assert!(PhoneNumber::parse("+999123456789").is_err());
        assert_eq!(
            PhoneNumber::from_carrier("+999123456789").unwrap().as_str(),
            "+999123456789"
        );
        assert_eq!(
            PhoneNumber::from_carrier("14155550100"),
            Err(PhoneNumberError::MissingPlus("14155550100".into()))
        );
        assert!(matches!(
            PhoneNumber::from_carrier("+1415abc0100"),
            Err(PhoneNumberError::NotDigits(_))
        ));
        assert!(matches!(
            PhoneNumber::from_carrier("+123"),
            Err(PhoneNumberError::Length(..))
        ));
    }

    #[test]
    fn stored_numbers_are_read_back_by_shape_only() {
        let n = PhoneNumber::parse("+1 415 555 0100").unwrap();
        assert_eq!(PhoneNumber::from_stored(n.as_str()).unwrap(), n);
        assert!(
            PhoneNumber::from_stored("+1 415 555 0100").is_err(),
            "stored values are canonical"
        );
        assert!(PhoneNumber::from_stored("14155550100").is_err());
    }

    #[test]
    fn accepts_realistic_test_numbers() {
        for n in [
            "+14155550100",
            "+12025550143",
            "+447700900123",
            "+33612345678",
            "+12015550123",
        ] {
            assert_eq!(PhoneNumber::parse(n).map(|p| p.0), Ok(n.to_owned()), "{n}");
        }
    }

    #[test]
    fn tolerates_print_formatting_and_canonicalises() {
        let p = PhoneNumber::parse(" +1 (415) 555-0100 ").expect("formatted");
        assert_eq!(p.as_str(), "+14155550100");
        assert_eq!(p.digits(), "14155550100");
        assert_eq!(
            PhoneNumber::parse("+33 6.12.34.56.78").map(|p| p.0),
            Ok("+33612345678".into())
        );
    }

    #[test]
    fn structural_errors_say_why() {
        assert_eq!(err("  "), PhoneNumberError::Empty);
        assert_eq!(
            err("14155550100"),
            PhoneNumberError::MissingPlus("14155550100".into())
        );
        assert_eq!(
            err("+1415555O100"),
            PhoneNumberError::NotDigits("+1415555O100".into())
        );
        assert_eq!(
            err("+1234567"),
            PhoneNumberError::Length("+1234567".into(), 7)
        );
        assert_eq!(
            err("+1234567890123456"),
            PhoneNumberError::Length("+1234567890123456".into(), 16)
        );
        assert_eq!(
            err("+0123456789"),
            PhoneNumberError::LeadingZero("+0123456789".into())
        );
    }

    #[test]
    fn serde_round_trips_and_rejects_invalid() {
        let p = PhoneNumber::parse("+14155550100").expect("valid");
        let json = serde_json::to_string(&p).expect("serialize");
        assert_eq!(json, "\"+14155550100\"");
        assert_eq!(serde_json::from_str::<PhoneNumber>(&json).ok(), Some(p));
        assert!(serde_json::from_str::<PhoneNumber>("\"+15555550100\"").is_err());
    }

    /// Not an assertion: prints µs/parse for the report (`cargo test -- --nocapture parse_timing`);
    /// best of 5 rounds, because the test machine is shared.
    #[test]
    fn parse_timing() {
        let inputs: Vec<String> = (0..500).map(|n| PhoneNumber::example(n * 7919).0).collect();
        let best = |f: &dyn Fn(&str) -> bool| {
            let rounds = (0..5).map(|_| {
                let start = std::time::Instant::now();
                assert!(inputs.iter().all(|n| f(n)));
                start.elapsed().as_secs_f64() * 1e6 / inputs.len() as f64
            });
            rounds.fold(f64::INFINITY, f64::min)
        };
        let structural = best(&|n| structural(n).is_ok());
        let full = best(&|n| PhoneNumber::parse(n).is_ok());
        println!("PhoneNumber::parse: {full:.1} µs (structural check alone {structural:.2} µs)");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = PhoneNumber::parse(&s);
        }

        #[test]
        fn digit_strings_never_panic_and_accepted_ones_are_canonical(s in "\\+[0-9 ().-]{0,20}") {
            if let Ok(p) = PhoneNumber::parse(&s) {
                prop_assert!(p.as_str().starts_with('+'));
                prop_assert!(p.digits().bytes().all(|b| b.is_ascii_digit()));
                prop_assert!((8..=15).contains(&p.digits().len()));
                prop_assert_eq!(PhoneNumber::parse(p.as_str()), Ok(p.clone()));
            }
        }

        #[test]
        fn formatting_noise_does_not_change_the_number(n in 0u32..50_000_000, seps in prop::collection::vec(prop::sample::select(vec!["", " ", "-", ".", "(", ")"]), 11)) {
            let p = PhoneNumber::example(n);
            let mut noisy = String::from("+");
            for (d, sep) in p.digits().chars().zip(seps) {
                noisy.push_str(sep);
                noisy.push(d);
            }
            prop_assert_eq!(PhoneNumber::parse(&noisy), Ok(p));
        }
    }
}
