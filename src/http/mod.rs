//! The axum server: routes, health and readiness, metrics, errors, graceful shutdown.
