//! The HTTP plumbing every adapter shares: one pooled client, bounded reads, transport errors.

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::outbound::SendOutcome;

/// Largest response body we read; carrier answers are a few hundred bytes, garbage is cut off.
const MAX_BODY: usize = 64 * 1024;

/// Client timeouts; tests shorten them to exercise the timeout path in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP + TLS handshake; a carrier that does not answer in 5 s is down, not slow.
    pub connect: Duration,
    /// The whole exchange; below the deliver stage's lease so a hung send cannot outlive it.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(15),
        }
    }
}

/// The one `reqwest::Client` of a carrier client: HTTP/1.1 keep-alive over rustls, enough idle
/// connections for `max_in_flight` concurrent sends, and no redirects (a POST must not turn GET).
pub(crate) fn build_client(
    max_in_flight: u32,
    timeouts: Timeouts,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .http1_only()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .pool_max_idle_per_host(usize::try_from(max_in_flight).unwrap_or(usize::MAX))
        .tcp_keepalive(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("floodgate/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A carrier's answer, read in full (up to [`MAX_BODY`]) so classification is a pure function.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Sends and reads the answer; a transport failure is already an outcome (always RetryLater).
pub(crate) async fn execute(request: reqwest::RequestBuilder) -> Result<RawResponse, SendOutcome> {
    let mut response = request.send().await.map_err(transport_outcome)?;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_outcome)? {
        let room = MAX_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_BODY {
            break;
        }
    }
    Ok(RawResponse {
        status,
        headers,
        body: body.into(),
    })
}

/// Timeouts, refused and reset connections: the carrier may never have seen the request, and
/// if it did, at-least-once delivery accepts the duplicate. Not `throttled`: nothing said "slow down".
fn transport_outcome(err: reqwest::Error) -> SendOutcome {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_body() || err.is_decode() {
        "connection broke while reading the response"
    } else {
        "request failed"
    };
    let mut reason = format!("{what}: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        reason.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    SendOutcome::retry(None, reason)
}

/// `Retry-After` as delta-seconds or an HTTP date (a date in the past means now).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let ms = (at.timestamp_millis() - chrono::Utc::now().timestamp_millis()).max(0);
    Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

/// A header holding whole seconds (Telnyx `x-ratelimit-reset`).
pub(crate) fn seconds_header(headers: &HeaderMap, name: &str) -> Option<Duration> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
}

/// An error `code` that one carrier sends as a number and another as a string.
pub(crate) fn code_of(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A short, printable excerpt of a body for reasons and logs; never the whole of a garbage page.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(200).collect();
    if text.chars().nth(200).is_some() {
        out.push('…');
    }
    out
}

/// Credentials rejected (or a wrong `api_base`): a configuration problem that every message
/// would hit, so the lane slows down and the message waits instead of failing.
pub(crate) fn misconfigured(carrier: &str, code: Option<String>, reason: String) -> SendOutcome {
    tracing::error!(
        carrier,
        code = code.as_deref().unwrap_or(""),
        %reason,
        "carrier rejected our configuration; check the profile's credentials and api_base"
    );
    SendOutcome::RetryLater {
        hint: Some(super::outbound::AUTH_BACKOFF),
        code,
        reason,
        throttled: true,
        misconfigured: true,
    }
}

/// What an HTTP status alone says when the carrier-specific codes did not decide.
pub(crate) fn by_status(
    carrier: &str,
    response: &RawResponse,
    code: Option<String>,
    reason: String,
) -> SendOutcome {
    let status = response.status;
    let hint = retry_after(&response.headers);
    if status == StatusCode::TOO_MANY_REQUESTS {
        SendOutcome::throttled(hint, code, reason)
    } else if is_misconfiguration(status) {
        misconfigured(carrier, code, reason)
    } else if status == StatusCode::REQUEST_TIMEOUT || status.is_server_error() {
        SendOutcome::RetryLater {
            hint,
            code,
            reason,
            throttled: false,
            misconfigured: false,
        }
    } else {
        let code = code.unwrap_or_else(|| format!("http-{}", status.as_u16()));
        SendOutcome::failed(code, reason)
    }
}

/// Statuses that say "this account, URL or method is wrong" rather than "this message is wrong":
/// 401 (credentials), 403 (the account may not use this API: suspended, or another account's
/// path), 404 (no such resource: a wrong `api_base` or account id), 405 (a wrong path that
/// exists for other methods) and redirects (a wrong scheme or host). Failing each message on
/// them would throw a whole broadcast away over one typo; they wait for the fix instead.
fn is_misconfiguration(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::UNAUTHORIZED
            | StatusCode::FORBIDDEN
            | StatusCode::NOT_FOUND
            | StatusCode::METHOD_NOT_ALLOWED
    ) || status.is_redirection()
}

/// A 2xx we cannot read: the carrier probably took the message, so retrying risks a duplicate
/// text; we fail it loudly instead (its delivery report, if any, still arrives).
pub(crate) fn unreadable_success(carrier: &str, response: &RawResponse) -> SendOutcome {
    let reason = format!(
        "HTTP {} with an unreadable body: {}",
        response.status.as_u16(),
        excerpt(&response.body)
    );
    tracing::error!(carrier, %reason, "carrier accepted a send but its answer is unreadable");
    SendOutcome::failed("unreadable-response", reason)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    use super::{excerpt, retry_after, seconds_header};

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).expect("header"));
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_ignores_nonsense() {
        let h = |v| retry_after(&headers(RETRY_AFTER.as_str(), v));
        assert_eq!(h(" 12 "), Some(Duration::from_secs(12)));
        assert_eq!(h("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(90)).to_rfc2822();
        let hint = h(&soon).expect("future date");
        assert!(
            hint > Duration::from_secs(80) && hint <= Duration::from_secs(90),
            "{hint:?}"
        );
        for bad in ["-5", "soon", "1.5", ""] {
            assert_eq!(h(bad), None, "{bad:?}");
        }
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn account_wide_statuses_are_misconfiguration_and_message_errors_are_not() {
        use reqwest::StatusCode as S;
        for s in [401, 403, 404, 405, 301, 302, 307, 308] {
            assert!(super::is_misconfiguration(S::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 408, 409, 410, 413, 422, 429, 500, 503] {
            assert!(!super::is_misconfiguration(S::from_u16(s).unwrap()), "{s}");
        }
    }

    #[test]
    fn a_minute_long_retry_after_is_throttling_not_misconfiguration() {
        let answer = |status: u16, retry: &str| super::RawResponse {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            headers: headers(RETRY_AFTER.as_str(), retry),
            body: bytes::Bytes::new(),
        };
        let throttled = super::by_status("sim", &answer(429, "60"), None, "slow".into());
        assert!(!throttled.is_misconfiguration(), "{throttled:?}");
        let refused = super::by_status("sim", &answer(403, "60"), None, "no".into());
        assert!(refused.is_misconfiguration(), "{refused:?}");
    }

    #[test]
    fn reset_header_is_whole_seconds() {
        let h = headers("x-ratelimit-reset", "3");
        assert_eq!(
            seconds_header(&h, "x-ratelimit-reset"),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            seconds_header(&headers("x-ratelimit-reset", "x"), "x-ratelimit-reset"),
            None
        );
    }

    #[test]
    fn excerpts_are_short_and_lossy() {
        assert_eq!(excerpt(b"\xff ok"), "\u{fffd} ok");
        let long = excerpt("é".repeat(500).as_bytes());
        assert_eq!(long.chars().count(), 201);
        assert!(long.ends_with('…'));
    }
}
