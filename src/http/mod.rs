//! The axum server: routes, health and readiness, metrics, errors, graceful shutdown.

mod health;
mod metrics;
mod problem;
mod server;
mod shutdown;
mod state;

pub use metrics::track_requests;
pub use problem::Problem;
pub use server::{router, serve};
pub use shutdown::shutdown_signal;
pub use state::{AppState, Clock};
