//! Broadway's processors: a bounded number of workers pulling from one producer.
//!
//! Demand-driven: a worker slot is taken *before* the next delivery is pulled, so a
//! slow stage leaves work in the queue (the broker or the store), not in memory.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::acknowledger;
use crate::bus::{Bus, ConsumeOptions, Delivery, Outcome, QueueName};
use crate::telemetry::metrics::{STAGE_IN_FLIGHT, STAGE_RECEIVED_TOTAL};

/// One stage's handling of one delivery; the outcome decides the acknowledgement.
pub trait Processor: Send + Sync + 'static {
    /// The stage name in metrics and logs (`inbound`, `fanout`, `deliver`, `receipts`).
    fn stage(&self) -> &'static str;

    /// Does the work; returns only once its effect is durable (or it failed).
    fn process(&self, delivery: &Delivery) -> impl Future<Output = Outcome> + Send;
}

/// Where a stage pulls from and how many deliveries it works on at once.
#[derive(Debug, Clone)]
pub struct StageConfig {
    /// The producer: the queue this stage consumes.
    pub queue: QueueName,
    /// Prefetch and single-active-consumer settings for the producer.
    pub consume: ConsumeOptions,
    /// Processors working at once (≤ prefetch, or the extra prefetch is idle).
    pub concurrency: usize,
    /// A member waits on this stage's work: its writes go ahead of bulk work (SQLite's writer).
    pub transactional: bool,
}

/// Runs a stage until `shutdown`, then stops pulling and lets in-flight work finish and settle.
pub fn spawn_stage<P: Processor>(
    bus: Bus,
    config: StageConfig,
    processor: Arc<P>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let transactional = config.transactional;
    let stage = async move {
        let stage = processor.stage();
        let mut backoff = Duration::from_millis(100);
        let mut consumer = loop {
            match bus.consume(&config.queue, config.consume).await {
                Ok(consumer) => break consumer,
                Err(e) => {
                    tracing::warn!(stage, queue = %config.queue, error = %e, "cannot consume yet; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        };
        let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
        let mut workers = JoinSet::new();
        loop {
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => match slot { Ok(s) => s, Err(_) => break },
                () = shutdown.cancelled() => break,
            };
            let delivery = tokio::select! {
                d = consumer.next() => match d { Some(d) => d, None => break },
                () = shutdown.cancelled() => break,
            };
            metrics::counter!(STAGE_RECEIVED_TOTAL, "stage" => stage).increment(1);
            let processor = processor.clone();
            workers.spawn(crate::store::inherit(async move {
                let gauge = metrics::gauge!(STAGE_IN_FLIGHT, "stage" => stage);
                gauge.increment(1.0);
                let started = Instant::now();
                let outcome = processor.process(&delivery).await;
                acknowledger::settle(stage, delivery, outcome, started).await;
                gauge.decrement(1.0);
                drop(slot);
            }));
            while workers.try_join_next().is_some() {}
        }
        // Drain in Broadway's order: stop taking work, then let every processor finish and ack.
        consumer.cancel();
        while workers.join_next().await.is_some() {}
        tracing::info!(stage, "stage drained");
    };
    if transactional {
        tokio::spawn(crate::store::transactional(stage))
    } else {
        tokio::spawn(stage)
    }
}
