//! The Vonage SMS API request (§3.1): one form with the credentials inside.

use super::config::Config;
use crate::carriers::outbound::OutboundSms;
use crate::domain::Encoding;

/// Vonage's limit on `client-ref` (§3.1); a longer reference is cut (ours, a message id in
/// decimal, has at most 19 characters).
pub const MAX_CLIENT_REF: usize = 40;

/// Form fields in Vonage's names: numbers without `+` (the SMS API rejects it), `type=unicode`
/// for UCS-2 or non-GSM characters arrive as `?`, and our id as `client-ref`, echoed in DLRs.
pub fn form<'a>(config: &'a Config, sms: &OutboundSms<'a>) -> Vec<(&'static str, &'a str)> {
    let kind = match sms.body.encoding() {
        Encoding::Gsm7 => "text",
        Encoding::Ucs2 => "unicode",
    };
    let mut fields = vec![
        ("api_key", config.api_key.as_str()),
        ("api_secret", config.api_secret.expose()),
        ("from", sender(sms.from)),
        ("to", sms.to.digits()),
        ("text", sms.body.text()),
        ("type", kind),
    ];
    if let Some(reference) = sms.reference {
        fields.push(("client-ref", cut(reference, MAX_CLIENT_REF)));
    }
    if let Some(url) = sms.status_callback {
        fields.push(("callback", url));
    }
    fields
}

/// `+14155550100` becomes `14155550100`; short codes and alphanumeric IDs pass unchanged.
fn sender(from: &str) -> &str {
    match from.strip_prefix('+') {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits,
        _ => from,
    }
}

/// At most `max` characters, cut on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    text.char_indices()
        .nth(max)
        .map_or(text, |(at, _)| &text[..at])
}

/// POST the form; the SMS API answers 200 whatever happened.
pub fn build(
    http: &reqwest::Client,
    config: &Config,
    sms: &OutboundSms<'_>,
) -> reqwest::RequestBuilder {
    http.post(config.sms_url()).form(&form(config, sms))
}
