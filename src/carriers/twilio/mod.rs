//! Twilio Programmable Messaging: form-encoded webhooks signed with HMAC-SHA1 of the URL and fields.

pub mod signature;
pub mod webhook;

pub use webhook::{map_status, parse};
