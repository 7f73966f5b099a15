//! What a community sends from: an E.164 number, or a carrier short code.

use std::fmt;

use super::{PhoneNumber, PhoneNumberError, SenderKind};

/// A sender's address, valid for its kind: E.164 for long codes and toll-free numbers, 5 or 6
/// digits for a short code. A short code is national (US/CA), so it has no E.164 form and is
/// stored, sent and matched as its digits; carriers take it that way (`From=12345`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SenderAddress(Address);

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Address {
    Number(PhoneNumber),
    ShortCode(String),
}

/// Why a string is not an address for the kind asked for; shown to operators as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenderAddressError {
    #[error("short code `{0}` must be 5 or 6 digits")]
    ShortCode(String),
    #[error("`{0}` is a short code: give its kind as short_code")]
    NotAShortCodeKind(String),
    #[error(transparent)]
    Number(#[from] PhoneNumberError),
}

impl SenderAddress {
    /// Parses typed text for a sender of `kind`.
    pub fn parse(text: &str, kind: SenderKind) -> Result<Self, SenderAddressError> {
        let trimmed = text.trim();
        match (kind, short_code(trimmed)) {
            (SenderKind::ShortCode, Some(code)) => Ok(Self(Address::ShortCode(code))),
            (SenderKind::ShortCode, None) => Err(SenderAddressError::ShortCode(trimmed.to_owned())),
            (_, Some(_)) => Err(SenderAddressError::NotAShortCodeKind(trimmed.to_owned())),
            (_, None) => Ok(Self(Address::Number(PhoneNumber::parse(trimmed)?))),
        }
    }

    /// Parses typed text whose kind is not given: 5 or 6 digits are a short code, anything
    /// else must be E.164 (for commands that name an existing number).
    pub fn parse_any(text: &str) -> Result<Self, SenderAddressError> {
        let kind = match short_code(text.trim()) {
            Some(_) => SenderKind::ShortCode,
            None => SenderKind::LongCode,
        };
        Self::parse(text, kind)
    }

    /// Reads an address a carrier reported: a short code, or a number checked for shape only
    /// (see [`PhoneNumber::from_carrier`]).
    pub fn from_carrier(reported: &str) -> Result<Self, SenderAddressError> {
        let trimmed = reported.trim();
        match short_code(trimmed) {
            Some(code) => Ok(Self(Address::ShortCode(code))),
            None => Ok(Self(Address::Number(PhoneNumber::from_carrier(trimmed)?))),
        }
    }

    /// Re-reads a stored address: `+` and digits is a number, 5 or 6 digits a short code.
    pub fn from_stored(stored: &str) -> Result<Self, SenderAddressError> {
        match short_code(stored) {
            Some(code) if code == stored => Ok(Self(Address::ShortCode(code))),
            _ => Ok(Self(Address::Number(PhoneNumber::from_stored(stored)?))),
        }
    }

    /// The form the store, the throttle and the carriers use: `+14155550100` or `12345`.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Address::Number(number) => number.as_str(),
            Address::ShortCode(code) => code,
        }
    }

    /// The E.164 number, unless this is a short code.
    pub fn phone_number(&self) -> Option<&PhoneNumber> {
        match &self.0 {
            Address::Number(number) => Some(number),
            Address::ShortCode(_) => None,
        }
    }
}

/// The digits of a short code, if `text` is one.
fn short_code(text: &str) -> Option<String> {
    let ok = (5..=6).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.to_owned())
}

impl From<PhoneNumber> for SenderAddress {
    fn from(number: PhoneNumber) -> Self {
        Self(Address::Number(number))
    }
}

impl From<&PhoneNumber> for SenderAddress {
    fn from(number: &PhoneNumber) -> Self {
        Self(Address::Number(number.clone()))
    }
}

impl PartialEq<PhoneNumber> for SenderAddress {
    fn eq(&self, other: &PhoneNumber) -> bool {
        self.phone_number() == Some(other)
    }
}

impl fmt::Display for SenderAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SenderAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SenderAddress({})", self.as_str())
    }
}

impl serde::Serialize for SenderAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_code_is_its_digits_and_only_for_the_short_code_kind() {
        let code = SenderAddress::parse(" 12345 ", SenderKind::ShortCode).unwrap();
        assert_eq!(code.as_str(), "12345");
        assert_eq!(code.phone_number(), None);
        assert_eq!(
            SenderAddress::parse("123456", SenderKind::ShortCode).map(|a| a.to_string()),
            Ok("123456".into())
        );
        for bad in ["1234", "1234567", "12a45", "+14155550100"] {
            assert!(
                matches!(
                    SenderAddress::parse(bad, SenderKind::ShortCode),
                    Err(SenderAddressError::ShortCode(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            SenderAddress::parse("12345", SenderKind::LongCode),
            Err(SenderAddressError::NotAShortCodeKind("12345".into()))
        );
    }

    #[test]
    fn long_codes_and_toll_free_numbers_are_e164() {
        let number = SenderAddress::parse("+1 (415) 555-0100", SenderKind::LongCode).unwrap();
        assert_eq!(number.as_str(), "+14155550100");
        let phone = PhoneNumber::parse("+14155550100").unwrap();
        assert_eq!(number, phone);
        assert_eq!(number.phone_number(), Some(&phone));
        assert!(matches!(
            SenderAddress::parse("4155550100", SenderKind::TollFree),
            Err(SenderAddressError::Number(PhoneNumberError::MissingPlus(_)))
        ));
    }

    #[test]
    fn an_address_of_unknown_kind_is_a_short_code_or_e164() {
        assert_eq!(SenderAddress::parse_any("12345").unwrap().as_str(), "12345");
        assert_eq!(
            SenderAddress::parse_any("+1 415 555 0100")
                .unwrap()
                .as_str(),
            "+14155550100"
        );
        assert!(SenderAddress::parse_any("1234").is_err());
    }

    #[test]
    fn carrier_addresses_are_short_codes_or_numbers_of_e164_shape() {
        assert_eq!(
            SenderAddress::from_carrier("12345").unwrap().as_str(),
            "12345"
        );
        assert_eq!(
            SenderAddress::from_carrier("+999123456789")
                .unwrap()
                .as_str(),
            "+999123456789"
        );
        assert!(SenderAddress::from_carrier("1234").is_err());
        assert!(SenderAddress::from_carrier("+1415abc").is_err());
    }

    #[test]
    fn stored_addresses_read_back_exactly() {
        for text in ["12345", "+14155550100"] {
            assert_eq!(SenderAddress::from_stored(text).unwrap().as_str(), text);
        }
        assert!(SenderAddress::from_stored(" 12345").is_err());
        assert!(SenderAddress::from_stored("1234").is_err());
    }
}
