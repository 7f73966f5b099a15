//! Telnyx signs `timestamp|raw body` with Ed25519; we hold only the portal's public key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::carriers::fields::is_fresh;
use crate::carriers::webhook::{SignatureFailure, WebhookRequest};

/// Base64 of the 64-byte Ed25519 signature.
pub const SIGNATURE_HEADER: &str = "telnyx-signature-ed25519";
/// Unix seconds, as text; signed verbatim, so never re-format it.
pub const TIMESTAMP_HEADER: &str = "telnyx-timestamp";

/// Decodes the portal's public key (base64 of 32 bytes); config can call this at startup.
pub fn parse_public_key(base64_key: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = STANDARD.decode(base64_key.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// The public key (base64) that verifies what [`sign`] produces with `seed`; for the simulator.
pub fn public_key(signing_key_seed: &[u8; 32]) -> String {
    STANDARD.encode(
        SigningKey::from_bytes(signing_key_seed)
            .verifying_key()
            .as_bytes(),
    )
}

/// Signs like Telnyx (base64 signature over `ts|body`), for the carrier simulator and tests.
pub fn sign(signing_key_seed: &[u8; 32], ts: i64, body: &[u8]) -> String {
    let key = SigningKey::from_bytes(signing_key_seed);
    STANDARD.encode(key.sign(&signed_bytes(&ts.to_string(), body)).to_bytes())
}

/// Verifies the signature, then the 300 s window, so `Stale` means "genuine but old" (replay or skew).
pub fn verify(
    request: &WebhookRequest<'_>,
    public_key_base64: &str,
    now: DateTime<Utc>,
) -> Result<(), SignatureFailure> {
    let key = parse_public_key(public_key_base64).ok_or(SignatureFailure::NotConfigured)?;
    let signature = request.signature_header(SIGNATURE_HEADER)?;
    let timestamp = request.signature_header(TIMESTAMP_HEADER)?;
    let signature = STANDARD
        .decode(signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or(SignatureFailure::Invalid)?;
    // Strict: also refuses small-order keys and malleable signatures, which Telnyx never produces.
    key.verify_strict(&signed_bytes(timestamp, request.body), &signature)
        .map_err(|_| SignatureFailure::Invalid)?;
    let ts: i64 = timestamp.parse().map_err(|_| SignatureFailure::Invalid)?;
    if is_fresh(ts, now) {
        Ok(())
    } else {
        Err(SignatureFailure::Stale)
    }
}

fn signed_bytes(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(timestamp.len() + 1 + body.len());
    bytes.extend_from_slice(timestamp.as_bytes());
    bytes.push(b'|');
    bytes.extend_from_slice(body);
    bytes
}

#[cfg(test)]
#[path = "signature_tests.rs"]
pub(crate) mod tests;
