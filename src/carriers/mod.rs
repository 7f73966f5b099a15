//! One adapter per carrier, each in its own folder with the same files.
//!
//! # Layout
//! - `webhook.rs`: what every carrier's webhook becomes ([`WebhookEvent`]) and why one is refused.
//! - `verify.rs`: [`verify_and_parse`], the single entry point: signature first, then meaning.
//! - `fields.rs`, `mac.rs`: helpers the adapters share (form fields, clock window, HMAC).
//! - `twilio/`, `telnyx/`, `vonage/`: per carrier, `signature.rs` (verify, and `sign` for the
//!   simulator) and `webhook.rs` (parse the wire format); later `config.rs`, `request.rs`,
//!   `client.rs` and `classify.rs` for sending.

mod fields;
mod mac;
pub mod telnyx;
pub mod twilio;
mod verify;
pub mod vonage;
pub mod webhook;

pub use verify::{WebhookCredentials, verify_and_parse};
pub use webhook::{
    CarrierKind, ConcatPart, InboundSms, SignatureFailure, StatusReport, WebhookError,
    WebhookEvent, WebhookRequest, WebhookRoute,
};
