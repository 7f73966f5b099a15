//! `floodgate-sim`: a carrier that Floodgate can be tested against.
//!
//! It speaks the send APIs of Twilio, Telnyx and Vonage (each account says which),
//! enforces per-account and per-sender token buckets and answers over-limit in each
//! carrier's own form, injects latency, server errors, hung requests, a 429 storm and
//! undelivered messages from a seeded RNG, posts status callbacks signed the way each
//! carrier signs them, records every request compactly, and reports how the client
//! behaved: duplicates, the densest one-second window against the limit, how fully the
//! limit was used, how it behaved in the storm, and whether priority recipients went
//! first. It does not depend on the `floodgate` crate, so it judges Floodgate from the
//! outside.
//!
//! # Layout
//! - [`config`]: accounts and their carrier, limits and faults ([`SimConfig`]).
//! - `faults`: latency distributions, hung requests and the storm window.
//! - `server`: the axum router and its shutdown.
//! - `carriers`: one module per carrier wire format (`twilio`, `telnyx`, `vonage`) behind
//!   one trait, plus `ids` for each carrier's message-id shape; the carrier-neutral
//!   decision lives in `engine`.
//! - `limiter`: token buckets. `segments`: GSM-7/UCS-2 segment counting.
//! - `callbacks`: the bounded queue and workers that post status callbacks.
//! - `record`: the compact request log ([`RecordedRequest`]).
//! - [`report`]: the conformance report, built on [`window`]'s sliding-window scan, with
//!   `storm` ([`StormReport`]) and `priority` ([`PriorityReport`]) sections.
//! - `control`: the `/sim/*` routes ([`ConfigPatch`]).
//! - [`signing`]: the three carriers' webhook signatures. [`inbound`]: signed inbound
//!   webhooks.

mod callbacks;
mod carriers;
pub mod config;
mod control;
mod engine;
mod faults;
pub mod inbound;
mod limiter;
mod priority;
mod record;
pub mod report;
mod segments;
mod server;
pub mod signing;
mod storm;
pub mod window;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use callbacks::CallbackReport;
pub use config::{
    Account, Carrier, Latency, SimConfig, Storm, Timeouts, Unit, VonageSignatureMethod,
};
pub use control::ConfigPatch;
pub use priority::{PriorityReport, PriorityRequest, Summary};
pub use record::{Outcome, RecordedRequest};
pub use report::{LimitReport, Report};
pub use storm::StormReport;

use engine::Shared;

/// Why the simulator could not start or take a change; callers branch on config vs I/O.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration or a runtime change contradicts itself.
    #[error("invalid simulator configuration: {0}")]
    InvalidConfig(String),
    /// The listen address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The HTTP client for callbacks could not be built (TLS setup).
    #[error("cannot build the callback HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Starts a simulator on `config.listen` and returns once it accepts connections.
pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    config.validate()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: config.listen,
        source,
    })?;
    let (stop, stopped) = watch::channel(false);
    let (callbacks, workers) = callbacks::spawn(
        config.callback_queue,
        config.callback_workers,
        stopped.clone(),
    )?;
    let shared = Arc::new(Shared::new(&config, callbacks, stopped.clone()));
    let server = server::serve(listener, shared.clone(), stopped);
    tracing::info!(%addr, "carrier simulator listening");
    Ok(SimHandle {
        addr,
        shared,
        stop,
        server,
        workers,
    })
}

/// A running simulator; dropping it without [`SimHandle::shutdown`] leaves it serving
/// until the runtime ends.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Flipped to `true` once, to stop the server and the callback workers.
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl SimHandle {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ip:port`, the API base a carrier profile points at.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The conformance report as of now (same as `GET /sim/report`).
    pub fn report(&self) -> Report {
        self.shared.report()
    }

    /// Every recorded send request, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests(None, usize::MAX)
    }

    /// Recorded send requests to one number.
    pub fn requests_to(&self, to: &str) -> Vec<RecordedRequest> {
        self.shared.requests(Some(to), usize::MAX)
    }

    /// Marks recipients as priority now (same as `POST /sim/priority`); the report's
    /// `priority` section measures how soon they were sent to. Returns the numbers that
    /// are not phone numbers (`+E.164`, or its digits).
    pub fn mark_priority<S: AsRef<str>>(&self, numbers: &[S]) -> Vec<String> {
        self.shared.mark_priority(numbers).1
    }

    /// Time on the simulator clock (since start or the last reset): the clock of
    /// `at_ms` in the record and of `storm_start_ms`.
    pub fn elapsed(&self) -> std::time::Duration {
        self.shared.elapsed()
    }

    /// Replaces the opted-out numbers (Twilio 21610, Telnyx 40300, Vonage status 7).
    pub fn set_optouts<I, S>(&self, numbers: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.shared
            .set_optouts(numbers.into_iter().map(Into::into).collect());
    }

    /// Changes limits or faults mid-run (same as `PUT /sim/config`).
    pub fn update_config(&self, patch: &ConfigPatch) -> Result<(), SimError> {
        self.shared.apply(patch)
    }

    /// Empties the record and refills the buckets (same as `POST /sim/reset`).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops accepting, lets in-flight requests finish, stops the callback workers
    /// (pending callbacks are abandoned), and returns the final report.
    pub async fn shutdown(self) -> Report {
        let _ = self.stop.send(true);
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "simulator server stopped with an error"),
            Err(error) => tracing::warn!(%error, "simulator server task failed"),
        }
        for worker in self.workers {
            let _ = worker.await;
        }
        self.shared.report()
    }
}
