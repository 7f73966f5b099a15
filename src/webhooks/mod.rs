//! The carrier-facing edge: `POST /webhooks/{carrier}/inbound` and `.../status`.
//!
//! Every request is verified before anything else; a verified payload is made durable
//! (ingest) before the 2xx, and answered in the form its carrier expects. A STOP also
//! unsubscribes its sender before that 2xx, so a queue backlog never delays it.

mod credentials;
mod handler;
mod numbers;
mod opt_out;
mod reply;

pub use credentials::{CarrierEdge, EdgeError, carrier_edges};
pub use handler::{MAX_BODY_BYTES, router};
pub use numbers::NumberDirectory;
