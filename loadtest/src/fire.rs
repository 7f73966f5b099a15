//! The webhook load generator: a fixed list of signed webhooks, posted by a bounded number
//! of workers, optionally paced to a target rate, stopping at the list's end or a deadline.
//!
//! When paced, latency is measured from each webhook's scheduled time, not from when a
//! worker got round to it, so a slow engine cannot hide its queueing by slowing the
//! generator down (coordinated omission).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use floodgate_sim::inbound::SignedWebhook;
use indicatif::ProgressBar;

use crate::latency::Latencies;

/// How to fire.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Webhooks per second; `None` as fast as the workers go.
    pub rate: Option<f64>,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Nothing is sent after this instant.
    pub deadline: Instant,
}

/// What happened to one webhook.
#[derive(Debug, Clone, Copy)]
pub struct Shot {
    /// When it was (or was scheduled to be) sent.
    pub sent_at: Instant,
    /// When the answer arrived.
    pub answered_at: Instant,
    /// Answered 2xx.
    pub accepted: bool,
}

/// Everything the generator saw.
#[derive(Debug, Default)]
pub struct Volley {
    /// One entry per planned webhook; `None` when the deadline came first.
    pub shots: Vec<Option<Shot>>,
    /// Latencies of accepted webhooks.
    pub latencies: Latencies,
    /// Failures by kind (`http 503`, `timeout`, `connect`, ...).
    pub errors: BTreeMap<String, u64>,
    /// From the first send to the last answer.
    pub elapsed: Duration,
}

impl Volley {
    /// Webhooks answered 2xx.
    pub fn accepted(&self) -> u64 {
        self.shots.iter().flatten().filter(|s| s.accepted).count() as u64
    }

    /// Webhooks never sent (deadline).
    pub fn unsent(&self) -> u64 {
        self.shots.iter().filter(|s| s.is_none()).count() as u64
    }
}

/// A client for hammering one loopback server: keep-alive, HTTP/1.1, short timeouts.
pub fn client(concurrency: usize) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(concurrency)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
}

fn error_kind(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".into()
    } else if error.is_connect() {
        "connect".into()
    } else {
        "transport".into()
    }
}

struct WorkerResult {
    shots: Vec<(usize, Shot)>,
    latencies: Latencies,
    errors: BTreeMap<String, u64>,
}

/// Posts every webhook once (bounded by the list and the deadline).
pub async fn fire(
    client: reqwest::Client,
    hooks: Arc<Vec<SignedWebhook>>,
    pace: Pace,
    bar: ProgressBar,
) -> Volley {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..pace.concurrency.max(1))
        .map(|_| {
            let (client, hooks, next, bar) =
                (client.clone(), hooks.clone(), next.clone(), bar.clone());
            tokio::spawn(async move {
                let mut out = WorkerResult {
                    shots: Vec::new(),
                    latencies: Latencies::new(),
                    errors: BTreeMap::new(),
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(hook) = hooks.get(i) else { break };
                    let scheduled = match pace.rate {
                        Some(rate) if rate > 0.0 => {
                            let at = started + Duration::from_secs_f64(i as f64 / rate);
                            tokio::time::sleep_until(at.into()).await;
                            at
                        }
                        _ => Instant::now(),
                    };
                    if Instant::now() >= pace.deadline {
                        break;
                    }
                    let result = hook.clone().request(&client).send().await;
                    let answered_at = Instant::now();
                    let accepted = match result {
                        Ok(r) if r.status().is_success() => true,
                        Ok(r) => {
                            *out.errors
                                .entry(format!("http {}", r.status().as_u16()))
                                .or_default() += 1;
                            false
                        }
                        Err(e) => {
                            *out.errors.entry(error_kind(&e)).or_default() += 1;
                            false
                        }
                    };
                    if accepted {
                        out.latencies.record(answered_at - scheduled);
                    }
                    out.shots.push((
                        i,
                        Shot {
                            sent_at: scheduled,
                            answered_at,
                            accepted,
                        },
                    ));
                    bar.inc(1);
                }
                out
            })
        })
        .collect();
    let mut volley = Volley {
        shots: vec![None; hooks.len()],
        ..Volley::default()
    };
    for worker in workers {
        let Ok(result) = worker.await else {
            *volley.errors.entry("worker panicked".into()).or_default() += 1;
            continue;
        };
        for (i, shot) in result.shots {
            volley.shots[i] = Some(shot);
        }
        volley.latencies.merge(&result.latencies);
        for (kind, n) in result.errors {
            *volley.errors.entry(kind).or_default() += n;
        }
    }
    let last = volley
        .shots
        .iter()
        .flatten()
        .map(|s| s.answered_at)
        .max()
        .unwrap_or(started);
    volley.elapsed = last - started;
    volley
}
