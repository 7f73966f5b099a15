//! Logging setup and every metric name, with its labels and unit, in one place.

mod logging;
pub mod metrics;

pub use logging::init_logging;
pub use metrics::{install_recorder, prometheus_handle};
