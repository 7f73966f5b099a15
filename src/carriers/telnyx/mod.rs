//! Telnyx Messaging v2: JSON webhooks signed with Ed25519 over `timestamp|body`; sends are JSON
//! POSTs with a Bearer key, answered 200 or `{"errors":[…]}` with string codes.

pub(crate) mod classify;
pub mod config;
pub(crate) mod request;
pub mod signature;
pub mod webhook;

#[cfg(test)]
mod outbound_tests;

pub use request::REFERENCE_PARAM;
pub use webhook::{map_status, parse};
