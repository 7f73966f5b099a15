//! Events on the bus: generated protobuf types and the envelope that carries them.

mod envelope;

/// Generated from `proto/floodgate/v1/*.proto` by `build.rs`.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/floodgate.v1.rs"));
}

pub use envelope::{EnvelopeError, Event, open, seal, timestamp};
