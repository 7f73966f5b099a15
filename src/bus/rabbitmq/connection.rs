//! The connection manager: one background task connects, declares the topology, and
//! reconnects with capped, jittered backoff whenever the connection dies.
//!
//! Everything else reads the current [`Link`] from a `watch` channel and never waits for a
//! connection when publishing: no link means `Unavailable`, so the caller uses the outbox.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lapin::options::ConfirmSelectOptions;
use lapin::uri::AMQPUri;
use lapin::{Channel, Connection, ConnectionProperties};
use rand::Rng;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::topology;
use crate::bus::{BusError, QueueName};

/// How long one connection attempt may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Heartbeat asked for when the URL names none: a silently dead peer (no TCP reset) is noticed
/// after two missed beats instead of the broker's default 60 s.
const DEFAULT_HEARTBEAT_SECS: u16 = 10;
/// How often the manager double-checks the connection status besides lapin's `on_error`.
const STATUS_POLL: Duration = Duration::from_secs(1);
/// First reconnect delay; doubles per failure up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between reconnect attempts.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Exponential backoff with jitter on the upper half, capped at [`MAX_BACKOFF`].
pub(super) fn backoff(failures: u32) -> Duration {
    let exp = BASE_BACKOFF.saturating_mul(1u32 << failures.saturating_sub(1).min(10));
    exp.min(MAX_BACKOFF)
        .mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
}

/// One live connection with its shared channels; replaced as a whole on reconnect.
pub(super) struct Link {
    /// Counts connections since start, for logs.
    pub(super) generation: u64,
    pub(super) conn: Connection,
    /// Cancelled as soon as anyone learns the connection is dead.
    broken: CancellationToken,
    /// The shared publishing channel, in confirm mode; recreated when a channel error closed it.
    publisher: tokio::sync::Mutex<Option<Channel>>,
    /// The channel for declarations, kept apart so a refused declaration cannot close the publisher.
    topology: tokio::sync::Mutex<Option<Channel>>,
    /// Broker-side names declared on this connection.
    declared: Mutex<HashSet<String>>,
}

impl Link {
    /// Whether this connection can still be used.
    pub(super) fn is_alive(&self) -> bool {
        !self.broken.is_cancelled() && self.conn.status().connected()
    }

    /// Turns a lapin error into a bus error; a dead connection wakes the manager to reconnect.
    pub(super) fn classify(&self, err: lapin::Error) -> BusError {
        if self.conn.status().connected() {
            BusError::Broker(err.to_string())
        } else {
            self.broken.cancel();
            BusError::Unavailable(err.to_string())
        }
    }

    /// The confirm-mode publishing channel; lapin channels are safe to share between tasks.
    pub(super) async fn publisher(&self) -> Result<Channel, BusError> {
        let mut slot = self.publisher.lock().await;
        if let Some(channel) = slot.as_ref().filter(|c| c.status().connected()) {
            return Ok(channel.clone());
        }
        let channel = self
            .conn
            .create_channel()
            .await
            .map_err(|e| self.classify(e))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| self.classify(e))?;
        *slot = Some(channel.clone());
        Ok(channel)
    }

    /// The declaration channel.
    pub(super) async fn topology_channel(&self) -> Result<Channel, BusError> {
        let mut slot = self.topology.lock().await;
        if let Some(channel) = slot.as_ref().filter(|c| c.status().connected()) {
            return Ok(channel.clone());
        }
        let channel = self
            .conn
            .create_channel()
            .await
            .map_err(|e| self.classify(e))?;
        *slot = Some(channel.clone());
        Ok(channel)
    }

    fn is_declared(&self, name: &str) -> bool {
        self.declared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(name)
    }

    fn mark_declared(&self, name: String) {
        self.declared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name);
    }

    /// Forgets a declaration (the queue may have been deleted), so the next use declares it again.
    pub(super) fn forget_queue(&self, queue: &QueueName) {
        self.declared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&topology::queue_name(queue));
    }

    /// Declares a work queue once per connection.
    pub(super) async fn ensure_queue(&self, queue: &QueueName) -> Result<(), BusError> {
        let name = topology::queue_name(queue);
        if self.is_declared(&name) {
            return Ok(());
        }
        let channel = self.topology_channel().await?;
        topology::declare_work_queue(&channel, queue)
            .await
            .map_err(|e| self.classify(e))?;
        self.mark_declared(name);
        Ok(())
    }

    /// Declares the delay queue of `queue` for `bucket` once per connection.
    pub(super) async fn ensure_delay_queue(
        &self,
        queue: &QueueName,
        bucket: Duration,
    ) -> Result<(), BusError> {
        let name = topology::delay_queue_name(queue, bucket);
        if self.is_declared(&name) {
            return Ok(());
        }
        self.ensure_queue(queue).await?;
        let channel = self.topology_channel().await?;
        topology::declare_delay_queue(&channel, queue, bucket)
            .await
            .map_err(|e| self.classify(e))?;
        self.mark_declared(name);
        Ok(())
    }
}

/// The state shared by every clone of the bus and by the manager task.
pub(super) struct Manager {
    link: watch::Receiver<Option<Arc<Link>>>,
    /// Work queues used so far, redeclared on every reconnect.
    known: Arc<Mutex<BTreeSet<QueueName>>>,
    /// Stops the manager task when the bus is dropped.
    stop: CancellationToken,
}

impl Manager {
    /// Checks the URL, then starts the background task; returns at once, connected or not.
    pub(super) fn start(url: &str) -> Result<Self, BusError> {
        let mut uri: AMQPUri = url
            .parse()
            .map_err(|e| BusError::Broker(format!("invalid AMQP URL: {e}")))?;
        uri.query.heartbeat.get_or_insert(DEFAULT_HEARTBEAT_SECS);
        let (tx, link) = watch::channel(None);
        let known = Arc::new(Mutex::new(BTreeSet::new()));
        let stop = CancellationToken::new();
        tokio::spawn(run(uri, tx, Arc::clone(&known), stop.clone()));
        Ok(Self { link, known, stop })
    }

    /// The live link, if any.
    pub(super) fn current(&self) -> Option<Arc<Link>> {
        self.link
            .borrow()
            .as_ref()
            .filter(|l| l.is_alive())
            .cloned()
    }

    /// The live link, or `Unavailable` at once.
    pub(super) fn require(&self) -> Result<Arc<Link>, BusError> {
        self.current()
            .ok_or_else(|| BusError::Unavailable("not connected to RabbitMQ".into()))
    }

    /// Waits for a live link (consumers resubscribe with it after a reconnect).
    pub(super) async fn wait(&self) -> Arc<Link> {
        let mut rx = self.link.clone();
        loop {
            if let Some(link) = rx.borrow_and_update().as_ref().filter(|l| l.is_alive()) {
                return Arc::clone(link);
            }
            if rx.changed().await.is_err() {
                // The manager is gone (bus dropped): nothing will ever connect again.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Remembers a work queue so it is redeclared after reconnects.
    pub(super) fn remember(&self, queue: &QueueName) {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(queue.clone());
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn run(
    uri: AMQPUri,
    tx: watch::Sender<Option<Arc<Link>>>,
    known: Arc<Mutex<BTreeSet<QueueName>>>,
    stop: CancellationToken,
) {
    let mut failures = 0u32;
    let mut generation = 0u64;
    while !stop.is_cancelled() {
        match connect(&uri, generation + 1, &known).await {
            Ok(link) => {
                generation = link.generation;
                failures = 0;
                tracing::info!(generation, "connected to RabbitMQ");
                tx.send_replace(Some(Arc::clone(&link)));
                watch_until_broken(&link, &stop).await;
                tx.send_replace(None);
                link.broken.cancel();
                if stop.is_cancelled() {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(1),
                        link.conn.close(200, "shutdown"),
                    )
                    .await;
                    return;
                }
                tracing::warn!(generation, "lost the RabbitMQ connection; reconnecting");
            }
            Err(err) => tracing::warn!(error = %err, failures, "cannot connect to RabbitMQ"),
        }
        failures = failures.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(backoff(failures)) => {}
            _ = stop.cancelled() => return,
        }
    }
}

async fn connect(
    uri: &AMQPUri,
    generation: u64,
    known: &Mutex<BTreeSet<QueueName>>,
) -> Result<Arc<Link>, String> {
    let properties = ConnectionProperties::default().with_connection_name("floodgate".into());
    let conn = tokio::time::timeout(
        CONNECT_TIMEOUT,
        Connection::connect_uri(uri.clone(), properties),
    )
    .await
    .map_err(|_| format!("no connection within {CONNECT_TIMEOUT:?}"))?
    .map_err(|e| e.to_string())?;
    let link = Arc::new(Link {
        generation,
        conn,
        broken: CancellationToken::new(),
        publisher: tokio::sync::Mutex::new(None),
        topology: tokio::sync::Mutex::new(None),
        declared: Mutex::new(HashSet::new()),
    });
    let broken = link.broken.clone();
    link.conn.on_error(move |err| {
        tracing::warn!(error = %err, "RabbitMQ connection error");
        broken.cancel();
    });
    let declared = async {
        let channel = link.topology_channel().await?;
        topology::declare_base(&channel)
            .await
            .map_err(|e| link.classify(e))?;
        let queues: Vec<QueueName> = known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        for queue in &queues {
            link.ensure_queue(queue).await?;
        }
        link.publisher().await.map(drop)
    };
    if let Err(err) = declared.await {
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            link.conn.close(200, "topology failed"),
        )
        .await;
        return Err(format!("declaring the topology failed: {err}"));
    }
    Ok(link)
}

async fn watch_until_broken(link: &Link, stop: &CancellationToken) {
    loop {
        tokio::select! {
            _ = link.broken.cancelled() => return,
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(STATUS_POLL) => {
                if !link.conn.status().connected() {
                    return;
                }
            }
        }
    }
}
