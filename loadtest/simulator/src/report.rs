//! The conformance report: how the client behaved, computed from the request log.
//!
//! Rate figures count every request that reached the simulator, whatever the answer,
//! because the promise in DESIGN.md is about what Floodgate sends, and a 429 was sent.
//! Outcomes are carrier-neutral ([`Outcome`]): a Vonage "Throttled" inside HTTP 200
//! counts as throttled.
//! "Accepted only" figures are given next to them; windows are half-open one-second
//! windows (see [`crate::window`]). Limits are the ones configured when the report is
//! made: a `PUT /sim/config` mid-run changes the yardstick for the whole run.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::callbacks::CallbackReport;
use crate::config::{Carrier, Unit};
use crate::engine::Core;
use crate::priority::{self, PriorityReport};
use crate::record::Outcome;
use crate::storm::{self, StormReport};
use crate::window::{ONE_SECOND_US, scan};

/// Everything `GET /sim/report` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Send requests received.
    pub total_requests: u64,
    /// Accepted (a message was created).
    pub accepted: u64,
    /// Given the carrier's over-limit answer (Twilio 429/20429, Telnyx 429/40318, Vonage
    /// status 1), by a bucket or the storm.
    pub throttled: u64,
    /// Given an injected server error.
    pub failed: u64,
    /// Refused otherwise (auth, invalid or opted-out recipient, missing fields).
    pub rejected: u64,
    /// Held past the timeout hang before being answered (whatever the answer).
    pub timed_out: u64,
    /// Rejections by carrier error code.
    pub rejected_by_code: BTreeMap<u16, u64>,
    /// Accepted sends repeating an earlier accepted (`To`, body) pair, across accounts.
    pub duplicates: u64,
    /// Distinct `To` among accepted sends.
    pub distinct_recipients: u64,
    /// Segments of accepted sends.
    pub accepted_segments: u64,
    /// First request, ms since start (or reset).
    pub first_request_ms: Option<f64>,
    /// Last request, ms since start (or reset).
    pub last_request_ms: Option<f64>,
    /// One entry per configured account.
    pub accounts: Vec<LimitReport>,
    /// One entry per (account, `From`) seen.
    pub senders: Vec<LimitReport>,
    /// Requests before, during and after the 429 storm, when one is configured.
    pub storm: Option<StormReport>,
    /// Whether marked recipients were sent to ahead of the others.
    pub priority: PriorityReport,
    /// Status callback totals.
    pub callbacks: CallbackReport,
    /// Heap bytes the request log holds, divided by the requests in it.
    pub record_bytes_per_request: f64,
}

/// Rate conformance for one account or one sender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitReport {
    /// The account SID.
    pub account_sid: String,
    /// The sender number; `None` for the account as a whole.
    pub from: Option<String>,
    /// The account's carrier.
    pub carrier: Carrier,
    /// What the limit counts.
    pub unit: Unit,
    /// Configured units per second; `None` when unlimited.
    pub rate: Option<f64>,
    /// Configured burst.
    pub burst: f64,
    /// Requests that reached the simulator (any answer).
    pub requests: u64,
    /// Of which accepted.
    pub accepted: u64,
    /// Of which throttled.
    pub throttled: u64,
    /// Of which given an injected server error.
    pub failed: u64,
    /// Accepted sends repeating an earlier accepted (`To`, body) pair (counted where the
    /// repeat was sent; the first send may have gone through another account or sender).
    pub duplicates: u64,
    /// Most requests in any one-second window.
    pub max_requests_1s: u64,
    /// Most accepted requests in any one-second window.
    pub max_accepted_1s: u64,
    /// Most units (requests or segments) in any one-second window.
    pub max_units_1s: u64,
    /// Windows (one ending at each request) holding more than `rate + burst` units.
    pub windows_over_limit: u64,
    /// Accepted units ÷ (`burst` + `rate` × seconds from first to last accepted): 1.0
    /// means sending as fast as the limit allows for the whole time there was work,
    /// assuming the client had a backlog throughout. `None` when unlimited or idle.
    pub utilisation: Option<f64>,
}

/// One request of an account or sender, as the rate figures need it.
#[derive(Clone, Copy)]
struct Point {
    at_us: u64,
    segments: u32,
    outcome: Outcome,
    duplicate: bool,
}

/// Requests of one account or sender, in time order.
#[derive(Default)]
struct Series(Vec<Point>);

impl Core {
    /// Builds the report; O(n) over the log plus the hash sets for duplicates.
    pub(crate) fn report(&self, callbacks: CallbackReport) -> Report {
        let entries = self.log.entries();
        let mut report = Report {
            total_requests: entries.len() as u64,
            accepted: 0,
            throttled: 0,
            failed: 0,
            rejected: 0,
            timed_out: 0,
            rejected_by_code: BTreeMap::new(),
            duplicates: 0,
            distinct_recipients: 0,
            accepted_segments: 0,
            first_request_ms: entries.first().map(|e| e.at_us as f64 / 1000.0),
            last_request_ms: entries.last().map(|e| e.at_us as f64 / 1000.0),
            accounts: Vec::new(),
            senders: Vec::new(),
            storm: self.storm.map(|s| storm::report(entries, s)),
            priority: priority::report(&self.log, &self.priority),
            callbacks,
            record_bytes_per_request: if entries.is_empty() {
                0.0
            } else {
                self.log.heap_bytes() as f64 / entries.len() as f64
            },
        };
        // A duplicate is the same message accepted twice: the same client message id when the
        // client sends one (two identical STOP confirmations to one member are two messages),
        // else the same body to the same recipient.
        let mut seen_ids = HashSet::new();
        let mut seen_pairs = HashSet::new();
        let mut recipients = HashSet::new();
        let mut by_account: HashMap<u32, Series> = HashMap::new();
        let mut by_sender: HashMap<(u32, u32), Series> = HashMap::new();
        for e in entries {
            let mut duplicate = false;
            match e.outcome() {
                Outcome::Accepted => {
                    report.accepted += 1;
                    report.accepted_segments += u64::from(e.segments);
                    recipients.insert(e.to);
                    duplicate = match self.log.client_id(e) {
                        Some(id) => !seen_ids.insert((e.account, id)),
                        None => !seen_pairs.insert((e.to, e.body_hash)),
                    };
                    report.duplicates += u64::from(duplicate);
                }
                Outcome::Throttled => report.throttled += 1,
                Outcome::Failed => report.failed += 1,
                Outcome::Rejected => {
                    report.rejected += 1;
                    *report.rejected_by_code.entry(e.code).or_default() += 1;
                }
            }
            report.timed_out += u64::from(e.timed_out());
            let point = Point {
                at_us: e.at_us,
                segments: u32::from(e.segments),
                outcome: e.outcome(),
                duplicate,
            };
            by_account.entry(e.account).or_default().0.push(point);
            by_sender
                .entry((e.account, e.from))
                .or_default()
                .0
                .push(point);
        }
        report.distinct_recipients = recipients.len() as u64;

        let by_account_sid: HashMap<&str, &Series> = by_account
            .iter()
            .map(|(k, v)| (self.log.name(*k), v))
            .collect();
        for a in &self.accounts {
            let series = by_account_sid.get(a.account.sid.as_str()).copied();
            let limit = (a.bucket.rate(), a.bucket.burst());
            report.accounts.push(limit_report(
                (&a.account.sid, None),
                a.account.carrier,
                a.account.unit,
                limit,
                series,
            ));
        }
        let mut senders: Vec<_> = by_sender.into_iter().collect();
        senders.sort_unstable_by_key(|((account, from), _)| (*account, *from));
        for ((account, from), series) in &senders {
            let sid = self.log.name(*account);
            let Some(a) = self.accounts.iter().find(|a| a.account.sid == sid) else {
                continue; // requests for unknown accounts have no sender limit to report
            };
            let limit = (a.account.sender_rate, a.account.sender_burst);
            let from = self.log.name(*from).to_owned();
            report.senders.push(limit_report(
                (sid, Some(from)),
                a.account.carrier,
                a.account.unit,
                limit,
                Some(series),
            ));
        }
        report
    }
}

fn limit_report(
    (account_sid, from): (&str, Option<String>),
    carrier: Carrier,
    unit: Unit,
    (rate, burst): (f64, f64),
    series: Option<&Series>,
) -> LimitReport {
    let empty = Series::default();
    let points = &series.unwrap_or(&empty).0;
    let limited = rate > 0.0;
    let units = |w: u32| if unit == Unit::Segments { w } else { 1 };
    let count = |outcome| points.iter().filter(|p| p.outcome == outcome).count() as u64;
    // The log is appended under the decision lock, so it is already in time order.
    let all: Vec<(u64, u32)> = points.iter().map(|p| (p.at_us, 1)).collect();
    let all_units: Vec<(u64, u32)> = points
        .iter()
        .map(|p| (p.at_us, units(p.segments)))
        .collect();
    let accepted: Vec<(u64, u32)> = points
        .iter()
        .filter(|p| p.outcome == Outcome::Accepted)
        .map(|p| (p.at_us, units(p.segments)))
        .collect();
    let accepted_ones: Vec<(u64, u32)> = accepted.iter().map(|&(t, _)| (t, 1)).collect();
    let limit = limited.then_some(rate + burst);
    let units_scan = scan(&all_units, ONE_SECOND_US, limit);
    LimitReport {
        account_sid: account_sid.to_owned(),
        from,
        carrier,
        unit,
        rate: limited.then_some(rate),
        burst,
        requests: points.len() as u64,
        accepted: accepted.len() as u64,
        throttled: count(Outcome::Throttled),
        failed: count(Outcome::Failed),
        duplicates: points.iter().filter(|p| p.duplicate).count() as u64,
        max_requests_1s: scan(&all, ONE_SECOND_US, None).max,
        max_accepted_1s: scan(&accepted_ones, ONE_SECOND_US, None).max,
        max_units_1s: units_scan.max,
        windows_over_limit: units_scan.over_limit,
        utilisation: utilisation(&accepted, rate, burst),
    }
}

fn utilisation(accepted: &[(u64, u32)], rate: f64, burst: f64) -> Option<f64> {
    let (first, last) = (accepted.first()?.0, accepted.last()?.0);
    if rate <= 0.0 {
        return None;
    }
    let busy_seconds = (last - first) as f64 / 1e6;
    let sent: u64 = accepted.iter().map(|&(_, w)| u64::from(w)).sum();
    Some(sent as f64 / (burst.max(1.0) + rate * busy_seconds))
}
