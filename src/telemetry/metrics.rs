//! The metric catalogue: every name Floodgate exports, its labels and unit.
//!
//! Names follow Prometheus conventions (`_total` counters, `_seconds` durations,
//! base units). Code records through these constants only, so a dashboard query
//! can be checked against this list.

use std::sync::OnceLock;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// HTTP requests served. Labels: `route` (matched path template), `method`, `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "floodgate_http_requests_total";
/// HTTP request latency, seconds. Labels: `route`, `method`, `status`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "floodgate_http_request_duration_seconds";
/// Carrier webhooks by outcome. Labels: `carrier`, `kind` (inbound|status), `outcome`
/// (accepted|duplicate|bad_signature|malformed|unknown_number|unknown_message|ignored).
pub const WEBHOOKS_TOTAL: &str = "floodgate_webhooks_total";
/// Webhooks refused for their signature. Labels: `carrier`, `reason` (missing|invalid|stale|not_configured).
pub const WEBHOOK_SIGNATURE_FAILURES_TOTAL: &str = "floodgate_webhook_signature_failures_total";
/// Keyword events from members. Labels: `keyword` (opt_in|opt_out|help).
pub const KEYWORD_EVENTS_TOTAL: &str = "floodgate_keyword_events_total";
/// Work items a stage pulled from its queue. Labels: `stage`.
pub const STAGE_RECEIVED_TOTAL: &str = "floodgate_stage_received_total";
/// Work items a stage finished. Labels: `stage`, `outcome` (done|retry|rejected|dead_lettered|unsettled).
pub const STAGE_COMPLETED_TOTAL: &str = "floodgate_stage_completed_total";
/// Work items being processed right now. Labels: `stage`.
pub const STAGE_IN_FLIGHT: &str = "floodgate_stage_in_flight";
/// Time from pulling a work item to settling it, seconds. Labels: `stage`.
pub const STAGE_DURATION_SECONDS: &str = "floodgate_stage_duration_seconds";
/// Payloads ingest parked in the outbox because the broker did not confirm. Labels: `queue`.
pub const INGEST_OUTBOX_TOTAL: &str = "floodgate_ingest_outbox_total";
/// Rows waiting in the outbox for the broker.
pub const OUTBOX_DEPTH: &str = "floodgate_outbox_depth";
/// Outbox rows published to the broker.
pub const OUTBOX_FORWARDED_TOTAL: &str = "floodgate_outbox_forwarded_total";
/// Inbound texts the carrier delivered more than once (deduplicated). Labels: `carrier`.
pub const INBOUND_DUPLICATES_TOTAL: &str = "floodgate_inbound_duplicates_total";
/// Status callbacks applied. Labels: `carrier`, `outcome` (advanced|stale|early: retried because the
/// send is not recorded yet|unknown: dropped after every retry).
pub const RECEIPTS_TOTAL: &str = "floodgate_receipts_total";
/// Message rows created by fan-out.
pub const FANOUT_MESSAGES_TOTAL: &str = "floodgate_fanout_messages_total";
/// Send attempts by outcome. Labels: `carrier`, `outcome` (sent|failed|opted_out|retry|throttled|
/// skipped_opted_out|repaced|capped: daily cap reached|parked: sender saturated, back later|
/// claim_lost: the claim ran out while waiting and another worker took the message).
pub const CARRIER_SENDS_TOTAL: &str = "floodgate_carrier_sends_total";
/// Carrier API request latency, seconds. Labels: `carrier`.
pub const CARRIER_REQUEST_DURATION_SECONDS: &str = "floodgate_carrier_request_duration_seconds";
/// Time a send waited for its token bucket, seconds. Labels: `carrier`.
pub const THROTTLE_WAIT_SECONDS: &str = "floodgate_throttle_wait_seconds";
/// Work items moved to the dead-letter queue. Labels: `queue`.
pub const DEAD_LETTERS_TOTAL: &str = "floodgate_dead_letters_total";
/// Whether the store answered the last readiness check (1) or not (0).
pub const STORE_UP: &str = "floodgate_store_up";
/// Whether the bus (RabbitMQ, or the embedded queues) was connected at the last readiness check.
pub const BUS_UP: &str = "floodgate_bus_up";

// Carrier limits (issue 5): what the profile allows, what the adaptive back-off uses now.
/// The account rate the profile (or `floodgate limits set`) allows, in units per second.
pub const CARRIER_LIMIT_CONFIGURED: &str = "floodgate_carrier_limit_configured_per_second";
/// The account rate in force after adaptive back-off, in units per second.
pub const CARRIER_LIMIT_CURRENT: &str = "floodgate_carrier_limit_current_per_second";
/// Back-offs: a throttled answer (429, queue full) that paused the account and cut its rate.
pub const CARRIER_BACKOFFS_TOTAL: &str = "floodgate_carrier_backoffs_total";
/// 1 while this instance holds the carrier's lanes (sends for it), 0 otherwise.
pub const CARRIER_LANE_HELD: &str = "floodgate_carrier_lane_held";
/// Units left under the carrier's daily cap today (only for profiles with a cap).
pub const CARRIER_DAILY_CAP_REMAINING: &str = "floodgate_carrier_daily_cap_remaining";

/// Latency buckets for HTTP and store round trips: 0.5 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder once and returns its handle.
pub fn install_recorder() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("buckets are non-empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (embedding); we still render our own.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

/// The handle, if the recorder was installed.
pub fn prometheus_handle() -> Option<PrometheusHandle> {
    HANDLE.get().cloned()
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS_TOTAL,
        Unit::Count,
        "HTTP requests served, by route, method and status."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "HTTP request latency."
    );
    describe_counter!(
        WEBHOOKS_TOTAL,
        Unit::Count,
        "Carrier webhooks by carrier, kind and outcome."
    );
    describe_counter!(
        WEBHOOK_SIGNATURE_FAILURES_TOTAL,
        Unit::Count,
        "Webhooks refused for a missing, invalid or stale signature."
    );
    describe_counter!(
        KEYWORD_EVENTS_TOTAL,
        Unit::Count,
        "JOIN/STOP/HELP keyword events from members."
    );
    describe_gauge!(
        STORE_UP,
        Unit::Count,
        "1 when the store answered the last readiness check."
    );
    describe_gauge!(
        CARRIER_LIMIT_CONFIGURED,
        "Account rate the carrier profile or `limits set` allows (units per second), by carrier."
    );
    describe_gauge!(
        CARRIER_LIMIT_CURRENT,
        "Account rate in force after adaptive back-off (units per second), by carrier."
    );
    describe_counter!(
        CARRIER_BACKOFFS_TOTAL,
        Unit::Count,
        "Back-offs after a throttled answer (429, queue full), by carrier."
    );
    describe_gauge!(
        CARRIER_LANE_HELD,
        "1 while this instance sends for the carrier (holds its lease), else 0."
    );
    describe_gauge!(
        CARRIER_DAILY_CAP_REMAINING,
        "Units left under the carrier's daily cap today, by carrier."
    );
}
