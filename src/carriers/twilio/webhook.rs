//! Twilio's form-encoded inbound and status callbacks; which one it is, only the URL says.

use axum::http::Method;

use crate::carriers::fields::{address, channel, first, form_pairs, phone, required};
use crate::carriers::webhook::{
    InboundSms, StatusReport, WebhookError, WebhookEvent, WebhookRequest, WebhookRoute,
};
use crate::domain::MessageStatus;

/// The error code of a message to a recipient who texted STOP to the sender (§1.1): at once on
/// the send, or later in a `failed` callback (e.g. through a Messaging Service's queue).
pub const OPTED_OUT: &str = "21610";

/// Reads a verified request; Twilio posts both kinds with overlapping fields, so `route` decides.
pub fn parse(
    route: WebhookRoute,
    request: &WebhookRequest<'_>,
) -> Result<WebhookEvent, WebhookError> {
    // The webhook method is configurable: a GET carries the fields in the query string.
    let pairs = if request.method == Method::GET {
        form_pairs(request.query().as_bytes())
    } else {
        form_pairs(request.body)
    };
    match route {
        WebhookRoute::Inbound => inbound(&pairs),
        WebhookRoute::Status => status(&pairs),
    }
}

fn message_sid(pairs: &[(String, String)]) -> Result<String, WebhookError> {
    // `SmsSid` is the legacy copy of `MessageSid`; older accounts may send only that.
    let sid = first(pairs, "MessageSid").filter(|s| !s.is_empty());
    Ok(required(sid.or(first(pairs, "SmsSid")), "MessageSid")?.to_owned())
}

fn inbound(pairs: &[(String, String)]) -> Result<WebhookEvent, WebhookError> {
    // WhatsApp (and other channels) can share a number's webhook: a 4xx would only make Twilio
    // retry and log 11200, so a correctly signed non-SMS message is answered and ignored.
    let addresses = [first(pairs, "From"), first(pairs, "To")];
    if let Some(name) = addresses.into_iter().flatten().find_map(channel) {
        return Ok(WebhookEvent::Ignored {
            reason: format!("Twilio `{name}:` message is not an SMS"),
        });
    }
    Ok(WebhookEvent::Inbound(InboundSms {
        provider_message_id: message_sid(pairs)?,
        from: phone(required(first(pairs, "From"), "From")?, "From")?,
        to: address(required(first(pairs, "To"), "To")?, "To")?,
        // A media-only MMS has an empty (or, defensively, absent) `Body`.
        body: first(pairs, "Body").unwrap_or_default().to_owned(),
        // Twilio hands over the message already reassembled.
        parts: None,
        segments: first(pairs, "NumSegments").and_then(|n| n.parse().ok()),
    }))
}

fn status(pairs: &[(String, String)]) -> Result<WebhookEvent, WebhookError> {
    let provider_message_id = message_sid(pairs)?;
    let raw = first(pairs, "MessageStatus").filter(|s| !s.is_empty());
    let raw = required(raw.or(first(pairs, "SmsStatus")), "MessageStatus")?;
    let Some(status) = map_status(raw) else {
        let reason = if matches!(raw, "receiving" | "received") {
            format!("Twilio status `{raw}` belongs to an inbound message, not to one we sent")
        } else {
            format!("unknown Twilio message status `{raw}`")
        };
        return Ok(WebhookEvent::Ignored { reason });
    };
    let error_code = first(pairs, "ErrorCode")
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let refused = matches!(status, MessageStatus::Failed | MessageStatus::Undelivered);
    Ok(WebhookEvent::Status(StatusReport {
        provider_message_id,
        status,
        raw_status: raw.to_owned(),
        opted_out: refused && error_code.as_deref() == Some(OPTED_OUT),
        resend_after: error_code
            .as_deref()
            .filter(|_| refused)
            .and_then(super::classify::resend_after),
        error_code,
        client_ref: None,
    }))
}

/// Twilio's status in our terms; `None` when it says nothing about a message we sent.
///
/// `canceled` maps to `Failed`: Twilio only cancels messages scheduled with `SendAt`, which we
/// never use, so it means "never left Twilio" like `failed`; our `Cancelled` means a leader
/// cancelled the broadcast. `read` (WhatsApp/RCS) implies delivery. `partially_delivered` has
/// no documented meaning (§1.3) and is ignored rather than guessed.
pub fn map_status(raw: &str) -> Option<MessageStatus> {
    Some(match raw {
        "accepted" | "scheduled" | "queued" => MessageStatus::Queued,
        "sending" => MessageStatus::Sending,
        "sent" => MessageStatus::Sent,
        "delivered" | "read" => MessageStatus::Delivered,
        "undelivered" => MessageStatus::Undelivered,
        "failed" | "canceled" => MessageStatus::Failed,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
