//! The Telnyx send-message request (§2.1): JSON with a Bearer key.

use super::config::Config;
use crate::carriers::outbound::OutboundSms;

/// Query parameter that carries our message id on the per-message `webhook_url`; Telnyx signs
/// the body, not the URL, so adding it does not disturb verification.
pub const REFERENCE_PARAM: &str = "ref";

/// The JSON body; `to` is +E.164 (Telnyx rejects other forms with 10016).
#[derive(Debug, serde::Serialize)]
pub struct Body<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

impl<'a> Body<'a> {
    pub fn new(sms: &OutboundSms<'a>) -> Self {
        Self {
            from: sms.from,
            to: sms.to.as_str(),
            text: sms.body.text(),
            webhook_url: sms
                .status_callback
                .map(|url| with_reference(url, sms.reference)),
        }
    }
}

/// The callback URL with `ref=<our id>` appended (encoded), so reports name our message even
/// when the send's answer was lost. Without a callback the profile's webhook is used: no echo.
fn with_reference(callback: &str, reference: Option<&str>) -> String {
    let Some(reference) = reference else {
        return callback.to_owned();
    };
    match url::Url::parse(callback) {
        Ok(mut url) => {
            url.query_pairs_mut()
                .append_pair(REFERENCE_PARAM, reference);
            url.into()
        }
        Err(_) => callback.to_owned(),
    }
}

/// POST with `Authorization: Bearer <api_key>`.
pub fn build(
    http: &reqwest::Client,
    config: &Config,
    sms: &OutboundSms<'_>,
) -> reqwest::RequestBuilder {
    http.post(config.messages_url())
        .bearer_auth(config.api_key.expose())
        .json(&Body::new(sms))
}
