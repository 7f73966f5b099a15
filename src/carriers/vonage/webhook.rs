//! Vonage SMS API inbound and delivery-receipt webhooks, sent as GET, POST form or POST JSON.

use axum::http::{Method, header};
use serde_json::{Map, Value};

use crate::carriers::fields::{first, form_pairs, phone, required};
use crate::carriers::webhook::{
    ConcatPart, InboundSms, StatusReport, WebhookError, WebhookEvent, WebhookRequest, WebhookRoute,
};
use crate::domain::{MessageStatus, SenderAddress, SenderKind};

/// The fields as Vonage signed them; `None` when a JSON body is not an object.
///
/// The method is chosen in the dashboard, so we read what arrived: the query for GET, a JSON
/// object when the body is JSON (values stringified: numbers as written, `true`/`false`,
/// null as empty), the form otherwise.
pub fn params(request: &WebhookRequest<'_>) -> Option<Vec<(String, String)>> {
    if request.method == Method::GET {
        return Some(form_pairs(request.query().as_bytes()));
    }
    let is_json = match request.headers.get(header::CONTENT_TYPE) {
        Some(kind) => kind
            .as_bytes()
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"json")),
        None => request.body.trim_ascii_start().starts_with(b"{"),
    };
    if !is_json {
        return Some(form_pairs(request.body));
    }
    let object: Map<String, Value> = serde_json::from_slice(request.body).ok()?;
    Some(object.into_iter().map(|(k, v)| (k, stringify(v))).collect())
}

fn stringify(value: Value) -> String {
    match value {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Reads a verified request; inbound messages and receipts share field names, so `route` decides.
pub fn parse(
    route: WebhookRoute,
    request: &WebhookRequest<'_>,
) -> Result<WebhookEvent, WebhookError> {
    let pairs = params(request)
        .ok_or_else(|| WebhookError::Malformed("JSON body is not an object".into()))?;
    match route {
        WebhookRoute::Inbound => inbound(&pairs),
        WebhookRoute::Status => receipt(&pairs),
    }
}

/// Vonage writes numbers as digits without `+` (§9).
fn vonage_phone(
    pairs: &[(String, String)],
    field: &str,
) -> Result<crate::domain::PhoneNumber, WebhookError> {
    let digits = required(first(pairs, field), field)?;
    let e164 = if digits.starts_with('+') {
        digits.to_owned()
    } else {
        format!("+{digits}")
    };
    phone(&e164, field)
}

/// Our number as Vonage writes it: digits without `+`, or a short code's 5–6 digits.
fn vonage_address(pairs: &[(String, String)], field: &str) -> Result<SenderAddress, WebhookError> {
    let digits = required(first(pairs, field), field)?;
    match SenderAddress::parse(digits, SenderKind::ShortCode) {
        Ok(short_code) => Ok(short_code),
        Err(_) => Ok(vonage_phone(pairs, field)?.into()),
    }
}

fn inbound(pairs: &[(String, String)]) -> Result<WebhookEvent, WebhookError> {
    let provider_message_id = required(first(pairs, "messageId"), "messageId")?.to_owned();
    if first(pairs, "type") == Some("binary") {
        return Ok(WebhookEvent::Ignored {
            reason: "binary SMS carries no text".into(),
        });
    }
    Ok(WebhookEvent::Inbound(InboundSms {
        provider_message_id,
        from: vonage_phone(pairs, "msisdn")?,
        to: vonage_address(pairs, "to")?,
        body: first(pairs, "text").unwrap_or_default().to_owned(),
        parts: concat_part(pairs)?,
        segments: None,
    }))
}

/// Vonage delivers long messages per part and leaves reassembly to us (§3.2): the inbound
/// stage joins them, see `store::inbound_parts`.
fn concat_part(pairs: &[(String, String)]) -> Result<Option<ConcatPart>, WebhookError> {
    if first(pairs, "concat") != Some("true") {
        return Ok(None);
    }
    let number = |field: &str| -> Result<u16, WebhookError> {
        let text = required(first(pairs, field), field)?;
        match text.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(WebhookError::Malformed(format!(
                "`{field}` is not a part number: `{text}`"
            ))),
        }
    };
    let (total, part) = (number("concat-total")?, number("concat-part")?);
    if part > total {
        return Err(WebhookError::Malformed(format!("part {part} of {total}")));
    }
    let reference = required(first(pairs, "concat-ref"), "concat-ref")?.to_owned();
    Ok(Some(ConcatPart {
        reference,
        total,
        part,
    }))
}

fn receipt(pairs: &[(String, String)]) -> Result<WebhookEvent, WebhookError> {
    let provider_message_id = required(first(pairs, "messageId"), "messageId")?.to_owned();
    let raw = required(first(pairs, "status"), "status")?;
    let Some(status) = map_status(raw) else {
        return Ok(WebhookEvent::Ignored {
            reason: format!("Vonage receipt status `{raw}` says nothing we can act on"),
        });
    };
    // `0` means "no error" (delivered), so it is not an error code.
    let error_code = first(pairs, "err-code")
        .filter(|code| !code.is_empty() && *code != "0")
        .map(str::to_owned);
    let refused = matches!(status, MessageStatus::Failed | MessageStatus::Undelivered);
    Ok(WebhookEvent::Status(StatusReport {
        provider_message_id,
        status,
        raw_status: raw.to_owned(),
        resend_after: error_code
            .as_deref()
            .filter(|_| refused)
            .and_then(super::classify::resend_after),
        error_code,
        // Sent with every message (≤ 40 chars) and echoed in each part's DLR (§3.1, §3.2).
        client_ref: first(pairs, "client-ref")
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
        // The reference lists no opt-out code for Vonage DLRs: err-code 4 is the handset
        // barring SMS at the network, not a STOP the member sent us.
        opted_out: false,
    }))
}

/// Vonage's DLR `status` in our terms (§3.2); `None` for `unknown` and anything new.
///
/// `accepted`/`buffered` mean the downstream carrier has it (→ `Sent`). `rejected` is refused
/// before reaching a handset (by Vonage or the carrier: → `Failed`, like Twilio's `failed`);
/// `failed` and `expired` are negative receipts after the hand-off (→ `Undelivered`, like Twilio's
/// `undelivered`). `unknown` means no receipt information, so it moves nothing forward.
pub fn map_status(raw: &str) -> Option<MessageStatus> {
    Some(match raw {
        "accepted" | "buffered" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "failed" | "expired" => MessageStatus::Undelivered,
        "rejected" => MessageStatus::Failed,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
