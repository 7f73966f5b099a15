//! Building the application from settings, and running it until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use crate::bus::{Bus, BusError, EmbeddedBus, EmbeddedConfig, RabbitBus, RabbitConfig};
use crate::config::{CarrierProfile, Settings, redact_url};
use crate::http::{self, AppState, Clock};
use crate::pipeline::{Ingest, Pipeline};
use crate::store::{Backend, Store, StoreError};
use crate::telemetry;
use crate::webhooks::{self, EdgeError, NumberDirectory, carrier_edges};

/// Why the application could not start.
///
/// Each variant's message ends with its cause's own message, and the cause is not also offered
/// as `source()`: a report that walks the chain (`{:#}`) then prints each cause once.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the store at {url}: {cause}")]
    Store { url: String, cause: StoreError },
    #[error("cannot listen on {addr}: {cause}")]
    Listen {
        addr: SocketAddr,
        cause: std::io::Error,
    },
    #[error("cannot set up the broker: {0}")]
    Bus(BusError),
    /// Already names the profile and the variable; transparent so a report prints it once.
    #[error(transparent)]
    Webhooks(#[from] EdgeError),
}

impl From<BusError> for StartError {
    fn from(cause: BusError) -> Self {
        Self::Bus(cause)
    }
}

/// A bound, ready-to-run Floodgate: tests build one on port 0 and read its address.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    pipeline: Arc<Mutex<Option<Pipeline>>>,
}

impl Application {
    /// Opens the store and the bus, binds the listener, and starts migrating and then the pipeline
    /// in the background (the server answers `/readyz` 503 until both are up).
    pub async fn build(
        settings: Settings,
        carriers: Vec<CarrierProfile>,
    ) -> Result<Self, StartError> {
        Self::build_with(settings, carriers, true).await
    }

    /// Like [`Application::build`]; `run_pipeline = false` serves the edge only (the work waits in its queues).
    pub async fn build_with(
        settings: Settings,
        carriers: Vec<CarrierProfile>,
        run_pipeline: bool,
    ) -> Result<Self, StartError> {
        // A bad webhook credential would refuse every carrier call: refuse the start instead.
        let edges = Arc::new(carrier_edges(&carriers)?);
        let url = settings.database_url.as_str().to_owned();
        let store = Store::connect(&url)
            .await
            .map_err(|cause| StartError::Store {
                url: redact_url(&url),
                cause,
            })?;
        let bus = match &settings.amqp_url {
            Some(amqp) => Bus::Rabbit(
                RabbitBus::connect(RabbitConfig {
                    url: amqp.clone(),
                    retry: settings.pipeline.retry_policy(),
                    publish_timeout: Duration::from_secs(5),
                })
                .await?,
            ),
            None => Bus::Embedded(EmbeddedBus::new(
                store.clone(),
                EmbeddedConfig {
                    retry: settings.pipeline.retry_policy(),
                    lease: Duration::from_millis(settings.pipeline.embedded_lease_ms),
                    ..EmbeddedConfig::default()
                },
            )),
        };
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|cause| StartError::Listen {
                    addr: settings.listen,
                    cause,
                })?;
        let clock: Clock = Arc::new(chrono::Utc::now);
        let state = AppState {
            store: store.clone(),
            metrics: telemetry::install_recorder(),
            edges,
            numbers: NumberDirectory::new(store.clone()),
            ingest: Ingest::new(bus.clone(), store.clone()),
            clock,
            carriers: Arc::new(carriers),
            settings: Arc::new(settings),
            migrated: Arc::new(AtomicBool::new(false)),
        };
        let pipeline = Arc::new(Mutex::new(None));
        spawn_startup(state.clone(), bus, run_pipeline, pipeline.clone());
        Ok(Self {
            listener,
            state,
            pipeline,
        })
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

    /// Every route the application serves; anything else is a problem+json 404 or 405.
    pub fn router(state: AppState) -> Router {
        http::router(state.clone())
            .merge(webhooks::router(state.clone()))
            .merge(crate::api::router(state))
            // After every merge: it applies to the routes registered so far.
            .method_not_allowed_fallback(http::method_not_allowed)
            .fallback(http::not_found)
    }

    /// Serves until `shutdown` resolves; then stops accepting, drains the pipeline, closes the store.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.state.store.clone();
        let app = Self::router(self.state);
        let result = http::serve(self.listener, app, shutdown).await;
        if let Some(pipeline) = self.pipeline.lock().await.take() {
            pipeline.drain().await;
        }
        store.close().await;
        result
    }
}

/// Migrates (retrying while the database is unreachable), then starts the pipeline.
fn spawn_startup(
    state: AppState,
    bus: Bus,
    run_pipeline: bool,
    slot: Arc<Mutex<Option<Pipeline>>>,
) {
    tokio::spawn(async move {
        let store = state.store.clone();
        let mut delay = Duration::from_millis(200);
        loop {
            match store.migrate().await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?delay, "store not ready; will retry migrations");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
        tracing::info!(backend = ?store.backend(), "store migrated");
        if let Bus::Embedded(embedded) = &bus {
            // One embedded instance owns the SQLite file: whatever a previous run held is free now.
            if store.backend() == Backend::Sqlite {
                match (
                    embedded.reclaim_leases().await,
                    store.release_all_claims().await,
                ) {
                    (Ok(items), Ok(claims)) if items + claims > 0 => {
                        tracing::info!(
                            items,
                            claims,
                            "recovered work left in flight by the previous run"
                        )
                    }
                    (Err(e), _) => tracing::warn!(error = %e, "cannot reclaim queue leases"),
                    (_, Err(e)) => tracing::warn!(error = %e, "cannot release message claims"),
                    _ => {}
                }
            }
        }
        if run_pipeline {
            let pipeline = Pipeline::start(
                &state.settings.pipeline,
                store,
                bus,
                &state.carriers,
                &state.settings.public_url,
            );
            *slot.lock().await = Some(pipeline);
        }
        state.migrated.store(true, Ordering::Release);
    });
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::StartError;

    #[test]
    fn a_start_error_says_its_cause_once() {
        let e = StartError::Listen {
            addr: ([127, 0, 0, 1], 8080).into(),
            cause: std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use"),
        };
        assert!(e.source().is_none(), "the cause is in the message only");
        let report = crate::telemetry::ErrorChain(&e).to_string();
        assert_eq!(
            report,
            "cannot listen on 127.0.0.1:8080: Address already in use"
        );
    }
}
