//! The metric catalogue: every name Floodgate exports, its labels and unit.
//!
//! Names follow Prometheus conventions (`_total` counters, `_seconds` durations,
//! base units). Code records through these constants only, and [`CATALOGUE`] lists
//! them all, so a dashboard query or an alert can be checked against this list.
//!
//! Label values are bounded: carrier profile names, stage and queue names, fixed outcome
//! words; never a phone number or a message id. The one exception, `broadcast`, labels
//! only broadcasts that are sending right now and disappears when they finish.

use metrics::Unit;

// --- HTTP edge -------------------------------------------------------------------------

/// HTTP requests served. Labels: `route` (matched path template), `method`, `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "floodgate_http_requests_total";
/// HTTP request latency, seconds. Labels: `route`, `method`, `status`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "floodgate_http_request_duration_seconds";
/// Carrier webhooks by outcome. Labels: `carrier`, `kind` (inbound|status), `outcome`: the
/// edge's answer (accepted|bad_signature|malformed|unknown_number|ignored|too_large|unavailable),
/// or what a stage later found about an accepted one (inbound `duplicate`: the carrier sent the
/// same message id again; status `stale`: a repeated or late status that moved nothing;
/// inbound `unknown_number`: the number left its community after the edge accepted the text).
pub const WEBHOOKS_TOTAL: &str = "floodgate_webhooks_total";
/// Webhooks refused for their signature. Labels: `carrier`, `reason` (missing|invalid|stale|not_configured).
pub const WEBHOOK_SIGNATURE_FAILURES_TOTAL: &str = "floodgate_webhook_signature_failures_total";
/// Keyword events from members. Labels: `keyword` (opt_in|opt_out|help).
pub const KEYWORD_EVENTS_TOTAL: &str = "floodgate_keyword_events_total";
/// STOPs the webhook edge applied before answering the carrier. Labels: `outcome`
/// (applied: a subscribed member was switched off | unchanged: nothing to switch | failed:
/// left to the inbound stage, which applies it when it reaches the text).
pub const EDGE_OPT_OUTS_TOTAL: &str = "floodgate_edge_opt_outs_total";
/// Inbound texts the carrier delivered more than once (deduplicated). Labels: `carrier`.
pub const INBOUND_DUPLICATES_TOTAL: &str = "floodgate_inbound_duplicates_total";
/// Parts of long inbound texts delivered per part (Vonage). Labels: `carrier`, `outcome`
/// (waiting: kept, more to come|complete: the text is whole and goes on|flushed: processed with
/// parts still missing after 24 h).
pub const INBOUND_PARTS_TOTAL: &str = "floodgate_inbound_parts_total";

// --- Pipeline stages -------------------------------------------------------------------

/// Work items a stage pulled from its queue. Labels: `stage`.
pub const STAGE_RECEIVED_TOTAL: &str = "floodgate_stage_received_total";
/// Work items a stage finished. Labels: `stage`, `outcome` (done|retry|rejected|dead_lettered|unsettled).
pub const STAGE_COMPLETED_TOTAL: &str = "floodgate_stage_completed_total";
/// Work items being processed right now. Labels: `stage`.
pub const STAGE_IN_FLIGHT: &str = "floodgate_stage_in_flight";
/// Time from pulling a work item to settling it, seconds. Labels: `stage`.
pub const STAGE_DURATION_SECONDS: &str = "floodgate_stage_duration_seconds";
/// Messages created by fan-out.
pub const FANOUT_MESSAGES_TOTAL: &str = "floodgate_fanout_messages_total";

// --- Queues, dead letters, outbox (sampled every 2 s by `telemetry::sampler`) -----------

/// Work items in a queue. Labels: `queue` (inbound|fanout|receipts|deliver.<carrier>.<lane>|dead-letter).
/// Embedded: rows waiting or being worked on. RabbitMQ: ready messages (a passive declare does
/// not count unacknowledged ones), the same value on every instance.
pub const QUEUE_DEPTH: &str = "floodgate_queue_depth";
/// Age of the oldest work item in a queue, seconds; 0 when empty. Labels: `queue`. An item's
/// age counts from its publish, or from the end of its retry delay. Embedded: exact (oldest row).
/// RabbitMQ: an upper bound, `now - max(publish time of the last item this instance consumed
/// from the queue, last time it saw the queue empty, instance start)`, which keeps growing while
/// nothing is consumed; take the `min` across instances.
pub const QUEUE_OLDEST_AGE_SECONDS: &str = "floodgate_queue_oldest_age_seconds";
/// Work items moved to the dead-letter queue. Labels: `queue` (where they came from).
pub const DEAD_LETTERS_TOTAL: &str = "floodgate_dead_letters_total";
/// Payloads ingest parked in the outbox because the broker did not confirm. Labels: `queue`.
pub const INGEST_OUTBOX_TOTAL: &str = "floodgate_ingest_outbox_total";
/// Rows waiting in the outbox for the broker (always 0 on the embedded bus).
pub const OUTBOX_DEPTH: &str = "floodgate_outbox_depth";
/// Outbox rows published to the broker.
pub const OUTBOX_FORWARDED_TOTAL: &str = "floodgate_outbox_forwarded_total";

// --- Carriers --------------------------------------------------------------------------

/// Send attempts by outcome. Labels: `carrier`, `outcome` (sent|failed|opted_out|retry|
/// throttled: the carrier answered 429 or queue full|skipped_opted_out|skipped_cancelled: its
/// broadcast was cancelled after the claim|held_at_departure: the
/// departure gate made a send wait (it looks again, spends no token)|capped: daily cap
/// reached|sender_busy: the sender's queue at the carrier is full (Twilio 21611), that number
/// pauses|parked: sender saturated, back later|claim_lost: the claim ran out while waiting and
/// another worker took the message).
pub const CARRIER_SENDS_TOTAL: &str = "floodgate_carrier_sends_total";
/// Carrier API request latency, seconds. Labels: `carrier`.
pub const CARRIER_REQUEST_DURATION_SECONDS: &str = "floodgate_carrier_request_duration_seconds";
/// Time a send waited for its token bucket, seconds. Labels: `carrier`.
pub const THROTTLE_WAIT_SECONDS: &str = "floodgate_throttle_wait_seconds";
/// The account rate the profile (or `floodgate limits set`) allows, units per second. Labels: `carrier`.
pub const CARRIER_LIMIT_CONFIGURED: &str = "floodgate_carrier_limit_configured_per_second";
/// The account rate in force after adaptive back-off, units per second. Labels: `carrier`.
pub const CARRIER_LIMIT_CURRENT: &str = "floodgate_carrier_limit_current_per_second";
/// Back-offs: a throttled answer (429, queue full) paused the account and cut its rate. Labels: `carrier`.
pub const CARRIER_BACKOFFS_TOTAL: &str = "floodgate_carrier_backoffs_total";
/// Sends refused for our configuration (credentials 401, a wrong `api_base`: 403/404/405 or a
/// redirect); the message waits rather than fails, so alert on any increase. Labels: `carrier`.
pub const CARRIER_MISCONFIGURED_TOTAL: &str = "floodgate_carrier_misconfigured_total";
/// 1 while this instance holds the carrier's lease and sends for it, else 0. Labels: `carrier`.
pub const CARRIER_LANE_HELD: &str = "floodgate_carrier_lane_held";
/// Units left under the carrier's daily cap today (profiles with a cap only). Labels: `carrier`.
pub const CARRIER_DAILY_CAP_REMAINING: &str = "floodgate_carrier_daily_cap_remaining";

// --- Receipts --------------------------------------------------------------------------

/// Status callbacks applied. Labels: `carrier`, `outcome` (advanced|stale|early: retried because the
/// send is not recorded yet|unknown: dropped after every retry|resent: the carrier failed the
/// message for a passing reason and it went back to its lane).
pub const RECEIPTS_TOTAL: &str = "floodgate_receipts_total";
/// From the carrier accepting a message (its `sent_at`) to its `delivered` callback being
/// applied, seconds. Labels: `carrier`. Messages whose send time is unknown are not observed.
pub const RECEIPT_LATENCY_SECONDS: &str = "floodgate_receipt_latency_seconds";

/// Broadcasts that finished (every message handed to a carrier or ended), counted by the
/// instance whose completion sweep saw it first. No labels.
pub const BROADCASTS_COMPLETED_TOTAL: &str = "floodgate_broadcasts_completed_total";

// --- Running broadcasts (rendered by `telemetry::broadcasts`, removed when they finish) --

/// Members a running broadcast was accepted for. Labels: `broadcast` (id).
pub const BROADCAST_RECIPIENTS: &str = "floodgate_broadcast_recipients";
/// Messages of a running broadcast handed to the carrier (sent, delivered, undelivered or failed). Labels: `broadcast`.
pub const BROADCAST_SENT_MESSAGES: &str = "floodgate_broadcast_sent_messages";
/// Messages of a running broadcast not handed to a carrier yet, including those not fanned out. Labels: `broadcast`.
pub const BROADCAST_REMAINING_MESSAGES: &str = "floodgate_broadcast_remaining_messages";
/// A running broadcast's send rate over the last 30 s, messages per second. Labels: `broadcast`.
pub const BROADCAST_SEND_RATE_PER_SECOND: &str = "floodgate_broadcast_send_rate_per_second";
/// Seconds until a running broadcast's last message is sent at its recent rate (+Inf while
/// nothing is being sent). Labels: `broadcast`. The schema has no validity window, so alerts
/// compare this with a budget.
pub const BROADCAST_ETA_SECONDS: &str = "floodgate_broadcast_eta_seconds";

// --- Health ----------------------------------------------------------------------------

/// Whether the store answered the last readiness check (1) or not (0).
pub const STORE_UP: &str = "floodgate_store_up";
/// Whether the bus (RabbitMQ, or the embedded queues) was connected at the last readiness check.
pub const BUS_UP: &str = "floodgate_bus_up";

/// A metric's Prometheus type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One catalogue entry: what `describe` registers and what tests check queries against.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: Unit,
    /// The `# HELP` line.
    pub help: &'static str,
}

const fn m(name: &'static str, kind: Kind, unit: Unit, help: &'static str) -> Metric {
    Metric {
        name,
        kind,
        unit,
        help,
    }
}

use Kind::{Counter, Gauge, Histogram};

/// Every metric Floodgate exports.
pub const CATALOGUE: &[Metric] = &[
    m(
        HTTP_REQUESTS_TOTAL,
        Counter,
        Unit::Count,
        "HTTP requests served, by route, method and status.",
    ),
    m(
        HTTP_REQUEST_DURATION_SECONDS,
        Histogram,
        Unit::Seconds,
        "HTTP request latency.",
    ),
    m(
        WEBHOOKS_TOTAL,
        Counter,
        Unit::Count,
        "Carrier webhooks by carrier, kind and outcome.",
    ),
    m(
        WEBHOOK_SIGNATURE_FAILURES_TOTAL,
        Counter,
        Unit::Count,
        "Webhooks refused for a missing, invalid or stale signature.",
    ),
    m(
        KEYWORD_EVENTS_TOTAL,
        Counter,
        Unit::Count,
        "JOIN/STOP/HELP keyword events from members.",
    ),
    m(
        EDGE_OPT_OUTS_TOTAL,
        Counter,
        Unit::Count,
        "STOPs applied at the webhook edge before the carrier's 2xx, by outcome.",
    ),
    m(
        INBOUND_DUPLICATES_TOTAL,
        Counter,
        Unit::Count,
        "Inbound texts the carrier delivered more than once.",
    ),
    m(
        INBOUND_PARTS_TOTAL,
        Counter,
        Unit::Count,
        "Parts of long inbound texts, by whether their text was whole yet.",
    ),
    m(
        STAGE_RECEIVED_TOTAL,
        Counter,
        Unit::Count,
        "Work items a stage pulled from its queue.",
    ),
    m(
        STAGE_COMPLETED_TOTAL,
        Counter,
        Unit::Count,
        "Work items a stage finished, by outcome.",
    ),
    m(
        STAGE_IN_FLIGHT,
        Gauge,
        Unit::Count,
        "Work items a stage is processing now.",
    ),
    m(
        STAGE_DURATION_SECONDS,
        Histogram,
        Unit::Seconds,
        "Time from pulling a work item to settling it.",
    ),
    m(
        FANOUT_MESSAGES_TOTAL,
        Counter,
        Unit::Count,
        "Messages created by fan-out.",
    ),
    m(
        QUEUE_DEPTH,
        Gauge,
        Unit::Count,
        "Work items in a queue (RabbitMQ: ready ones).",
    ),
    m(
        QUEUE_OLDEST_AGE_SECONDS,
        Gauge,
        Unit::Seconds,
        "Age of the oldest work item in a queue (RabbitMQ: an upper bound).",
    ),
    m(
        DEAD_LETTERS_TOTAL,
        Counter,
        Unit::Count,
        "Work items moved to the dead-letter queue, by source queue.",
    ),
    m(
        INGEST_OUTBOX_TOTAL,
        Counter,
        Unit::Count,
        "Payloads parked in the outbox because the broker did not confirm.",
    ),
    m(
        OUTBOX_DEPTH,
        Gauge,
        Unit::Count,
        "Rows waiting in the outbox for the broker.",
    ),
    m(
        OUTBOX_FORWARDED_TOTAL,
        Counter,
        Unit::Count,
        "Outbox rows published to the broker.",
    ),
    m(
        CARRIER_SENDS_TOTAL,
        Counter,
        Unit::Count,
        "Send attempts by carrier and outcome (throttled: HTTP 429).",
    ),
    m(
        CARRIER_REQUEST_DURATION_SECONDS,
        Histogram,
        Unit::Seconds,
        "Carrier API request latency.",
    ),
    m(
        THROTTLE_WAIT_SECONDS,
        Histogram,
        Unit::Seconds,
        "Time a send waited for its token bucket.",
    ),
    m(
        CARRIER_LIMIT_CONFIGURED,
        Gauge,
        Unit::CountPerSecond,
        "Account rate the profile or `limits set` allows, by carrier.",
    ),
    m(
        CARRIER_LIMIT_CURRENT,
        Gauge,
        Unit::CountPerSecond,
        "Account rate in force after adaptive back-off, by carrier.",
    ),
    m(
        CARRIER_BACKOFFS_TOTAL,
        Counter,
        Unit::Count,
        "Back-offs after a throttled answer (429, queue full), by carrier.",
    ),
    m(
        CARRIER_MISCONFIGURED_TOTAL,
        Counter,
        Unit::Count,
        "Sends refused for our credentials or api_base; they wait instead of failing.",
    ),
    m(
        CARRIER_LANE_HELD,
        Gauge,
        Unit::Count,
        "1 while this instance sends for the carrier (holds its lease).",
    ),
    m(
        CARRIER_DAILY_CAP_REMAINING,
        Gauge,
        Unit::Count,
        "Units left under the carrier's daily cap today.",
    ),
    m(
        RECEIPTS_TOTAL,
        Counter,
        Unit::Count,
        "Status callbacks applied, by outcome.",
    ),
    m(
        RECEIPT_LATENCY_SECONDS,
        Histogram,
        Unit::Seconds,
        "From a message's send to its delivered callback.",
    ),
    m(
        BROADCASTS_COMPLETED_TOTAL,
        Counter,
        Unit::Count,
        "Broadcasts that finished sending.",
    ),
    m(
        BROADCAST_RECIPIENTS,
        Gauge,
        Unit::Count,
        "Members a running broadcast was accepted for.",
    ),
    m(
        BROADCAST_SENT_MESSAGES,
        Gauge,
        Unit::Count,
        "Messages of a running broadcast handed to the carrier.",
    ),
    m(
        BROADCAST_REMAINING_MESSAGES,
        Gauge,
        Unit::Count,
        "Messages of a running broadcast still to send.",
    ),
    m(
        BROADCAST_SEND_RATE_PER_SECOND,
        Gauge,
        Unit::CountPerSecond,
        "A running broadcast's send rate over the last 30 s.",
    ),
    m(
        BROADCAST_ETA_SECONDS,
        Gauge,
        Unit::Seconds,
        "Seconds until a running broadcast is sent at its recent rate.",
    ),
    m(
        STORE_UP,
        Gauge,
        Unit::Count,
        "1 when the store answered the last readiness check.",
    ),
    m(
        BUS_UP,
        Gauge,
        Unit::Count,
        "1 when the bus was connected at the last readiness check.",
    ),
];

/// The per-broadcast gauges, rendered by `telemetry::broadcasts` rather than the recorder
/// (the `metrics` facade cannot remove a series, and these must go when a broadcast finishes).
pub const BROADCAST_GAUGES: [&str; 5] = [
    BROADCAST_RECIPIENTS,
    BROADCAST_SENT_MESSAGES,
    BROADCAST_REMAINING_MESSAGES,
    BROADCAST_SEND_RATE_PER_SECOND,
    BROADCAST_ETA_SECONDS,
];

/// The catalogue entry for `name`, if it is one of ours.
pub fn lookup(name: &str) -> Option<&'static Metric> {
    CATALOGUE.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions() {
        for metric in CATALOGUE {
            let name = metric.name;
            assert!(name.starts_with("floodgate_"), "{name}: not prefixed");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}: not snake_case"
            );
            assert_eq!(
                metric.kind == Kind::Counter,
                name.ends_with("_total"),
                "{name}: counters, and only counters, end in _total"
            );
            if metric.unit == Unit::Seconds {
                assert!(name.ends_with("_seconds"), "{name}: seconds in the name");
            }
            for suffix in ["_bucket", "_sum", "_count"] {
                assert!(!name.ends_with(suffix), "{name}: reserved suffix {suffix}");
            }
            assert!(!metric.help.is_empty(), "{name}: no help");
        }
    }

    #[test]
    fn every_name_is_listed_once() {
        let mut names: Vec<_> = CATALOGUE.iter().map(|m| m.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a name is listed twice");
        for gauge in BROADCAST_GAUGES {
            assert_eq!(lookup(gauge).map(|m| m.kind), Some(Kind::Gauge));
        }
    }
}
