//! The carriers' webhook signatures, written from carriers-reference rather than borrowed
//! from the engine, so the simulator checks Floodgate independently.
//!
//! - [`twilio`]: `X-Twilio-Signature`, HMAC-SHA1 over the URL and sorted form (§1.4).
//! - [`telnyx`]: Ed25519 over `timestamp|body` (§2.3).
//! - [`vonage`]: `sig` over the sorted fields, MD5 or an HMAC (§3.3).

pub mod telnyx;
pub mod twilio;
pub mod vonage;

pub use telnyx::{
    TELNYX_SIGNATURE_HEADER, TELNYX_TIMESTAMP_HEADER, telnyx_public_key, telnyx_signature,
};
pub use twilio::{TWILIO_SIGNATURE_HEADER, twilio_signature, verify_twilio_signature};
pub use vonage::{VonageSignatureMethod, vonage_signature};
