//! Vonage SMS API: webhooks by GET, form or JSON, signed with a `sig` field over the other fields.

pub mod signature;
pub mod webhook;

pub use signature::SignatureMethod;
pub use webhook::{map_status, parse};
