//! Telnyx Messaging v2: JSON webhooks signed with Ed25519 over `timestamp|body`.

pub mod signature;
pub mod webhook;

pub use webhook::{map_status, parse};
