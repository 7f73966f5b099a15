//! The router and the serve loop.

use std::future::Future;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

use super::{AppState, health, metrics};

/// The operational routes; the webhook and API routers are merged in by the caller.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .with_state(state)
}

/// Serves `app` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::from_fn(metrics::track_requests));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
