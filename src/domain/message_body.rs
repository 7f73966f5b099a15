//! SMS text with its encoding and segment count, as carriers bill it.

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

    /// Validates the text and computes encoding and segments.
    pub fn parse(text: &str) -> Result<Self, MessageBodyError> {
        if text.trim().is_empty() {
            return Err(MessageBodyError::Empty);
        }
        let chars = text.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(MessageBodyError::TooLong(chars));
        }
        let encoding = if text.is_ascii() {
            Encoding::Gsm7
        } else {
            Encoding::Ucs2
        };
        let (single, part) = match encoding {
            Encoding::Gsm7 => (160, 153),
            Encoding::Ucs2 => (70, 67),
        };
        let segments = if chars <= single {
            1
        } else {
            chars.div_ceil(part)
        } as u32;
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
}
