//! SMS text with its encoding and segment count, as carriers bill it.

use super::segments;

/// How the carrier will encode the text: GSM-7 septets or UCS-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// Why a text cannot be sent as an SMS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageBodyError {
    #[error("message body is empty")]
    Empty,
    #[error("message body has {0} characters; the maximum is {max}", max = MessageBody::MAX_CHARS)]
    TooLong(usize),
    /// No carrier can carry it and PostgreSQL cannot store it; usually a client's encoding bug.
    #[error("message body contains a NUL character (U+0000) at character {0}; remove it")]
    Nul(usize),
}

/// A non-empty SMS text no longer than carriers accept, with its encoding and segment count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody {
    text: String,
    encoding: Encoding,
    segments: u32,
}

impl MessageBody {
    /// Twilio's limit on `Body`; the strictest of the three carriers.
    pub const MAX_CHARS: usize = 1600;

    /// Validates the text and computes encoding and segments; whitespace-only counts as empty
    /// because a carrier would bill for a message nobody can read.
    pub fn parse(text: &str) -> Result<Self, MessageBodyError> {
        if text.trim().is_empty() {
            return Err(MessageBodyError::Empty);
        }
        let chars = text.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(MessageBodyError::TooLong(chars));
        }
        if let Some(at) = text.chars().position(|c| c == '\0') {
            return Err(MessageBodyError::Nul(at + 1));
        }
        let (encoding, segments) = segments::measure(text);
        Ok(Self {
            text: text.to_owned(),
            encoding,
            segments,
        })
    }

    /// The text as the member will read it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// GSM-7 or UCS-2.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Parts the carrier will send (and bill, and count against segment-based limits).
    pub fn segments(&self) -> u32 {
        self.segments
    }

    /// Unicode scalar values, the unit of [`MessageBody::MAX_CHARS`] (not bytes, not septets).
    pub fn characters(&self) -> usize {
        self.text.chars().count()
    }
}

impl serde::Serialize for MessageBody {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for MessageBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::gsm7;
    use proptest::prelude::*;

    #[test]
    fn rejects_empty_and_whitespace_only() {
        for text in ["", " ", "\n\t \r\n", "\u{00A0}\u{3000}"] {
            assert_eq!(
                MessageBody::parse(text),
                Err(MessageBodyError::Empty),
                "{text:?}"
            );
        }
    }

    #[test]
    fn max_length_counts_characters_not_bytes() {
        let body = MessageBody::parse(&"é".repeat(1600)).expect("1600 chars");
        assert_eq!(
            (body.characters(), body.encoding(), body.segments()),
            (1600, Encoding::Gsm7, 11)
        );
        assert_eq!(
            MessageBody::parse(&"a".repeat(1601)),
            Err(MessageBodyError::TooLong(1601))
        );
        let emoji = MessageBody::parse(&"😀".repeat(1600)).expect("1600 emoji");
        assert_eq!((emoji.encoding(), emoji.segments()), (Encoding::Ucs2, 49)); // 33 emoji a part
        assert_eq!(
            MessageBodyError::TooLong(1601).to_string(),
            "message body has 1601 characters; the maximum is 1600"
        );
    }

    #[test]
    fn keeps_the_text_as_given() {
        let body = MessageBody::parse("  Hi {name}\n").expect("valid");
        assert_eq!(body.text(), "  Hi {name}\n");
        assert_eq!((body.encoding(), body.segments()), (Encoding::Gsm7, 1));
    }

    #[test]
    fn serde_is_the_plain_text_and_validates() {
        let body = MessageBody::parse("Rally at 6pm 📣").expect("valid");
        let json = serde_json::to_string(&body).expect("serialize");
        assert_eq!(json, "\"Rally at 6pm 📣\"");
        assert_eq!(serde_json::from_str::<MessageBody>(&json).ok(), Some(body));
        assert!(serde_json::from_str::<MessageBody>("\"  \"").is_err());
    }

    #[test]
    fn a_nul_is_refused_with_its_position() {
        assert_eq!(MessageBody::parse("ab\0c"), Err(MessageBodyError::Nul(3)));
        assert_eq!(MessageBody::parse("\0"), Err(MessageBodyError::Nul(1)));
    }

    fn gsm_char() -> impl Strategy<Value = char> {
        let mut chars: Vec<char> = gsm7::BASIC
            .iter()
            .copied()
            .filter(|c| *c != '\u{1B}')
            .collect();
        chars.extend(gsm7::EXTENSION.iter().map(|(c, _)| *c));
        prop::sample::select(chars)
    }

    fn non_gsm_char() -> impl Strategy<Value = char> {
        any::<char>().prop_filter("not GSM-7, not NUL", |c| {
            *c != '\0' && gsm7::septets(*c).is_none()
        })
    }

    fn gsm_text() -> impl Strategy<Value = String> {
        prop::collection::vec(prop_oneof![3 => Just('x'), 1 => gsm_char()], 1..400)
            .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in any::<String>()) {
            let _ = MessageBody::parse(&text);
        }

        #[test]
        fn any_non_gsm_char_makes_it_ucs2(text in gsm_text(), c in non_gsm_char(), at in any::<prop::sample::Index>()) {
            let mut chars: Vec<char> = text.chars().collect();
            chars.insert(at.index(chars.len() + 1), c);
            let text: String = chars.into_iter().chain(['x']).collect();
            prop_assert_eq!(MessageBody::parse(&text).map(|b| b.encoding()), Ok(Encoding::Ucs2));
        }

        #[test]
        fn gsm_only_text_is_gsm7(text in gsm_text()) {
            let text = format!("x{text}");
            prop_assert_eq!(MessageBody::parse(&text).map(|b| b.encoding()), Ok(Encoding::Gsm7));
        }

        #[test]
        fn appending_a_gsm_char_never_lowers_segments(text in gsm_text(), c in gsm_char()) {
            let text = format!("x{text}");
            let before = MessageBody::parse(&text).ok().map(|b| b.segments());
            let after = MessageBody::parse(&format!("{text}{c}")).ok().map(|b| b.segments());
            prop_assert!(before.is_some() && after >= before, "{:?} -> {:?}", before, after);
        }

        #[test]
        fn appending_to_ucs2_never_lowers_segments(text in gsm_text(), u in non_gsm_char(), c in any::<char>().prop_filter("not NUL", |c| *c != '\0')) {
            let text = format!("{u}x{text}");
            let before = MessageBody::parse(&text).ok().map(|b| b.segments());
            let after = MessageBody::parse(&format!("{text}{c}")).ok().map(|b| b.segments());
            prop_assert!(before.is_some() && after >= before, "{:?} -> {:?}", before, after);
        }
    }
}
