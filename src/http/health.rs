//! Liveness and readiness, for load balancers and orchestrators.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

use super::AppState;
use crate::telemetry::metrics::{BUS_UP, STORE_UP};

/// The process is up and serving HTTP; says nothing about its dependencies.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready to accept work: the store answers and is migrated, and the broker (if any) is connected;
/// 503 otherwise, so traffic goes elsewhere.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let store = match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) if state.is_migrated() => "ok",
        Ok(Ok(())) => "migrating",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: store unreachable");
            "unreachable"
        }
        Err(_) => "timeout",
    };
    metrics::gauge!(STORE_UP).set(if store == "ok" { 1.0 } else { 0.0 });
    // A broker outage is survivable (ingest falls back to the outbox), but this instance should
    // not be preferred while it lasts.
    let bus = if state.ingest.bus().is_ready() {
        "ok"
    } else {
        "disconnected"
    };
    metrics::gauge!(BUS_UP).set(if bus == "ok" { 1.0 } else { 0.0 });
    let up = store == "ok" && bus == "ok";
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let overall = if up { "ready" } else { "unavailable" };
    (
        status,
        Json(json!({ "status": overall, "checks": { "store": store, "bus": bus } })),
    )
}
