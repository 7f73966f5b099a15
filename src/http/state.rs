//! What every handler can reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::{CarrierProfile, Settings};
use crate::store::Store;

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
