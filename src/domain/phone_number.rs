//! E.164 phone numbers.

use std::fmt;
use std::str::FromStr;

/// A phone number in E.164 form (`+` country code and national number): if you hold one, it is valid.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

/// Why a string is not an E.164 phone number.
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
    #[error("phone number `{0}` is not a valid number for its country")]
    Invalid(String),
}

impl PhoneNumber {
    /// Parses E.164 text (`+14155550100`); spaces, dashes, dots and brackets are tolerated.
    pub fn parse(input: &str) -> Result<Self, PhoneNumberError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneNumberError::Empty);
        }
        let Some(rest) = trimmed.strip_prefix('+') else {
            return Err(PhoneNumberError::MissingPlus(trimmed.to_owned()));
        };
        let digits: String = rest
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(PhoneNumberError::NotDigits(trimmed.to_owned()));
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(PhoneNumberError::Length(trimmed.to_owned(), digits.len()));
        }
        Ok(Self(format!("+{digits}")))
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
