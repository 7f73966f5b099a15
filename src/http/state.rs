//! What every handler can reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::{CarrierProfile, Settings};
use crate::pipeline::Ingest;
use crate::store::Store;
use crate::webhooks::{CarrierEdge, NumberDirectory};

/// The wall clock, injectable so signature windows can be tested against fixed vectors.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database, SQLite or PostgreSQL.
    pub store: Store,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The settings the server started with.
    pub settings: Arc<Settings>,
    /// Carrier profiles by name, with their credentials.
    pub carriers: Arc<Vec<CarrierProfile>>,
    /// False until migrations have run; `/readyz` reports 503 until then.
    pub migrated: Arc<AtomicBool>,
    /// Makes incoming work durable before it is acknowledged.
    pub ingest: Ingest,
    /// Webhook verification per carrier profile name.
    pub edges: Arc<HashMap<String, CarrierEdge>>,
    /// Number to community, cached.
    pub numbers: NumberDirectory,
    /// Now, as signature windows see it.
    pub clock: Clock,
}

impl AppState {
    /// Whether migrations have completed.
    pub fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }

    /// The profile named `name`, e.g. `twilio`.
    pub fn carrier(&self, name: &str) -> Option<&CarrierProfile> {
        self.carriers.iter().find(|c| c.name == name)
    }
}
