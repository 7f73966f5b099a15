//! The one entry point the webhook handlers call: check the signature, then read the payload.

use chrono::{DateTime, Utc};

use crate::carriers::vonage::SignatureMethod;
use crate::carriers::webhook::{
    CarrierKind, SignatureFailure, WebhookError, WebhookEvent, WebhookRequest, WebhookRoute,
};
use crate::carriers::{telnyx, twilio, vonage};
use crate::config::Secret;

/// What we need to trust each carrier's webhooks; a carrier without one is refused outright.
#[derive(Debug, Clone, Default)]
pub struct WebhookCredentials {
    /// The account's Auth Token (the primary one: Twilio signs with it).
    pub twilio_auth_token: Option<Secret>,
    /// The SharedKey secret Twilio signs with when a request carries
    /// `X-Twilio-Webhooks-Signature-Settings` (optional: without it the Auth Token is tried).
    pub twilio_shared_key: Option<Secret>,
    /// The portal's Ed25519 public key, base64 of 32 bytes; public, so not a `Secret`.
    pub telnyx_public_key: Option<String>,
    /// The dashboard's "signature secret" (not the API secret).
    pub vonage_signature_secret: Option<Secret>,
    /// Must match the dashboard's choice: a mismatch fails every webhook as `Invalid`.
    pub vonage_signature_method: SignatureMethod,
}

/// Verifies then parses; a body is only interpreted once its signature holds, so an unsigned
/// garbage body is a `Signature` error and a signed but unreadable one is `Malformed`. Text
/// fields come back without NUL characters (see [`WebhookEvent::without_nul`]).
pub fn verify_and_parse(
    kind: CarrierKind,
    route: WebhookRoute,
    request: &WebhookRequest<'_>,
    credentials: &WebhookCredentials,
    now: DateTime<Utc>,
) -> Result<WebhookEvent, WebhookError> {
    let not_configured = WebhookError::Signature(SignatureFailure::NotConfigured);
    let event = match kind {
        CarrierKind::Twilio => {
            let token = credentials
                .twilio_auth_token
                .as_ref()
                .ok_or(not_configured)?;
            let shared_key = credentials.twilio_shared_key.as_ref();
            twilio::signature::verify(request, token, shared_key)?;
            twilio::parse(route, request)
        }
        CarrierKind::Telnyx => {
            let key = credentials
                .telnyx_public_key
                .as_deref()
                .ok_or(not_configured)?;
            telnyx::signature::verify(request, key, now)?;
            telnyx::parse(route, request)
        }
        CarrierKind::Vonage => {
            let secret = credentials
                .vonage_signature_secret
                .as_ref()
                .ok_or(not_configured)?;
            vonage::signature::verify(request, secret, credentials.vonage_signature_method, now)?;
            vonage::parse(route, request)
        }
    }?;
    Ok(event.without_nul())
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "verify_props.rs"]
mod props;
