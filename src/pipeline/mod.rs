//! The staged pipeline, in Broadway's words.
//!
//! # Layout
//! - `processor`: bounded workers pulling from a producer (a bus consumer).
//! - `batcher`: groups results for one database round trip, by size or timeout.
//! - `acknowledger`: settles each delivery once its effect is durable.
//! - `ingest`: makes incoming work durable (broker confirm, or the outbox) before 2xx.
//! - `outbox`: forwards what ingest parked while the broker was away.
//! - `completion`: marks broadcasts whose every message is out as completed.
//! - `scheduler`: re-queues fan-outs of broadcasts that should have started.
//! - `part_sweep`: flushes long inbound texts whose parts never all came, forgets old ones.
//! - `throttle`: the hierarchical limits per carrier account (cap, sender, account, AIMD).
//! - `lanes`: which instance sends for a carrier account (a lease), and its runtime limits.
//! - `stages/`: the processors of inbound, fan-out, deliver and receipts.
//! - `runtime`: starts every stage and drains them in order (the terminator).

mod acknowledger;
mod batcher;
mod completion;
mod ingest;
mod lanes;
mod outbox;
mod part_sweep;
mod processor;
mod runtime;
mod scheduler;
pub mod stages;
mod throttle;

pub use batcher::{BatchConfig, BatchError, Batcher, Trigger};
pub use completion::spawn_completion;
pub use ingest::{Durable, Ingest, IngestError};
pub use outbox::{forward_once, spawn_forwarder};
pub use part_sweep::{FLUSH_AFTER, KEEP_COMPLETE, SweepError, spawn_part_sweep, sweep_parts_once};
pub use processor::{Processor, StageConfig, spawn_stage};
pub use runtime::Pipeline;
pub use scheduler::spawn_scheduler;
pub use throttle::{Admission, Grant, RequestSlots, Slot, Throttle};
