//! Building the application from settings, and running it until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::config::{CarrierProfile, Settings, redact_url};
use crate::http::{self, AppState};
use crate::store::{Store, StoreError};
use crate::telemetry;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the store at {url}: {source}")]
    Store { url: String, source: StoreError },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A bound, ready-to-run Floodgate: tests build one on port 0 and read its address.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Opens the store, binds the listener and migrates (retrying in the background if the database is down).
    pub async fn build(
        settings: Settings,
        carriers: Vec<CarrierProfile>,
    ) -> Result<Self, StartError> {
        let url = settings.database_url.as_str().to_owned();
        let store = Store::connect(&url)
            .await
            .map_err(|source| StartError::Store {
                url: redact_url(&url),
                source,
            })?;
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartError::Listen {
                    addr: settings.listen,
                    source,
                })?;
        let migrated = Arc::new(AtomicBool::new(false));
        spawn_migrations(store.clone(), migrated.clone());
        let state = AppState {
            store,
            metrics: telemetry::install_recorder(),
            settings: Arc::new(settings),
            carriers: Arc::new(carriers),
            migrated,
        };
        Ok(Self { listener, state })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The shared state, for tests and for commands that run beside the server.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Every route the application serves.
    pub fn router(state: AppState) -> Router {
        http::router(state)
    }

    /// Serves until `shutdown` resolves, drains in-flight requests, then closes the store.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.state.store.clone();
        let app = Self::router(self.state);
        let result = http::serve(self.listener, app, shutdown).await;
        store.close().await;
        result
    }
}

/// Migrates now, or keeps retrying with backoff while the database is unreachable.
fn spawn_migrations(store: Store, migrated: Arc<AtomicBool>) {
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(200);
        loop {
            match store.migrate().await {
                Ok(()) => {
                    migrated.store(true, Ordering::Release);
                    tracing::info!(backend = ?store.backend(), "store migrated");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?delay, "store not ready; will retry migrations");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    });
}
