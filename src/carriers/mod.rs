//! One adapter per carrier, each in its own folder with the same files.
//!
//! # Layout
//! - `webhook.rs`: what every carrier's webhook becomes ([`WebhookEvent`]) and why one is refused.
//! - `verify.rs`: [`verify_and_parse`], the single entry point: signature first, then meaning.
//! - `fields.rs`, `mac.rs`: helpers the adapters share (form fields, clock window, HMAC).
//! - `twilio/`, `telnyx/`, `vonage/`: per carrier, `signature.rs` (verify, and `sign` for the
//!   simulator) and `webhook.rs` (parse the wire format); for sending, `config.rs` (credentials
//!   from a profile), `request.rs` (the HTTP request) and `classify.rs` (the answer as a
//!   [`SendOutcome`]).
//! - `outbound.rs`: [`OutboundSms`] and [`SendOutcome`], the deliver stage's view of any carrier.
//! - `client.rs`: [`CarrierClient`], one pooled HTTP client plus the adapter a profile names.
//! - `transport.rs`: the shared HTTP plumbing: timeouts, bounded reads, transport errors.
//! - `fixture_server.rs` (tests): a loopback carrier that records requests and replays answers.

pub mod client;
mod fields;
#[cfg(test)]
mod fixture_server;
mod mac;
pub mod outbound;
pub mod telnyx;
mod transport;
pub mod twilio;
mod verify;
pub mod vonage;
pub mod webhook;

pub use client::{CarrierClient, ClientError};
pub use outbound::{OutboundSms, SendOutcome};
pub use transport::Timeouts;
pub use verify::{WebhookCredentials, verify_and_parse};
pub use webhook::{
    CarrierKind, ConcatPart, InboundSms, SignatureFailure, StatusReport, WebhookError,
    WebhookEvent, WebhookRequest, WebhookRoute,
};
