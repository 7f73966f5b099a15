//! Twilio's answer (§1.1) as a [`SendOutcome`].

use crate::carriers::outbound::{LONG_BACKOFF, SendOutcome};
use crate::carriers::transport::{
    RawResponse, by_status, code_of, excerpt, misconfigured, retry_after, unreadable_success,
};

/// The pause after 63017 without a `Retry-After`: the account's rate is per second.
const ACCOUNT_MPS_BACKOFF: std::time::Duration = std::time::Duration::from_secs(1);

/// 201 carries the Message (`sid`); errors carry `{"code": 21211, "message": ...}`.
/// - 20429 / 429: concurrency limit, never processed → retry throttled, honouring `Retry-After`.
/// - 21611: this sender's queue holds >10 h → that number pauses [`LONG_BACKOFF`], others go on.
/// - 30001: a Messaging Service's queue overflowed → throttled with [`LONG_BACKOFF`].
/// - 63038: the account's daily limit (rolling 24 h) → throttled with [`LONG_BACKOFF`].
/// - 63017: the account's combined rate (2,000 MPS) → throttled, `Retry-After` else 1 s.
/// - 21610: recipient sent STOP → opted out, never retry.
/// - 20003 / 401, and 403 / 404 / 405 / 3xx (a wrong account id or `api_base`): our
///   configuration → wait [`crate::carriers::outbound::AUTH_BACKOFF`], lane slows,
///   logged at error: one bad secret must not fail a whole broadcast.
/// - 5xx / 408 → retry; 21211 / 21614 / 21635 and every other 4xx → failed with the code.
pub fn classify(response: &RawResponse) -> SendOutcome {
    let json = serde_json::from_slice::<serde_json::Value>(&response.body).ok();
    if response.status.is_success() {
        return match json
            .as_ref()
            .and_then(|v| v.get("sid"))
            .and_then(|s| s.as_str())
        {
            Some(sid) if !sid.is_empty() => SendOutcome::Sent {
                provider_message_id: sid.to_owned(),
            },
            _ => unreadable_success("twilio", response),
        };
    }
    let code = code_of(json.as_ref().and_then(|v| v.get("code")));
    let message = json
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(|m| m.as_str())
        .map_or_else(|| excerpt(&response.body), str::to_owned);
    let reason = format!("HTTP {}: {message}", response.status.as_u16());
    match code.as_deref() {
        Some("20429") => SendOutcome::throttled(retry_after(&response.headers), code, reason),
        Some("21611") => SendOutcome::SenderBusy {
            pause: LONG_BACKOFF,
            code: "21611".into(),
            reason,
        },
        Some("30001" | "63038") => SendOutcome::throttled(Some(LONG_BACKOFF), code, reason),
        Some("63017") => SendOutcome::throttled(
            retry_after(&response.headers).or(Some(ACCOUNT_MPS_BACKOFF)),
            code,
            reason,
        ),
        Some("21610") => SendOutcome::OptedOut {
            code: "21610".into(),
        },
        Some("20003") => misconfigured("twilio", code, reason),
        _ => by_status("twilio", response, code, reason),
    }
}

/// How long to wait before sending again a message Twilio reported `failed`/`undelivered` with
/// `code` for a passing reason (§1.1); `None` when the failure is final.
/// - 30001: a Messaging Service queue overflowed → back off [`LONG_BACKOFF`], resend.
/// - 14107: too many replies between the same two numbers; blocked for 30 s.
/// - 30003: handset unreachable for now (switched off, out of coverage).
/// - 30022: the 10DLC campaign's rate was exceeded.
pub(crate) fn resend_after(code: &str) -> Option<std::time::Duration> {
    use std::time::Duration;
    match code {
        "30001" => Some(LONG_BACKOFF),
        "14107" => Some(Duration::from_secs(30)),
        "30003" | "30022" => Some(Duration::from_secs(60)),
        _ => None,
    }
}
