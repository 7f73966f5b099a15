//! Status callbacks: `sent`, then `delivered` or `undelivered`, posted to the client in
//! the account's carrier format (Vonage: one DLR per part, each counted).
//!
//! Bounded on purpose: a queue of fixed size and a fixed number of worker tasks. When the
//! queue is full the callback is dropped and counted, so a slow receiver never slows the
//! send API (a real carrier does not wait for you either). A connection error is retried
//! once; any other failure is counted and forgotten.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::JoinHandle;

use crate::carriers::{CallbackRequest, DeliveryStatus, Message, Wire};
use crate::config::Account;

/// Builds the signed requests for one status; supplied by the carrier module.
type Build = fn(&Message, DeliveryStatus, &str, &Account) -> Vec<CallbackRequest>;

/// One callback waiting for its time.
pub(crate) struct CallbackJob {
    due: Instant,
    status: DeliveryStatus,
    delay: Duration,
    message: Arc<Message>,
    url: String,
    /// The account's keys (Twilio token, Telnyx seed, Vonage secret).
    keys: Arc<Account>,
    build: Build,
}

impl CallbackJob {
    /// The `sent` callback, due `delay` after the send was answered.
    pub fn first<C: Wire>(
        message: Arc<Message>,
        url: String,
        keys: Arc<Account>,
        answered_at: Instant,
        delay: Duration,
    ) -> Self {
        Self {
            due: answered_at + delay,
            status: DeliveryStatus::Sent,
            delay,
            message,
            url,
            keys,
            build: C::status_callbacks,
        }
    }

    fn next(self) -> Option<Self> {
        (self.status == DeliveryStatus::Sent).then(|| Self {
            due: Instant::now() + self.delay,
            status: self.message.outcome,
            ..self
        })
    }
}

/// Counters for the report; atomics because workers and handlers update them concurrently.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    retried: AtomicU64,
}

/// Callback totals in the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CallbackReport {
    /// Callbacks answered 2xx.
    pub sent: u64,
    /// Callbacks answered otherwise, or unreachable after the retry.
    pub failed: u64,
    /// Callbacks never attempted because the queue was full.
    pub dropped: u64,
    /// Connection errors retried once.
    pub retried: u64,
}

impl Counters {
    pub fn report(&self) -> CallbackReport {
        CallbackReport {
            sent: self.sent.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
        }
    }

    pub fn reset(&self) {
        for c in [&self.sent, &self.failed, &self.dropped, &self.retried] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// The producer side, held by the send path.
pub(crate) struct Callbacks {
    tx: mpsc::Sender<CallbackJob>,
    pub counters: Arc<Counters>,
}

impl Callbacks {
    /// Enqueues without waiting; a full queue drops the job and counts it.
    pub fn enqueue(&self, job: CallbackJob) {
        enqueue(&self.tx, &self.counters, job);
    }
}

fn enqueue(tx: &mpsc::Sender<CallbackJob>, counters: &Counters, job: CallbackJob) {
    if tx.try_send(job).is_err() {
        counters.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// Creates the queue, its dispatcher and `workers` sender tasks; all stop when
/// `shutdown` turns true.
///
/// The dispatcher takes jobs in queue order and waits for each one's due time, so
/// waiting costs no worker; jobs are due in roughly the order they were queued (the
/// delay is one setting), and a job queued behind a later-due one is late by at most
/// the difference, which latency jitter bounds.
pub(crate) fn spawn(
    capacity: usize,
    workers: usize,
    shutdown: watch::Receiver<bool>,
) -> Result<(Callbacks, Vec<JoinHandle<()>>), reqwest::Error> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()?;
    let (tx, rx) = mpsc::channel(capacity);
    let (ready_tx, ready_rx) = mpsc::channel(workers);
    let ready_rx = Arc::new(Mutex::new(ready_rx));
    let counters = Arc::new(Counters::default());
    let mut handles = vec![tokio::spawn(dispatch(rx, ready_tx, shutdown.clone()))];
    handles.extend((0..workers).map(|_| {
        let worker = Worker {
            ready: ready_rx.clone(),
            tx: tx.clone(),
            client: client.clone(),
            counters: counters.clone(),
        };
        tokio::spawn(worker.run(shutdown.clone()))
    }));
    Ok((Callbacks { tx, counters }, handles))
}

async fn dispatch(
    mut rx: mpsc::Receiver<CallbackJob>,
    ready: mpsc::Sender<CallbackJob>,
    mut shutdown: watch::Receiver<bool>,
) {
    let forward = async {
        while let Some(job) = rx.recv().await {
            tokio::time::sleep_until(job.due.into()).await;
            if ready.send(job).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        () = forward => {}
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
}

struct Worker {
    ready: Arc<Mutex<mpsc::Receiver<CallbackJob>>>,
    /// To requeue the final status after `sent`; `try_send`, so it never blocks.
    tx: mpsc::Sender<CallbackJob>,
    client: reqwest::Client,
    counters: Arc<Counters>,
}

impl Worker {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let work = async {
            loop {
                let job = self.ready.lock().await.recv().await;
                let Some(job) = job else { return };
                self.deliver(&job).await;
                if let Some(next) = job.next() {
                    enqueue(&self.tx, &self.counters, next);
                }
            }
        };
        tokio::select! {
            () = work => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    }

    async fn deliver(&self, job: &CallbackJob) {
        for request in (job.build)(&job.message, job.status, &job.url, &job.keys) {
            self.deliver_one(&request).await;
        }
    }

    async fn deliver_one(&self, request: &CallbackRequest) {
        let mut outcome = self.post(request).await;
        if matches!(&outcome, Err(e) if e.is_connect()) {
            self.counters.retried.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
            outcome = self.post(request).await;
        }
        let counter = match outcome {
            Ok(status) if status.is_success() => &self.counters.sent,
            Ok(status) => {
                tracing::debug!(%status, url = %request.url, "callback refused");
                &self.counters.failed
            }
            Err(error) => {
                tracing::debug!(%error, url = %request.url, "callback failed");
                &self.counters.failed
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    async fn post(&self, request: &CallbackRequest) -> Result<reqwest::StatusCode, reqwest::Error> {
        let mut builder = self
            .client
            .post(&request.url)
            .header(reqwest::header::CONTENT_TYPE, request.content_type)
            .body(request.body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        Ok(builder.send().await?.status())
    }
}
