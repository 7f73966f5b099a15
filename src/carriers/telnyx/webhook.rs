//! Telnyx's JSON webhooks: `data.event_type` says what it is, whichever URL it was posted to.

use serde::Deserialize;
use serde_json::Value;

use crate::carriers::fields::{address, phone, required};
use crate::carriers::webhook::{
    InboundSms, StatusReport, WebhookError, WebhookEvent, WebhookRequest, WebhookRoute,
};
use crate::domain::MessageStatus;

#[derive(Deserialize)]
struct Envelope {
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    event_type: Option<String>,
    payload: Option<Payload>,
}

// Lenient on purpose: every field optional, so a new or null field never drops a webhook.
#[derive(Deserialize, Default)]
struct Payload {
    id: Option<String>,
    /// `SMS`, `MMS`, `WHATSAPP`, `RCS`; absent on older events, which are SMS or MMS.
    #[serde(rename = "type")]
    channel: Option<String>,
    text: Option<String>,
    from: Option<Endpoint>,
    /// SMS, MMS and RCS events carry an array of recipients; WhatsApp ones a single string.
    to: Option<Value>,
    parts: Option<Value>,
    errors: Option<Vec<ApiError>>,
}

#[derive(Deserialize)]
struct Endpoint {
    phone_number: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    /// A string in the docs (`"40008"`); a number is accepted too.
    code: Option<Value>,
}

/// "Blocked due to STOP" (§2.1): the profile's block rule refused the message; it comes at once
/// on the send (409) or in the `errors` of a `message.finalized`.
pub const OPTED_OUT: &str = "40300";

/// Reads a verified request; `route` is ignored because Telnyx may post any event to either
/// URL (the profile's webhook URL vs. the per-message `webhook_url`).
pub fn parse(
    _route: WebhookRoute,
    request: &WebhookRequest<'_>,
) -> Result<WebhookEvent, WebhookError> {
    let envelope: Envelope = serde_json::from_slice(request.body)
        .map_err(|e| WebhookError::Malformed(format!("body is not a Telnyx event: {e}")))?;
    let data = envelope
        .data
        .ok_or_else(|| WebhookError::Malformed("`data` is missing".into()))?;
    let event_type = required(data.event_type.as_deref(), "data.event_type")?;
    let payload = data.payload.unwrap_or_default();
    // A message on another channel of the same profile is not ours to read, but a 4xx would
    // make Telnyx retry it and then call the failover URL: answer it and let it go.
    if let Some(reason) = not_sms(&payload) {
        return Ok(WebhookEvent::Ignored { reason });
    }
    match event_type {
        "message.received" => inbound(payload),
        "message.sent" | "message.finalized" => status(payload),
        other => Ok(WebhookEvent::Ignored {
            reason: format!("Telnyx event type `{other}` is not handled"),
        }),
    }
}

/// Why a signed event is about a message we do not handle (WhatsApp, RCS), if it is.
fn not_sms(payload: &Payload) -> Option<String> {
    if let Some(channel) = payload.channel.as_deref() {
        if !channel.eq_ignore_ascii_case("SMS") && !channel.eq_ignore_ascii_case("MMS") {
            return Some(format!("Telnyx `{channel}` message is not an SMS"));
        }
    }
    matches!(payload.to, Some(Value::String(_)))
        .then(|| "Telnyx message with a single `to` string (WhatsApp) is not an SMS".to_owned())
}

/// The `to` array; anything else there (a number, an object) is a body we cannot read.
fn recipients(payload: &Payload) -> Result<Vec<Endpoint>, WebhookError> {
    match &payload.to {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(to) => Vec::<Endpoint>::deserialize(to)
            .map_err(|e| WebhookError::Malformed(format!("`to` is not a list of recipients: {e}"))),
    }
}

fn inbound(payload: Payload) -> Result<WebhookEvent, WebhookError> {
    let to = recipients(&payload)?;
    let from = payload.from.and_then(|f| f.phone_number);
    let to = first_recipient(&to).and_then(|t| t.phone_number.as_deref());
    Ok(WebhookEvent::Inbound(InboundSms {
        provider_message_id: required(payload.id.as_deref(), "data.payload.id")?.to_owned(),
        from: phone(
            required(from.as_deref(), "from.phone_number")?,
            "from.phone_number",
        )?,
        to: address(required(to, "to[0].phone_number")?, "to[0].phone_number")?,
        // An MMS with only media has no `text`.
        body: payload.text.unwrap_or_default(),
        // Telnyx reassembles long messages before the webhook.
        parts: None,
        segments: payload
            .parts
            .as_ref()
            .and_then(Value::as_u64)
            .and_then(|n| n.try_into().ok()),
    }))
}

fn status(payload: Payload) -> Result<WebhookEvent, WebhookError> {
    let provider_message_id = required(payload.id.as_deref(), "data.payload.id")?.to_owned();
    let to = recipients(&payload)?;
    let raw = first_recipient(&to).and_then(|t| t.status.as_deref());
    let raw = required(raw, "to[0].status")?;
    let Some(status) = map_status(raw) else {
        return Ok(WebhookEvent::Ignored {
            reason: format!("unknown Telnyx message status `{raw}`"),
        });
    };
    let error_code = payload
        .errors
        .as_ref()
        .and_then(|errors| errors.first())
        .and_then(|e| match e.code.as_ref()? {
            Value::String(code) => Some(code.clone()),
            Value::Number(code) => Some(code.to_string()),
            _ => None,
        });
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
        // Our `ref` rides on the webhook URL, which Telnyx does not sign: not trusted here.
        client_ref: None,
    }))
}

/// We send to one recipient per message, so the first `to` entry is the one.
fn first_recipient(to: &[Endpoint]) -> Option<&Endpoint> {
    to.first()
}

/// Telnyx's `to[].status` in our terms; `None` for statuses it may add later.
///
/// `sending_failed` never reached a carrier (→ `Failed`); `delivery_failed` was refused by one
/// (→ `Undelivered`). `delivery_unconfirmed` means the carrier sent no DLR, so `Sent` is all we
/// know (as with Twilio's `sent`). `expired` died in Telnyx's queue, unbilled (→ `Failed`).
pub fn map_status(raw: &str) -> Option<MessageStatus> {
    Some(match raw {
        "queued" => MessageStatus::Queued,
        "sending" => MessageStatus::Sending,
        "sent" | "delivery_unconfirmed" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "delivery_failed" => MessageStatus::Undelivered,
        "sending_failed" | "expired" => MessageStatus::Failed,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
