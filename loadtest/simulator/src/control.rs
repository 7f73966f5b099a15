//! The `/sim/*` control plane: what tests and the load test use to read the record,
//! start over, and change the carrier's behaviour mid-run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::SimError;
use crate::config::{Latency, Storm, Unit};
use crate::engine::Shared;
use crate::record::{RecordedRequest, e164_digits};
use crate::report::Report;

/// A runtime change (`PUT /sim/config`); absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigPatch {
    /// The account to change; `None` changes every account.
    pub account_sid: Option<String>,
    /// Units per second; 0 = unlimited.
    pub rate: Option<f64>,
    /// Bucket size.
    pub burst: Option<f64>,
    /// What a unit is.
    pub unit: Option<Unit>,
    /// Per-sender units per second; 0 = unlimited.
    pub sender_rate: Option<f64>,
    /// Per-sender bucket size.
    pub sender_burst: Option<f64>,
    /// Fixed latency in ms (0 = none); overrides the distributions below.
    pub latency_ms: Option<u64>,
    /// Uniform latency lower bound in ms (with `latency_max_ms`).
    pub latency_min_ms: Option<u64>,
    /// Uniform latency upper bound in ms.
    pub latency_max_ms: Option<u64>,
    /// Log-normal latency median in ms (with `latency_p99_ms`).
    pub latency_p50_ms: Option<u64>,
    /// Log-normal latency 99th percentile in ms.
    pub latency_p99_ms: Option<u64>,
    /// Fraction answered as a server error (HTTP 500; Vonage status 5).
    pub failure_ratio: Option<f64>,
    /// Fraction of requests that hang before answering.
    pub timeout_ratio: Option<f64>,
    /// How long a hung request waits, in ms.
    pub timeout_hang_ms: Option<u64>,
    /// Storm start, ms on the simulator clock (`at_ms`); absent = now. Needs
    /// `storm_duration_ms`.
    pub storm_start_ms: Option<u64>,
    /// Storm length in ms; 0 removes the storm. Setting it replaces any earlier storm.
    pub storm_duration_ms: Option<u64>,
    /// Fraction of requests in the storm answered over-limit; default 1.
    pub storm_ratio: Option<f64>,
    /// Fraction finally `undelivered`.
    pub undelivered_ratio: Option<f64>,
    /// Delay before each callback, in ms.
    pub callback_delay_ms: Option<u64>,
    /// Whether callbacks are sent.
    pub callbacks: Option<bool>,
    /// Senders whose own queue at the carrier is full: every send from them is refused
    /// (Twilio 21611, Telnyx 40318, Vonage status 1). Replaces the set; empty clears it.
    pub full_senders: Option<Vec<String>>,
}

/// Body of `POST /sim/priority`.
#[derive(Debug, Deserialize)]
struct PriorityBody {
    numbers: Vec<String>,
}

/// Query of `GET /sim/requests`.
#[derive(Debug, Deserialize)]
struct RequestsQuery {
    to: Option<String>,
    limit: Option<usize>,
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sim/report", get(report))
        .route("/sim/requests", get(requests))
        .route("/sim/reset", post(reset))
        .route("/sim/config", put(config))
        .route("/sim/optouts", post(optouts))
        .route("/sim/priority", post(priority))
}

async fn report(State(shared): State<Arc<Shared>>) -> Json<Report> {
    Json(shared.report())
}

async fn requests(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<RequestsQuery>,
) -> Json<Vec<RecordedRequest>> {
    Json(shared.requests(q.to.as_deref(), q.limit.unwrap_or(usize::MAX)))
}

async fn reset(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.reset();
    StatusCode::NO_CONTENT
}

async fn config(State(shared): State<Arc<Shared>>, Json(patch): Json<ConfigPatch>) -> Response {
    match shared.apply(&patch) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            let body = json!({ "code": "invalid_config", "message": e.to_string() });
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
    }
}

async fn optouts(
    State(shared): State<Arc<Shared>>,
    Json(numbers): Json<Vec<String>>,
) -> Json<serde_json::Value> {
    let total = shared.add_optouts(numbers);
    Json(json!({ "opted_out": total }))
}

async fn priority(
    State(shared): State<Arc<Shared>>,
    Json(body): Json<PriorityBody>,
) -> Json<serde_json::Value> {
    let (marked, invalid) = shared.mark_priority(&body.numbers);
    Json(json!({ "marked": marked, "invalid": invalid }))
}

impl Shared {
    /// Marks recipients as priority now; returns how many are marked in all and the
    /// numbers that were not phone numbers.
    pub fn mark_priority<S: AsRef<str>>(&self, numbers: &[S]) -> (usize, Vec<String>) {
        let mut core = self.core();
        let now = core.now_us();
        let invalid = core.priority.mark(numbers, now);
        (core.priority.len(), invalid)
    }

    /// Time on the simulator clock (since start or the last reset).
    pub fn elapsed(&self) -> Duration {
        Duration::from_micros(self.core().now_us())
    }

    /// The report as of now.
    pub fn report(&self) -> Report {
        self.core().report(self.callbacks.counters.report())
    }

    /// Recorded requests in arrival order, optionally only those to one number.
    pub fn requests(&self, to: Option<&str>, limit: usize) -> Vec<RecordedRequest> {
        let core = self.core();
        let log = &core.log;
        let key = to.map(|to| e164_digits(to).map(Ok).unwrap_or(Err(to)));
        log.entries()
            .iter()
            .filter(|e| match &key {
                None => true,
                Some(Ok(digits)) => e.to == *digits,
                Some(Err(raw)) => log.to_string_of(e.to) == *raw,
            })
            .take(limit)
            .map(|e| log.readable(e))
            .collect()
    }

    /// Empties the record and refills every bucket.
    pub fn reset(&self) {
        self.core().reset();
        self.callbacks.counters.reset();
    }

    /// Replaces the opted-out set.
    pub fn set_optouts(&self, numbers: Vec<String>) {
        self.core().opted_out = numbers.into_iter().collect();
    }

    /// Adds numbers to the opted-out set; returns its size.
    pub fn add_optouts(&self, numbers: Vec<String>) -> usize {
        let mut core = self.core();
        core.opted_out.extend(numbers);
        core.opted_out.len()
    }

    /// Applies a runtime change, all or nothing.
    pub fn apply(&self, p: &ConfigPatch) -> Result<(), SimError> {
        let invalid = |m: &str| Err(SimError::InvalidConfig(m.to_owned()));
        let ratio_ok = |r: Option<f64>| r.is_none_or(|r| (0.0..=1.0).contains(&r));
        let non_negative = |r: Option<f64>| r.is_none_or(|r| r >= 0.0);
        if ![
            p.failure_ratio,
            p.undelivered_ratio,
            p.timeout_ratio,
            p.storm_ratio,
        ]
        .into_iter()
        .all(ratio_ok)
        {
            return invalid("ratios must be within 0..=1");
        }
        if ![p.rate, p.burst, p.sender_rate, p.sender_burst]
            .into_iter()
            .all(non_negative)
        {
            return invalid("rates and bursts must not be negative");
        }
        let uniform = match (p.latency_min_ms, p.latency_max_ms) {
            (Some(min), Some(max)) if min <= max => Some((min, max)),
            (None, None) => None,
            _ => return invalid("latency_min_ms and latency_max_ms go together, min <= max"),
        };
        let log_normal = match (p.latency_p50_ms, p.latency_p99_ms) {
            (Some(p50), Some(p99)) if 0 < p50 && p50 <= p99 => Some((p50, p99)),
            (None, None) => None,
            _ => return invalid("latency_p50_ms and latency_p99_ms go together, 0 < p50 <= p99"),
        };
        if uniform.is_some() && log_normal.is_some() {
            return invalid("choose one latency distribution: uniform or log-normal");
        }
        if p.storm_duration_ms.is_none() && (p.storm_start_ms.is_some() || p.storm_ratio.is_some())
        {
            return invalid("a storm needs storm_duration_ms (0 removes it)");
        }
        let mut core = self.core();
        if let Some(sid) = &p.account_sid
            && !core.accounts.iter().any(|a| a.account.sid == *sid)
        {
            return invalid("unknown account_sid");
        }
        let now = Instant::now();
        let mut changed_senders = Vec::new();
        for (idx, a) in core.accounts.iter_mut().enumerate() {
            if p.account_sid
                .as_ref()
                .is_some_and(|sid| *sid != a.account.sid)
            {
                continue;
            }
            let acc = &mut a.account;
            acc.rate = p.rate.unwrap_or(acc.rate);
            acc.burst = p.burst.unwrap_or(acc.burst);
            acc.unit = p.unit.unwrap_or(acc.unit);
            acc.sender_rate = p.sender_rate.unwrap_or(acc.sender_rate);
            acc.sender_burst = p.sender_burst.unwrap_or(acc.sender_burst);
            a.bucket.reconfigure(acc.rate, acc.burst, now);
            changed_senders.push((idx, acc.sender_rate, acc.sender_burst));
        }
        for ((idx, _), bucket) in core.senders.iter_mut() {
            if let Some(&(_, rate, burst)) = changed_senders.iter().find(|c| c.0 == *idx) {
                bucket.reconfigure(rate, burst, now);
            }
        }
        match (p.latency_ms, uniform) {
            (Some(0), _) => core.latency = Latency::None,
            (Some(ms), _) => core.latency = Latency::Fixed(Duration::from_millis(ms)),
            (None, Some((min, max))) => {
                core.latency = Latency::Uniform {
                    min: Duration::from_millis(min),
                    max: Duration::from_millis(max),
                }
            }
            (None, None) => {
                if let Some((p50, p99)) = log_normal {
                    core.latency = Latency::LogNormal {
                        p50: Duration::from_millis(p50),
                        p99: Duration::from_millis(p99),
                    };
                }
            }
        }
        core.timeouts.ratio = p.timeout_ratio.unwrap_or(core.timeouts.ratio);
        if let Some(ms) = p.timeout_hang_ms {
            core.timeouts.hang = Duration::from_millis(ms);
        }
        match p.storm_duration_ms {
            Some(0) => core.storm = None,
            Some(ms) => {
                let start = match p.storm_start_ms {
                    Some(at) => Duration::from_millis(at),
                    None => core.started.elapsed(),
                };
                core.storm = Some(Storm {
                    start,
                    duration: Duration::from_millis(ms),
                    ratio: p.storm_ratio.unwrap_or(1.0),
                });
            }
            None => {}
        }
        core.failure_ratio = p.failure_ratio.unwrap_or(core.failure_ratio);
        core.undelivered_ratio = p.undelivered_ratio.unwrap_or(core.undelivered_ratio);
        if let Some(ms) = p.callback_delay_ms {
            core.callback_delay = Duration::from_millis(ms);
        }
        core.callbacks_enabled = p.callbacks.unwrap_or(core.callbacks_enabled);
        if let Some(senders) = &p.full_senders {
            core.full_senders = senders.iter().cloned().collect();
        }
        Ok(())
    }
}
