//! Broadway's batcher: groups items by key into one round trip, by size or by timeout.
//!
//! A submitter waits for its item's result, so a processor acknowledges its work only
//! after the batch holding its effect has been written. The input channel is bounded:
//! when the batch handler falls behind, submitters wait (back-pressure).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Why a submitted item has no result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BatchError {
    #[error("the batch failed: {0}")]
    Failed(String),
    #[error("the batcher has stopped")]
    Stopped,
}

/// What triggered a flush, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Size,
    Timeout,
    Drain,
}

/// How big and how old a batch may get.
#[derive(Debug, Clone, Copy)]
pub struct BatchConfig {
    /// Flush as soon as a key holds this many items.
    pub size: usize,
    /// Flush a key's items this long after its first item arrived.
    pub timeout: Duration,
    /// Items waiting to be batched before submitters wait.
    pub capacity: usize,
}

type Reply<R> = oneshot::Sender<Result<R, BatchError>>;

/// Submits items to the batching task; cloning shares it. Dropping every clone drains and stops it.
pub struct Batcher<K, T, R> {
    tx: mpsc::Sender<(K, T, Reply<R>)>,
}

impl<K, T, R> std::fmt::Debug for Batcher<K, T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").finish_non_exhaustive()
    }
}

impl<K, T, R> Clone for Batcher<K, T, R> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

struct Pending<T, R> {
    items: Vec<(T, Reply<R>)>,
    deadline: Instant,
}

impl<K, T, R> Batcher<K, T, R>
where
    K: Eq + Hash + Clone + Send + 'static,
    T: Send + 'static,
    R: Send + 'static,
{
    /// Starts the batching task; `handle(key, items, trigger)` returns one result per item, in order.
    pub fn spawn<F, Fut>(config: BatchConfig, handle: F) -> (Self, JoinHandle<()>)
    where
        F: Fn(K, Vec<T>, Trigger) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<R>, String>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(config.capacity.max(1));
        let task = tokio::spawn(run(config, rx, handle));
        (Self { tx }, task)
    }

    /// Adds `item` to `key`'s batch and waits until that batch has been handled.
    pub async fn submit(&self, key: K, item: T) -> Result<R, BatchError> {
        let (reply, result) = oneshot::channel();
        self.tx
            .send((key, item, reply))
            .await
            .map_err(|_| BatchError::Stopped)?;
        result.await.map_err(|_| BatchError::Stopped)?
    }
}

async fn run<K, T, R, F, Fut>(
    config: BatchConfig,
    mut rx: mpsc::Receiver<(K, T, Reply<R>)>,
    handle: F,
) where
    K: Eq + Hash + Clone,
    F: Fn(K, Vec<T>, Trigger) -> Fut,
    Fut: Future<Output = Result<Vec<R>, String>>,
{
    let mut pending: HashMap<K, Pending<T, R>> = HashMap::new();
    loop {
        let next_deadline = pending.values().map(|p| p.deadline).min();
        let received = match next_deadline {
            Some(deadline) => tokio::select! {
                item = rx.recv() => Some(item),
                () = tokio::time::sleep_until(deadline) => None,
            },
            None => Some(rx.recv().await),
        };
        match received {
            Some(Some(first)) => {
                // Take everything already waiting, not just the first item: with a zero
                // timeout this is group commit (each flush carries what arrived during the last).
                // At most `capacity` per round, so other keys' deadlines are looked at too.
                let mut next = Some(first);
                let mut taken = 0;
                while let Some((key, item, reply)) = next {
                    taken += 1;
                    let batch = pending.entry(key.clone()).or_insert_with(|| Pending {
                        items: Vec::new(),
                        deadline: Instant::now() + config.timeout,
                    });
                    batch.items.push((item, reply));
                    if batch.items.len() >= config.size {
                        if let Some(batch) = pending.remove(&key) {
                            flush(&handle, key, batch.items, Trigger::Size).await;
                        }
                    }
                    next = if taken < config.capacity {
                        rx.try_recv().ok()
                    } else {
                        None
                    };
                }
                // Deadlines that passed while we drained or flushed are due now.
                flush_due(&handle, &mut pending).await;
            }
            Some(None) => {
                for (key, batch) in pending.drain() {
                    flush(&handle, key, batch.items, Trigger::Drain).await;
                }
                return;
            }
            None => flush_due(&handle, &mut pending).await,
        }
    }
}

/// Flushes every key whose deadline has passed.
async fn flush_due<K, T, R, F, Fut>(handle: &F, pending: &mut HashMap<K, Pending<T, R>>)
where
    K: Eq + Hash + Clone,
    F: Fn(K, Vec<T>, Trigger) -> Fut,
    Fut: Future<Output = Result<Vec<R>, String>>,
{
    let now = Instant::now();
    let due: Vec<K> = pending
        .iter()
        .filter(|(_, p)| p.deadline <= now)
        .map(|(k, _)| k.clone())
        .collect();
    for key in due {
        if let Some(batch) = pending.remove(&key) {
            flush(handle, key, batch.items, Trigger::Timeout).await;
        }
    }
}

async fn flush<K, T, R, F, Fut>(handle: &F, key: K, items: Vec<(T, Reply<R>)>, trigger: Trigger)
where
    F: Fn(K, Vec<T>, Trigger) -> Fut,
    Fut: Future<Output = Result<Vec<R>, String>>,
{
    let (values, replies): (Vec<T>, Vec<Reply<R>>) = items.into_iter().unzip();
    let expected = replies.len();
    let outcome = handle(key, values, trigger).await;
    match outcome {
        Ok(results) if results.len() == expected => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
        }
        Ok(results) => {
            let message = format!(
                "batch handler returned {} results for {expected} items",
                results.len()
            );
            for reply in replies {
                let _ = reply.send(Err(BatchError::Failed(message.clone())));
            }
        }
        Err(message) => {
            for reply in replies {
                let _ = reply.send(Err(BatchError::Failed(message.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex as StdMutex};

    use super::*;

    type Log = Arc<StdMutex<Vec<(u8, Vec<u32>, Trigger)>>>;

    fn batcher(size: usize, timeout_ms: u64) -> (Batcher<u8, u32, u32>, JoinHandle<()>, Log) {
        let log: Log = Arc::default();
        let seen = log.clone();
        let config = BatchConfig {
            size,
            timeout: Duration::from_millis(timeout_ms),
            capacity: 64,
        };
        let (b, task) = Batcher::spawn(config, move |key, items: Vec<u32>, trigger| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push((key, items.clone(), trigger));
                Ok(items.iter().map(|i| i * 10).collect())
            }
        });
        (b, task, log)
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_flushes_at_once_and_answers_each_submitter() {
        let (b, _task, log) = batcher(3, 1_000);
        let results = futures::future::join_all((1..=3).map(|i| b.submit(7, i))).await;
        assert_eq!(
            results.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            [10, 20, 30]
        );
        assert_eq!(
            log.lock().unwrap().as_slice(),
            &[(7, vec![1, 2, 3], Trigger::Size)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_partial_batch_flushes_after_the_timeout() {
        let (b, _task, log) = batcher(100, 50);
        let started = Instant::now();
        assert_eq!(b.submit(1, 4).await.unwrap(), 40);
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(log.lock().unwrap()[0].2, Trigger::Timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn with_a_zero_timeout_what_is_waiting_flushes_together() {
        let (b, _task, log) = batcher(100, 0);
        let results = futures::future::join_all((1..=5).map(|i| b.submit(2, i))).await;
        assert_eq!(results.len(), 5);
        assert_eq!(
            log.lock().unwrap().as_slice(),
            &[(2, vec![1, 2, 3, 4, 5], Trigger::Timeout)],
            "one flush for everything that was queued"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn keys_are_batched_separately() {
        let (b, _task, log) = batcher(2, 1_000);
        let (a, c, d, e) = tokio::join!(
            b.submit(1, 1),
            b.submit(2, 2),
            b.submit(1, 3),
            b.submit(2, 4)
        );
        assert_eq!(
            (a.unwrap(), c.unwrap(), d.unwrap(), e.unwrap()),
            (10, 20, 30, 40)
        );
        let mut batches: Vec<_> = log
            .lock()
            .unwrap()
            .iter()
            .map(|(k, items, _)| (*k, items.clone()))
            .collect();
        batches.sort();
        assert_eq!(batches, [(1, vec![1, 3]), (2, vec![2, 4])]);
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_batcher_drains_what_is_pending() {
        let (b, task, log) = batcher(100, 60_000);
        let (reply, result) = oneshot::channel();
        b.tx.send((3, 9, reply)).await.unwrap();
        drop(b);
        task.await.unwrap();
        assert_eq!(result.await.unwrap().unwrap(), 90);
        assert_eq!(log.lock().unwrap()[0].2, Trigger::Drain);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_batch_fails_every_item() {
        let config = BatchConfig {
            size: 2,
            timeout: Duration::from_millis(10),
            capacity: 4,
        };
        let (b, _task) = Batcher::spawn(config, |_k: (), _items: Vec<u8>, _t| async {
            Err::<Vec<u8>, _>("disk full".to_owned())
        });
        let (x, y) = tokio::join!(b.submit((), 1), b.submit((), 2));
        assert!(matches!(x, Err(BatchError::Failed(m)) if m == "disk full"));
        assert!(y.is_err());
    }
}
