//! The word a community's members text to join it.

use std::fmt;

use super::keyword;

/// A community's join word: one short ASCII word, so carriers and phones never mangle it, and
/// never an opt-out or help word, so joining and leaving cannot be confused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JoinKeyword(String);

/// Why a leader's chosen word cannot be a join keyword; the message is shown to them as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinKeywordError {
    #[error("join keyword is empty")]
    Empty,
    #[error("join keyword `{0}` has {n} characters; the maximum is {max}", n = .0.chars().count(), max = JoinKeyword::MAX_CHARS)]
    TooLong(String),
    #[error("join keyword `{0}` may contain only ASCII letters and digits, as one word")]
    NotAlphanumeric(String),
    #[error("join keyword `{0}` is reserved: members send it to unsubscribe or to ask for help")]
    Reserved(String),
}

impl JoinKeyword {
    /// Long enough for a brand name, short enough to type on a billboard's prompt.
    pub const MAX_CHARS: usize = 20;

    /// Accepts 1 to 20 ASCII letters or digits (surrounding whitespace ignored), upper-cased.
    pub fn parse(input: &str) -> Result<Self, JoinKeywordError> {
        let word = input.trim();
        if word.is_empty() {
            return Err(JoinKeywordError::Empty);
        }
        if !word.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(JoinKeywordError::NotAlphanumeric(word.to_owned()));
        }
        if word.len() > Self::MAX_CHARS {
            return Err(JoinKeywordError::TooLong(word.to_owned()));
        }
        let word = word.to_ascii_uppercase();
        if keyword::is_reserved(&word) {
            return Err(JoinKeywordError::Reserved(word));
        }
        Ok(Self(word))
    }

    /// The upper-case form, as stored and as passed to [`super::Keyword::classify`].
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JoinKeyword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for JoinKeyword {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for JoinKeyword {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Keyword;
    use proptest::prelude::*;

    #[test]
    fn accepts_short_words_and_upper_cases_them() {
        assert_eq!(JoinKeyword::parse(" join ").map(|k| k.0), Ok("JOIN".into()));
        assert_eq!(
            JoinKeyword::parse("Rally2024").map(|k| k.0),
            Ok("RALLY2024".into())
        );
        assert!(JoinKeyword::parse(&"A".repeat(20)).is_ok());
        assert!(
            JoinKeyword::parse("start").is_ok(),
            "an opt-in word still means opt in"
        );
    }

    #[test]
    fn rejects_with_a_reason() {
        use JoinKeywordError::*;
        assert_eq!(JoinKeyword::parse(" \t"), Err(Empty));
        assert_eq!(
            JoinKeyword::parse(&"A".repeat(21)),
            Err(TooLong("A".repeat(21)))
        );
        assert_eq!(
            JoinKeyword::parse("JOIN US"),
            Err(NotAlphanumeric("JOIN US".into()))
        );
        assert_eq!(
            JoinKeyword::parse("café"),
            Err(NotAlphanumeric("café".into()))
        );
        assert_eq!(
            JoinKeyword::parse("join!"),
            Err(NotAlphanumeric("join!".into()))
        );
        for word in [
            "stop",
            "StopAll",
            "UNSUBSCRIBE",
            "cancel",
            "end",
            "quit",
            "revoke",
            "optout",
            "help",
            "info",
        ] {
            assert_eq!(
                JoinKeyword::parse(word),
                Err(Reserved(word.to_ascii_uppercase())),
                "{word}"
            );
        }
        assert_eq!(
            JoinKeyword::parse(&"B".repeat(21)).map_err(|e| e.to_string()),
            Err(format!(
                "join keyword `{}` has 21 characters; the maximum is 20",
                "B".repeat(21)
            ))
        );
    }

    #[test]
    fn serde_is_a_plain_string_and_validates() {
        let k = JoinKeyword::parse("join").expect("valid");
        assert_eq!(serde_json::to_string(&k).ok(), Some("\"JOIN\"".into()));
        assert_eq!(
            serde_json::from_str::<JoinKeyword>("\"join\"").ok(),
            Some(k)
        );
        assert!(serde_json::from_str::<JoinKeyword>("\"stop\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = JoinKeyword::parse(&s);
        }

        #[test]
        fn a_valid_keyword_classifies_as_opt_in(word in "[A-Za-z0-9]{1,20}") {
            if let Ok(k) = JoinKeyword::parse(&word) {
                prop_assert_eq!(k.as_str(), word.to_ascii_uppercase());
                prop_assert_eq!(Keyword::classify(&word.to_ascii_lowercase(), k.as_str()), Some(Keyword::OptIn));
            } else {
                prop_assert!(keyword::is_reserved(&word));
            }
        }
    }
}
