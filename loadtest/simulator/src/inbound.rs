//! Signed Twilio inbound webhooks, so tests and `floodgate demo` can play the members
//! who text JOIN or STOP to a leader's number.

use crate::carriers::twilio::{API_VERSION, form_request};
use crate::segments;
use crate::signing::TWILIO_SIGNATURE_HEADER;

/// A webhook ready to POST: the body is form-encoded and signed for exactly `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedWebhook {
    /// Where to post it; the signature covers this exact string.
    pub url: String,
    /// `application/x-www-form-urlencoded`.
    pub content_type: &'static str,
    /// `("X-Twilio-Signature", base64 signature)`.
    pub signature_header: (&'static str, String),
    /// The form body.
    pub body: String,
}

impl SignedWebhook {
    /// The POST a carrier would make, on `client`, ready to `send()`.
    pub fn request(self, client: &reqwest::Client) -> reqwest::RequestBuilder {
        client
            .post(&self.url)
            .header("content-type", self.content_type)
            .header(self.signature_header.0, self.signature_header.1)
            .body(self.body)
    }
}

/// An inbound SMS as Twilio posts it (§1.2), signed with `auth_token` for `public_url`,
/// the URL as the receiver sees itself (the one it verifies against).
pub fn signed_twilio_inbound(
    public_url: &str,
    auth_token: &str,
    message_sid: &str,
    from: &str,
    to: &str,
    body: &str,
) -> SignedWebhook {
    let params = [
        ("MessageSid", message_sid.to_owned()),
        ("SmsSid", message_sid.to_owned()),
        ("SmsMessageSid", message_sid.to_owned()),
        ("From", from.to_owned()),
        ("To", to.to_owned()),
        ("Body", body.to_owned()),
        ("NumMedia", "0".to_owned()),
        ("NumSegments", segments::count(body).to_string()),
        ("SmsStatus", "received".to_owned()),
        ("ApiVersion", API_VERSION.to_owned()),
    ];
    signed_twilio_form(public_url, auth_token, &params)
}

/// Any form webhook signed the Twilio way, for cases the inbound helper does not cover
/// (extra parameters such as `AccountSid`, or status callbacks).
pub fn signed_twilio_form(
    public_url: &str,
    auth_token: &str,
    params: &[(&str, String)],
) -> SignedWebhook {
    let request = form_request(public_url, auth_token, params);
    let signature = request
        .headers
        .into_iter()
        .find(|(name, _)| *name == TWILIO_SIGNATURE_HEADER)
        .map(|(_, value)| value)
        .unwrap_or_default();
    SignedWebhook {
        url: request.url,
        content_type: request.content_type,
        signature_header: (TWILIO_SIGNATURE_HEADER, signature),
        body: request.body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::verify_twilio_signature;

    #[test]
    fn the_signature_covers_the_url_and_the_posted_form() {
        let url = "http://127.0.0.1:8080/webhooks/twilio/inbound";
        let hook = signed_twilio_inbound(
            url,
            "tok",
            "SM1",
            "+15550001111",
            "+15552223333",
            "JOIN now & then",
        );
        assert_eq!(hook.signature_header.0, "X-Twilio-Signature");
        let form: Vec<(String, String)> =
            serde_urlencoded::from_str(&hook.body).unwrap_or_default();
        assert!(form.contains(&("Body".to_owned(), "JOIN now & then".to_owned())));
        assert!(verify_twilio_signature(
            "tok",
            url,
            &form,
            &hook.signature_header.1
        ));
        assert!(!verify_twilio_signature(
            "tok",
            "http://127.0.0.1:8081/webhooks/twilio/inbound",
            &form,
            &hook.signature_header.1
        ));
    }
}
