//! The bus inside the store: queues are rows, so a crash loses nothing here either.
//!
//! A consumer leases visible rows (pushing their `visible_at_ms` past the lease), keeps
//! the leases of in-flight items alive with a heartbeat, and deletes a row when its
//! work is acknowledged. A crashed process's leases simply expire and the rows are
//! delivered again; a single embedded instance also releases them at start.

mod ack;
mod consumer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, broadcast};

use super::{BusError, ConsumeOptions, Consumer, QueueDepth, QueueName, RetryPolicy};
use crate::store::Store;

use ack::AckCommits;
pub use ack::EmbeddedAck;

/// Knobs of the embedded bus.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedConfig {
    /// Retry and dead-letter policy.
    pub retry: RetryPolicy,
    /// How long a leased item stays invisible without a heartbeat; bounds redelivery after a crash.
    pub lease: Duration,
    /// Longest sleep between polls of an empty queue (delayed items become visible at this resolution).
    pub max_idle: Duration,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            lease: Duration::from_secs(30),
            max_idle: Duration::from_millis(100),
        }
    }
}

/// Work queues kept in the store's `queue_items` table; cheap to clone.
#[derive(Clone)]
pub struct EmbeddedBus {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: EmbeddedConfig,
    /// Wakes a queue's consumers as soon as something is published to it.
    wakers: Mutex<HashMap<String, Arc<Notify>>>,
    /// Events stay in-process when embedded: observers (the demo, tests) subscribe here.
    events: broadcast::Sender<(String, Bytes)>,
    /// Started by the first consumer (it needs a runtime; a bus may be built without one).
    acks: OnceLock<AckCommits>,
}

/// Milliseconds since the Unix epoch: the clock queue visibility is measured on.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl EmbeddedBus {
    /// A bus on `store`.
    pub fn new(store: Store, config: EmbeddedConfig) -> Self {
        let (events, _) = broadcast::channel(1024);
        Self {
            inner: Arc::new(Inner {
                store,
                config,
                wakers: Mutex::new(HashMap::new()),
                events,
                acks: OnceLock::new(),
            }),
        }
    }

    /// Makes items leased by a previous run visible at once; only safe when this is the only instance.
    pub async fn reclaim_leases(&self) -> Result<u64, BusError> {
        Ok(self.inner.store.release_all_leases(now_ms()).await?)
    }

    fn waker(&self, queue: &QueueName) -> Arc<Notify> {
        let mut wakers = self.inner.wakers.lock().unwrap_or_else(|e| e.into_inner());
        wakers.entry(queue.as_str().to_owned()).or_default().clone()
    }

    /// Inserts every payload in one transaction; durable when this returns.
    pub async fn publish(&self, queue: &QueueName, payloads: &[Bytes]) -> Result<(), BusError> {
        let slices: Vec<&[u8]> = payloads.iter().map(|p| p.as_ref()).collect();
        let now = now_ms();
        self.inner
            .store
            .enqueue(queue.as_str(), &slices, 1, now, now)
            .await?;
        self.waker(queue).notify_waiters();
        Ok(())
    }

    /// Inserts a row that becomes visible after `delay`.
    pub async fn publish_delayed(
        &self,
        queue: &QueueName,
        payload: Bytes,
        attempt: u32,
        delay: Duration,
    ) -> Result<(), BusError> {
        let now = now_ms();
        let visible = now + delay.as_millis() as i64;
        self.inner
            .store
            .enqueue(
                queue.as_str(),
                &[payload.as_ref()],
                attempt as i32,
                visible,
                now,
            )
            .await?;
        Ok(())
    }

    /// Starts a consumer task that leases rows as permits free up.
    pub async fn consume(
        &self,
        queue: &QueueName,
        options: ConsumeOptions,
    ) -> Result<Consumer, BusError> {
        let acks = self
            .inner
            .acks
            .get_or_init(|| ack::spawn_ack_commits(self.inner.store.clone()))
            .clone();
        Ok(consumer::spawn(
            self.inner.store.clone(),
            acks,
            self.inner.config,
            queue.clone(),
            options,
            self.waker(queue),
        ))
    }

    /// Events go to in-process subscribers only; nothing is archived without RabbitMQ.
    pub async fn publish_event(&self, routing_key: &str, payload: Bytes) -> Result<(), BusError> {
        let _ = self.inner.events.send((routing_key.to_owned(), payload));
        Ok(())
    }

    /// Subscribes to events published from now on.
    pub fn subscribe_events(&self) -> broadcast::Receiver<(String, Bytes)> {
        self.inner.events.subscribe()
    }

    /// Rows waiting or leased in `queue`, and how long the oldest visible row has waited.
    /// The dead-letter queue is the `dead_letters` table: its age is the oldest dead letter's.
    pub async fn depth(&self, queue: &QueueName) -> Result<QueueDepth, BusError> {
        let store = &self.inner.store;
        let (n, since_ms) = if *queue == QueueName::dead_letter() {
            store.dead_letter_stats().await?
        } else {
            let n = store.queue_depth(queue.as_str()).await?;
            (n, store.queue_head_visible_ms(queue.as_str()).await?)
        };
        let waited = since_ms.map_or(0, |since| now_ms().saturating_sub(since).max(0));
        Ok(QueueDepth {
            messages: n.max(0) as u64,
            oldest_age: Duration::from_millis(waited as u64),
        })
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.config.retry
    }
}
