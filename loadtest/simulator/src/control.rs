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
use crate::config::{Latency, Unit};
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
    /// Fixed latency in ms (0 = none); overrides `latency_min_ms`/`latency_max_ms`.
    pub latency_ms: Option<u64>,
    /// Uniform latency lower bound in ms (with `latency_max_ms`).
    pub latency_min_ms: Option<u64>,
    /// Uniform latency upper bound in ms.
    pub latency_max_ms: Option<u64>,
    /// Fraction answered 500.
    pub failure_ratio: Option<f64>,
    /// Fraction finally `undelivered`.
    pub undelivered_ratio: Option<f64>,
    /// Delay before each callback, in ms.
    pub callback_delay_ms: Option<u64>,
    /// Whether callbacks are sent.
    pub callbacks: Option<bool>,
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

impl Shared {
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
        if !ratio_ok(p.failure_ratio) || !ratio_ok(p.undelivered_ratio) {
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
            (None, None) => {}
        }
        core.failure_ratio = p.failure_ratio.unwrap_or(core.failure_ratio);
        core.undelivered_ratio = p.undelivered_ratio.unwrap_or(core.undelivered_ratio);
        if let Some(ms) = p.callback_delay_ms {
            core.callback_delay = Duration::from_millis(ms);
        }
        core.callbacks_enabled = p.callbacks.unwrap_or(core.callbacks_enabled);
        Ok(())
    }
}
