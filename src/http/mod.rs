//! The axum server: routes, health and readiness, metrics, errors, fallbacks, graceful shutdown.

mod fallback;
mod health;
mod metrics;
mod problem;
mod server;
mod shutdown;
mod state;

pub use fallback::{method_not_allowed, not_found};
pub use metrics::track_requests;
pub use problem::Problem;
pub use server::{router, serve};
pub use shutdown::shutdown_signal;
pub use state::{AppState, Clock};
