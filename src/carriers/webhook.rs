//! What every carrier's webhook turns into, whatever its wire format.

use axum::http::{HeaderMap, Method};

use crate::domain::{MessageStatus, PhoneNumber, SenderAddress};

/// The carriers we take webhooks from; the lower-case name is the `{carrier}` URL segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CarrierKind {
    Twilio,
    Telnyx,
    Vonage,
}

impl CarrierKind {
    /// Every carrier, for routing tables and metrics.
    pub const ALL: [CarrierKind; 3] = [Self::Twilio, Self::Telnyx, Self::Vonage];

    /// The URL segment and metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Twilio => "twilio",
            Self::Telnyx => "telnyx",
            Self::Vonage => "vonage",
        }
    }

    /// Reads the `{carrier}` URL segment; `None` means the route does not exist (404).
    pub fn parse(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == segment)
    }
}

/// Which of our two webhook URLs the carrier called; Twilio and Vonage only say it this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookRoute {
    Inbound,
    Status,
}

impl WebhookRoute {
    /// The URL segment and metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Status => "status",
        }
    }

    /// Reads the last URL segment (`/webhooks/{carrier}/{route}`).
    pub fn parse(segment: &str) -> Option<Self> {
        [Self::Inbound, Self::Status]
            .into_iter()
            .find(|r| r.as_str() == segment)
    }
}

/// One webhook call exactly as received; signatures cover these bytes, never a re-serialisation.
#[derive(Debug, Clone)]
pub struct WebhookRequest<'a> {
    pub method: Method,
    /// The full URL the carrier called (`FLOODGATE_PUBLIC_URL` + path + raw query): Twilio signs it.
    pub public_url: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl WebhookRequest<'_> {
    /// A signature header (names are case-insensitive in `HeaderMap`); non-ASCII can never be valid.
    pub(crate) fn signature_header(&self, name: &str) -> Result<&str, SignatureFailure> {
        match self.headers.get(name).map(|v| v.to_str()) {
            None => Err(SignatureFailure::Missing),
            Some(Ok("")) => Err(SignatureFailure::Missing),
            Some(Ok(text)) => Ok(text.trim()),
            Some(Err(_)) => Err(SignatureFailure::Invalid),
        }
    }

    /// The raw query string of `public_url`, without `?` and fragment.
    pub(crate) fn query(&self) -> &str {
        let Some((_, query)) = self.public_url.split_once('?') else {
            return "";
        };
        query.split_once('#').map_or(query, |(q, _)| q)
    }
}

/// What a verified webhook means to the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    Inbound(InboundSms),
    Status(StatusReport),
    /// Correctly signed but nothing for us (unknown event type or status); answer 2xx so it is not resent.
    Ignored {
        reason: String,
    },
}

/// A text a member sent to one of our numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    pub provider_message_id: String,
    pub from: PhoneNumber,
    /// The number or short code the member texted.
    pub to: SenderAddress,
    pub body: String,
    /// Set when the carrier delivers a long message per part (Vonage): the edge queues each
    /// part on its own and the inbound stage joins them (`store::inbound_parts`).
    pub parts: Option<ConcatPart>,
    /// Segments the carrier counted, when it says (Twilio `NumSegments`, Telnyx `parts`).
    pub segments: Option<u32>,
}

/// One part of a concatenated message that arrived on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcatPart {
    /// Shared by every part of the same message.
    pub reference: String,
    pub total: u16,
    /// 1-based.
    pub part: u16,
}

/// A carrier's news about a message we sent; may arrive late, twice or out of order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub provider_message_id: String,
    pub status: MessageStatus,
    /// The carrier's own word, kept for the audit trail and for mappings we may revisit.
    pub raw_status: String,
    pub error_code: Option<String>,
    /// Our message id as the carrier echoes it (Vonage `client-ref`): it names the message in
    /// the report of every part, whose own ids only the first of we record.
    pub client_ref: Option<String>,
    /// The carrier refused the message because the recipient opted out with it (Twilio 21610,
    /// Telnyx 40300): the member is unsubscribed, as when a send is refused for it at once.
    pub opted_out: bool,
    /// The carrier gave up for a passing reason (handset off, a queue overflowed): the message
    /// is sent again after at least this long, within its attempt budget.
    pub resend_after: Option<std::time::Duration>,
}

impl WebhookEvent {
    /// Drops NUL characters from every text field: a member's phone can send one, PostgreSQL
    /// refuses them in `TEXT`, and a text that can never be stored would retry until it is
    /// dead-lettered. Nothing a person reads is lost (a NUL displays as nothing).
    pub fn without_nul(self) -> Self {
        fn scrub(text: &mut String) {
            if text.contains('\0') {
                text.retain(|c| c != '\0');
            }
        }
        match self {
            Self::Inbound(mut sms) => {
                scrub(&mut sms.provider_message_id);
                scrub(&mut sms.body);
                Self::Inbound(sms)
            }
            Self::Status(mut report) => {
                scrub(&mut report.provider_message_id);
                scrub(&mut report.raw_status);
                report.error_code.as_mut().map(scrub);
                report.client_ref.as_mut().map(scrub);
                Self::Status(report)
            }
            ignored @ Self::Ignored { .. } => ignored,
        }
    }
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook signature check failed: {}", .0.as_str())]
    Signature(SignatureFailure),
    #[error("webhook payload is malformed: {0}")]
    Malformed(String),
}

/// Why a signature check failed; the label goes on a metric, so an attack or a bad secret shows up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureFailure {
    /// No signature (or a required signed field) in the request.
    Missing,
    /// A signature that does not match.
    Invalid,
    /// Correctly signed but too old or too new: a replay, or a clock off by more than 300 s.
    Stale,
    /// We hold no usable credential for this carrier, so nothing can be trusted.
    NotConfigured,
}

impl SignatureFailure {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Invalid => "invalid",
            Self::Stale => "stale",
            Self::NotConfigured => "not_configured",
        }
    }
}

impl From<SignatureFailure> for WebhookError {
    fn from(failure: SignatureFailure) -> Self {
        Self::Signature(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in CarrierKind::ALL {
            assert_eq!(CarrierKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(CarrierKind::parse("Twilio"), None);
        assert_eq!(WebhookRoute::parse("status"), Some(WebhookRoute::Status));
        assert_eq!(WebhookRoute::parse("inbound"), Some(WebhookRoute::Inbound));
        assert_eq!(WebhookRoute::parse("dlr"), None);
    }

    #[test]
    fn query_is_cut_at_the_fragment() {
        let headers = HeaderMap::new();
        let req = |url| WebhookRequest {
            method: Method::GET,
            public_url: url,
            headers: &headers,
            body: b"",
        };
        assert_eq!(req("https://a.b/p?x=1&y=2#f").query(), "x=1&y=2");
        assert_eq!(req("https://a.b/p").query(), "");
    }
}
