//! What the edge needs per carrier profile: its adapter and its webhook credentials.

use std::collections::HashMap;

use crate::carriers::vonage::SignatureMethod;
use crate::carriers::{CarrierKind, WebhookCredentials};
use crate::config::CarrierProfile;

/// A carrier profile as the webhook edge sees it.
#[derive(Debug, Clone)]
pub struct CarrierEdge {
    /// Which wire format and signature scheme the profile speaks.
    pub kind: CarrierKind,
    /// Secrets and keys to verify its webhooks; missing ones refuse every request.
    pub credentials: WebhookCredentials,
}

/// One edge per profile, keyed by profile name (the `{carrier}` in the route).
pub fn carrier_edges(profiles: &[CarrierProfile]) -> HashMap<String, CarrierEdge> {
    profiles
        .iter()
        .filter_map(|p| {
            let kind = CarrierKind::parse(&p.adapter)?;
            let method = p
                .secret("signature_method")
                .and_then(|m| SignatureMethod::parse(m.expose()))
                .unwrap_or_default();
            let credentials = WebhookCredentials {
                twilio_auth_token: p.secret("auth_token").cloned(),
                telnyx_public_key: p.secret("public_key").map(|k| k.expose().to_owned()),
                vonage_signature_secret: p.secret("signature_secret").cloned(),
                vonage_signature_method: method,
            };
            Some((p.name.clone(), CarrierEdge { kind, credentials }))
        })
        .collect()
}
