//! Twilio Programmable Messaging: form-encoded webhooks signed with HMAC-SHA1 of the URL and
//! fields; sends are form POSTs with Basic auth, answered 201 or a JSON error with a numeric code.

mod classify;
pub mod client;
pub mod config;
mod request;
pub mod signature;
pub mod webhook;

#[cfg(test)]
mod outbound_tests;

pub use client::Client;
pub use webhook::{map_status, parse};
