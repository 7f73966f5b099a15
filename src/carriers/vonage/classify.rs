//! Vonage's answer (§3.1) as a [`SendOutcome`]: HTTP 200 even on failure, one entry per part.

use std::time::Duration;

use crate::carriers::outbound::{LONG_BACKOFF, SendOutcome};
use crate::carriers::transport::{
    RawResponse, by_status, code_of, excerpt, misconfigured, unreadable_success,
};

/// Vonage allows 30 requests/s per key and does not queue: one second is the natural pause.
pub const THROTTLE_BACKOFF: Duration = Duration::from_secs(1);

/// One part's result from `messages[]`.
struct Part {
    status: String,
    message_id: Option<String>,
    error_text: Option<String>,
}

/// Sent only when every part has status `"0"`; the id is the first part's `message-id`, while
/// DLRs arrive per part, each with its own `messageId` and our `client-ref`, which is how the
/// receipts stage matches every part (`store::message_parts` derives the message's status from
/// them all). A message with some parts accepted and others refused is Failed: retrying would
/// resend the accepted parts. Non-200 answers go by HTTP status.
pub fn classify(response: &RawResponse) -> SendOutcome {
    if !response.status.is_success() {
        let reason = format!(
            "HTTP {}: {}",
            response.status.as_u16(),
            excerpt(&response.body)
        );
        return by_status("vonage", response, None, reason);
    }
    let Some(parts) = parts(&response.body) else {
        return unreadable_success("vonage", response);
    };
    let accepted = parts.iter().filter(|p| p.status == "0").count();
    let Some(refused) = parts.iter().find(|p| p.status != "0") else {
        return match parts.first().and_then(|p| p.message_id.clone()) {
            Some(id) => SendOutcome::Sent {
                provider_message_id: id,
            },
            None => unreadable_success("vonage", response),
        };
    };
    let code = format!("vonage-{}", refused.status);
    let text = refused.error_text.as_deref().unwrap_or("no error-text");
    let reason = format!("status {}: {text}", refused.status);
    if accepted > 0 {
        let reason = format!("{accepted} of {} parts accepted; {reason}", parts.len());
        tracing::warn!(%code, %reason, "vonage accepted only part of a message");
        return SendOutcome::failed(code, reason);
    }
    by_code(&refused.status, code, reason)
}

/// The `messages[]` entries; `None` when the body is not the documented shape or has no parts.
fn parts(body: &[u8]) -> Option<Vec<Part>> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let entries = json.get("messages")?.as_array()?;
    let text = |e: &serde_json::Value, key| e.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let parts: Vec<Part> = entries
        .iter()
        .map(|e| Part {
            status: code_of(e.get("status")).unwrap_or_else(|| "missing".into()),
            message_id: text(e, "message-id"),
            error_text: text(e, "error-text"),
        })
        .collect();
    (!parts.is_empty()).then_some(parts)
}

/// The status table of §3.1:
/// - 1 throttled, 10 too many binds → throttled, [`THROTTLE_BACKOFF`].
/// - 5 internal error → retry.
/// - 4 bad credentials, 14 invalid signature, 23 invalid callback URL, 32 signature and secret
///   both sent → our configuration: wait [`crate::carriers::outbound::AUTH_BACKOFF`], log error.
/// - 8 account barred, 9 no credit, 11 HTTP not enabled → the account: [`LONG_BACKOFF`], log
///   error. (9 is a deliberate retry: a top-up should not find the rest of a broadcast failed.)
/// - 2, 3, 6, 7, 12, 15, 22, 29, 33 and anything unknown → failed for this message.
fn by_code(status: &str, code: String, reason: String) -> SendOutcome {
    match status {
        "1" | "10" => SendOutcome::throttled(Some(THROTTLE_BACKOFF), Some(code), reason),
        "5" => SendOutcome::retry(Some(code), reason),
        "4" | "14" | "23" | "32" => misconfigured("vonage", Some(code), reason),
        "8" | "9" | "11" => {
            tracing::error!(%code, %reason, "vonage refused the account; check balance and settings");
            SendOutcome::throttled(Some(LONG_BACKOFF), Some(code), reason)
        }
        "2" | "3" | "6" | "7" | "12" | "15" | "22" | "29" | "33" => {
            SendOutcome::failed(code, reason)
        }
        _ => {
            tracing::warn!(%code, %reason, "vonage status not in the reference; failing the message");
            SendOutcome::failed(code, reason)
        }
    }
}

/// How long to wait before sending again a message whose DLR carried `err-code` for a passing
/// reason (§3.2: Vonage never redelivers on its own); `None` when the failure is final.
/// - 2 absent subscriber (temporary), 7 handset busy, 8 network error.
pub(crate) fn resend_after(code: &str) -> Option<std::time::Duration> {
    matches!(code, "2" | "7" | "8").then_some(std::time::Duration::from_secs(60))
}
