//! Logging setup, error reports, every metric name with its labels and unit, and the tasks
//! that sample gauges.
//!
//! # Layout
//! - `error_chain`: an error and its causes on one line, each cause once.
//! - `metrics`: the catalogue (one constant and doc line per metric).
//! - `recorder`: the Prometheus recorder, histogram buckets, `# HELP` lines.
//! - `sampler`: queue depths and ages, the outbox, running broadcasts, every 2 s.
//! - `broadcasts`: the per-broadcast gauges, rendered beside the recorder's output.

pub mod broadcasts;
mod error_chain;
mod logging;
pub mod memory;
pub mod metrics;
mod recorder;
mod sampler;

pub use error_chain::ErrorChain;
pub use logging::init_logging;
pub use recorder::{install_recorder, prometheus_handle};
pub use sampler::{PERIOD as SAMPLE_PERIOD, spawn_sampler};
