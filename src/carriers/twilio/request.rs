//! The Twilio create-message request (§1.1): form fields and Basic auth.

use super::config::Config;
use crate::carriers::outbound::OutboundSms;

/// Form fields in Twilio's names; a `from` starting `MG` is a Messaging Service, which picks
/// the sender from its pool and queues per service (overflow is 30001, not 21611).
pub fn form<'a>(sms: &OutboundSms<'a>) -> Vec<(&'static str, &'a str)> {
    let sender = if sms.from.starts_with("MG") {
        "MessagingServiceSid"
    } else {
        "From"
    };
    let mut fields = vec![
        ("To", sms.to.as_str()),
        (sender, sms.from),
        ("Body", sms.body.text()),
    ];
    if let Some(url) = sms.status_callback {
        fields.push(("StatusCallback", url));
    }
    fields
}

/// POST with HTTP Basic `AccountSid:AuthToken`.
pub fn build(
    http: &reqwest::Client,
    config: &Config,
    sms: &OutboundSms<'_>,
) -> reqwest::RequestBuilder {
    http.post(config.messages_url())
        .basic_auth(&config.account_sid, Some(config.auth_token.expose()))
        .form(&form(sms))
}
