//! Vonage SMS API: webhooks by GET, form or JSON, signed with a `sig` field over the other
//! fields; sends are form POSTs with the key and secret inside, answered HTTP 200 even on failure.

pub(crate) mod classify;
pub mod config;
pub(crate) mod request;
pub mod signature;
pub mod webhook;

#[cfg(test)]
mod outbound_tests;

pub use classify::THROTTLE_BACKOFF;
pub use request::MAX_CLIENT_REF;
pub use signature::SignatureMethod;
pub use webhook::{map_status, parse};
