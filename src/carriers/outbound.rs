//! What the deliver stage hands an adapter, and what it gets back, whatever the carrier.

use std::time::Duration;

use crate::domain::{MessageBody, PhoneNumber};

/// Hint after a credential failure or a wrong `api_base`, and only then (so the outcome says
/// "our configuration"): long enough not to burn a broadcast on a bad secret, short enough
/// that a fixed secret takes effect within a minute.
pub const AUTH_BACKOFF: Duration = Duration::from_secs(60);

/// Hint when a carrier queue is full or the account is blocked (Twilio 21611/30001, Telnyx
/// 40318, Vonage 8/9): the queue drains at the sender's rate, so retrying sooner only adds load.
pub const LONG_BACKOFF: Duration = Duration::from_secs(300);

/// One SMS to send; borrowed so the deliver stage builds it without copying the body.
#[derive(Debug, Clone, Copy)]
pub struct OutboundSms<'a> {
    pub to: &'a PhoneNumber,
    /// E.164 number, short code, alphanumeric ID, or a Twilio Messaging Service SID (`MG…`).
    pub from: &'a str,
    pub body: &'a MessageBody,
    /// Where the carrier posts delivery reports for this message.
    pub status_callback: Option<&'a str>,
    /// Our message id, echoed where the carrier supports it (Vonage `client-ref`, Telnyx
    /// `webhook_url` query) so a report can be matched even when the send's answer was lost.
    pub reference: Option<&'a str>,
}

/// How one send attempt ended; the deliver stage decides acks and retries from this alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The carrier took the message; reports will name it by `provider_message_id`.
    Sent { provider_message_id: String },
    /// Not sent, may succeed later.
    RetryLater {
        /// The carrier's `Retry-After` (or our own choice for the error); `None` = retry policy.
        hint: Option<Duration>,
        /// The carrier's error code, when it gave one.
        code: Option<String>,
        reason: String,
        /// 429 / queue full / Vonage status 1 / bad credentials: the lane should slow down.
        throttled: bool,
        /// The carrier refused our credentials, account or `api_base`: every send would fail
        /// alike until someone fixes the profile.
        misconfigured: bool,
    },
    /// Permanent for this message (invalid number, landline, ...): do not retry.
    Failed { code: String, reason: String },
    /// The recipient opted out at the carrier: the caller also unsubscribes the member.
    OptedOut { code: String },
    /// The sender number's own queue at the carrier is full (Twilio 21611): that number waits
    /// `pause` while the account's other numbers go on; no attempt is spent.
    SenderBusy {
        pause: Duration,
        code: String,
        reason: String,
    },
}

impl SendOutcome {
    /// A transient failure with no carrier opinion on when to retry.
    pub(crate) fn retry(code: Option<String>, reason: impl Into<String>) -> Self {
        Self::RetryLater {
            hint: None,
            code,
            reason: reason.into(),
            throttled: false,
            misconfigured: false,
        }
    }

    /// The carrier asked us to slow down.
    pub(crate) fn throttled(
        hint: Option<Duration>,
        code: Option<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::RetryLater {
            hint,
            code,
            reason: reason.into(),
            throttled: true,
            misconfigured: false,
        }
    }

    /// Whether the carrier refused our configuration (credentials, account id, `api_base`).
    pub fn is_misconfiguration(&self) -> bool {
        matches!(
            self,
            Self::RetryLater {
                misconfigured: true,
                ..
            }
        )
    }

    /// A permanent failure for this message.
    pub(crate) fn failed(code: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Failed {
            code: code.into(),
            reason: reason.into(),
        }
    }
}
