//! Telnyx webhook signatures (§2.3): Ed25519 over the bytes `timestamp + "|" + raw body`,
//! base64 in `telnyx-signature-ed25519`, the Unix-seconds timestamp in `telnyx-timestamp`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};

/// The header carrying the base64 64-byte signature.
pub const TELNYX_SIGNATURE_HEADER: &str = "telnyx-signature-ed25519";
/// The header carrying the signed Unix timestamp, verbatim.
pub const TELNYX_TIMESTAMP_HEADER: &str = "telnyx-timestamp";

/// The base64 public key for `seed`, which a receiver configures to verify our webhooks.
pub fn telnyx_public_key(seed: &[u8; 32]) -> String {
    STANDARD.encode(SigningKey::from_bytes(seed).verifying_key().as_bytes())
}

/// Signs `timestamp|body` as Telnyx does; returns the header value (base64).
pub fn telnyx_signature(seed: &[u8; 32], timestamp: &str, body: &[u8]) -> String {
    let mut signed = Vec::with_capacity(timestamp.len() + 1 + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'|');
    signed.extend_from_slice(body);
    STANDARD.encode(SigningKey::from_bytes(seed).sign(&signed).to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1 TEST 1 secret, the seed of the reference vector.
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

    /// carriers-reference §10: the Telnyx vector (RFC 8032 TEST 1 seed, 376-byte body).
    const BODY: &str = r#"{"data":{"event_type":"message.received","id":"b301ed3f-1490-491f-995f-6e64e69674d4","occurred_at":"2023-11-14T22:13:20.000+00:00","payload":{"id":"84cca175-9755-4859-b67f-4730d7f58aa3","text":"STOP","from":{"phone_number":"+13125550001"},"to":[{"phone_number":"+17735550002"}]},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://example.com/webhooks/telnyx"}}"#;

    #[test]
    fn matches_the_reference_vector() {
        assert_eq!(BODY.len(), 376);
        let seed: [u8; 32] = hex::decode(SEED)
            .unwrap_or_default()
            .try_into()
            .unwrap_or([0; 32]);
        assert_eq!(
            telnyx_public_key(&seed),
            "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        );
        assert_eq!(
            telnyx_signature(&seed, "1700000000", BODY.as_bytes()),
            "kwwESFrJEYJYf3msMouVklTTp3CZBbSF6WFlr2yXUoIsI8IV9jg/BoDP4E4RphA9E2hYf/FDHqS03LAimghZAw=="
        );
    }
}
