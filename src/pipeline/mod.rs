//! The staged pipeline, in Broadway's words.
//!
//! # Layout
//! - `processor`: bounded workers pulling from a producer (a bus consumer).
//! - `batcher`: groups results for one database round trip, by size or timeout.
//! - `acknowledger`: settles each delivery once its effect is durable.

mod acknowledger;
mod batcher;
mod processor;

pub use batcher::{BatchConfig, BatchError, Batcher, Trigger};
pub use processor::{Processor, StageConfig, spawn_stage};
