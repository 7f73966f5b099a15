//! Twilio Programmable Messaging: form-encoded webhooks signed with HMAC-SHA1 of the URL and
//! fields; sends are form POSTs with Basic auth, answered 201 or a JSON error with a numeric code.

pub(crate) mod classify;
pub mod config;
pub(crate) mod request;
pub mod signature;
pub mod webhook;

#[cfg(test)]
mod outbound_tests;

pub use webhook::{map_status, parse};
