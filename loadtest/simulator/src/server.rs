//! The axum router and its lifetime: carrier routes plus the `/sim/*` control plane,
//! served until the shutdown signal, which also stops the callback workers.

use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::carriers::{telnyx, twilio, vonage};
use crate::control;
use crate::engine::Shared;

/// Every route the simulator answers.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(twilio::routes())
        .merge(telnyx::routes())
        .merge(vonage::routes())
        .merge(control::routes())
        .with_state(shared)
}

/// Serves until `shutdown` turns true, then lets in-flight requests finish.
pub(crate) fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>> {
    let app = router(shared);
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                // An error means the handle is gone, which is also a reason to stop.
                let _ = shutdown.wait_for(|stop| *stop).await;
            })
            .await
    })
}
