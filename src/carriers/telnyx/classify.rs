//! Telnyx's answer (§2.1) as a [`SendOutcome`].

use std::time::Duration;

use crate::carriers::outbound::{LONG_BACKOFF, SendOutcome};
use crate::carriers::transport::{
    RawResponse, by_status, code_of, excerpt, misconfigured, retry_after, seconds_header,
    unreadable_success,
};

/// 2xx carries `{"data":{"id":…}}`; errors carry `{"errors":[{"code":"40300",…}]}` (a string).
/// - 10011 / 429: API rate limit → throttled, hint `Retry-After` else `x-ratelimit-reset`.
/// - 40318 (429): message queue full → throttled, the headers' hint else [`LONG_BACKOFF`].
/// - 40300 (409): blocked by a STOP rule → opted out.
/// - 10009 / 401, and 403 / 404 / 405 / 3xx (a wrong `api_base`): our configuration →
///   [`crate::carriers::outbound::AUTH_BACKOFF`], logged at error.
/// - 40006 / 40011 (normally asynchronous): carrier unavailable / upstream rate limit → retry.
/// - 5xx / 408 → retry; 10016, 40001/40008/40012 and every other 4xx → failed with the code.
pub fn classify(response: &RawResponse) -> SendOutcome {
    let json = serde_json::from_slice::<serde_json::Value>(&response.body).ok();
    if response.status.is_success() {
        let id = json
            .as_ref()
            .and_then(|v| v.pointer("/data/id"))
            .and_then(|id| id.as_str());
        return match id {
            Some(id) if !id.is_empty() => SendOutcome::Sent {
                provider_message_id: id.to_owned(),
            },
            _ => unreadable_success("telnyx", response),
        };
    }
    let first = json.as_ref().and_then(|v| v.pointer("/errors/0"));
    let code = code_of(first.and_then(|e| e.get("code")));
    let text = |key: &str| first.and_then(|e| e.get(key)).and_then(|t| t.as_str());
    let message = match (text("title"), text("detail")) {
        (Some(title), Some(detail)) => format!("{title}: {detail}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => excerpt(&response.body),
    };
    let reason = format!("HTTP {}: {message}", response.status.as_u16());
    let hint = rate_hint(response);
    match code.as_deref() {
        Some("10011" | "40011") => SendOutcome::throttled(hint, code, reason),
        Some("40318") => SendOutcome::throttled(hint.or(Some(LONG_BACKOFF)), code, reason),
        Some("40300") => SendOutcome::OptedOut {
            code: "40300".into(),
        },
        Some("10009") => misconfigured("telnyx", code, reason),
        Some("40006") => SendOutcome::retry(code, reason),
        _ if response.status.as_u16() == 429 => SendOutcome::throttled(hint, code, reason),
        _ => by_status("telnyx", response, code, reason),
    }
}

/// `Retry-After` wins (it says when); `x-ratelimit-reset` is seconds until the window resets.
fn rate_hint(response: &RawResponse) -> Option<Duration> {
    retry_after(&response.headers)
        .or_else(|| seconds_header(&response.headers, "x-ratelimit-reset"))
}

/// How long to wait before sending again a message Telnyx reported failed with `code` for a
/// passing reason (§2.1); `None` when the failure is final.
/// - 40006: the carrier was unavailable; 40011: the upstream carrier's rate limit.
pub(crate) fn resend_after(code: &str) -> Option<Duration> {
    match code {
        "40006" | "40011" => Some(Duration::from_secs(60)),
        _ => None,
    }
}
