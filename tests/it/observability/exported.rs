//! Every metric that `grafana/` queries is exported by a running engine.
//!
//! A short sandbox scenario makes the labelled series exist (a broadcast sending, a JOIN, a
//! repeated text, a bad signature, a text to an unknown number, delivery receipts), then
//! `/metrics` is scraped until every name the dashboards and alert rules use is there, or
//! the test fails naming the ones that are not and where they are used.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use floodgate::domain::PhoneNumber;
use floodgate::sandbox::{AUTH_TOKEN, Sandbox, SandboxConfig};
use floodgate::telemetry::metrics::{CATALOGUE, Kind};

use super::queries::{alert_queries, dashboard_queries, metric_names, variable_metrics};
use crate::pipeline::setup::{Setup, quick_pipeline, sandbox};

/// How long the scenario may take to make every series appear.
const SCRAPE_DEADLINE: Duration = Duration::from_secs(60);

/// Metric families in a Prometheus text exposition, with their `# TYPE`.
fn families(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| {
            let mut parts = rest.split_whitespace();
            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
        })
        .collect()
}

/// Whether `name`, as a query selects it, exists: a histogram is selected through its
/// `_bucket`, `_sum` and `_count` series, never by its bare name.
fn is_exported(name: &str, families: &BTreeMap<String, String>) -> bool {
    let histogram = |base: &str| {
        families
            .get(base)
            .is_some_and(|t| t == "histogram" || t == "summary")
    };
    if let Some(kind) = families.get(name) {
        return kind != "histogram" && kind != "summary";
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .any(|suffix| name.strip_suffix(suffix).is_some_and(histogram))
}

/// Every metric name `grafana/` uses, with where it is used.
fn used_names() -> BTreeMap<String, Vec<String>> {
    let mut used: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for query in dashboard_queries().into_iter().chain(alert_queries()) {
        let names = metric_names(&query.expr)
            .unwrap_or_else(|e| panic!("{}: does not parse: {e}\n  {}", query.origin, query.expr));
        for name in names {
            used.entry(name).or_default().push(query.origin.clone());
        }
    }
    for (origin, metric) in variable_metrics() {
        used.entry(metric).or_default().push(origin);
    }
    used
}

async fn post(hook: floodgate_sim::inbound::SignedWebhook) -> u16 {
    hook.request(&reqwest::Client::new())
        .send()
        .await
        .expect("the engine answers")
        .status()
        .as_u16()
}

/// Webhooks that make each outcome label exist: accepted, duplicate, bad_signature, unknown_number.
async fn send_webhooks(sb: &Sandbox) {
    let member = PhoneNumber::example(900);
    let url = format!("{}/webhooks/sim/inbound", sb.base);
    let sid = "SMobs0000000000000000000000000001";
    assert_eq!(sb.text(&member, "JOIN", sid).await.unwrap(), 200);
    assert_eq!(
        sb.text(&member, "JOIN", sid).await.unwrap(),
        200,
        "a repeat is accepted"
    );
    let forged = floodgate_sim::inbound::signed_twilio_inbound(
        &url,
        "not-the-auth-token",
        "SMobs0000000000000000000000000002",
        member.as_str(),
        sb.number.as_str(),
        "JOIN",
    );
    assert_eq!(post(forged).await, 403, "a bad signature is refused");
    let elsewhere = floodgate_sim::inbound::signed_twilio_inbound(
        &url,
        AUTH_TOKEN,
        "SMobs0000000000000000000000000003",
        member.as_str(),
        PhoneNumber::example(5000).as_str(),
        "hello",
    );
    assert_eq!(
        post(elsewhere).await,
        200,
        "an unknown number is acknowledged"
    );
}

async fn every_metric_grafana_uses_is_exported(setup: Setup) {
    let used = used_names();
    assert!(
        used.len() > 20,
        "suspiciously few metric names found: {used:?}"
    );
    let sb = sandbox(
        setup,
        SandboxConfig {
            members: 40,
            // 40 messages at 5 per second: the broadcast runs across several 2 s samples. A burst
            // of 5, not 1: with room for one request only, scheduling jitter on a loaded machine
            // draws 429s from the simulator and the adaptive back-off slows the run to a crawl.
            rate: 5.0,
            burst: 5,
            pipeline: quick_pipeline(),
            ..Default::default()
        },
    )
    .await;
    send_webhooks(&sb).await;
    let broadcast = sb.start_broadcast("Observability check").await.unwrap();

    let client = reqwest::Client::new();
    let started = Instant::now();
    let (exported, missing) = loop {
        let text = client
            .get(format!("{}/metrics", sb.base))
            .send()
            .await
            .expect("/metrics answers")
            .text()
            .await
            .expect("a text body");
        let exported = families(&text);
        let missing: BTreeMap<&String, &Vec<String>> = used
            .iter()
            .filter(|(name, _)| !is_exported(name, &exported))
            .collect();
        if missing.is_empty() || started.elapsed() > SCRAPE_DEADLINE {
            let missing: Vec<String> = missing
                .iter()
                .map(|(name, origins)| format!("{name} (used by {})", origins.join("; ")))
                .collect();
            break (exported, missing);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        missing.is_empty(),
        "not exported after {SCRAPE_DEADLINE:?} of the scenario:\n{}",
        missing.join("\n")
    );
    // The other way round: everything exported is in the catalogue, with the right type.
    for (family, kind) in exported.iter().filter(|(f, _)| f.starts_with("floodgate_")) {
        let entry = CATALOGUE.iter().find(|m| m.name == family.as_str());
        let expected = entry.map(|m| match m.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        });
        assert_eq!(
            expected,
            Some(kind.as_str()),
            "{family} ({kind}) is exported but not catalogued as such in src/telemetry/metrics.rs"
        );
    }
    sb.wait_until_sent(broadcast, Duration::from_secs(60))
        .await
        .unwrap();
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_embedded_exports_every_metric_grafana_uses() {
    every_metric_grafana_uses_is_exported(Setup::SqliteEmbedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rabbitmq_exports_every_metric_grafana_uses() {
    let _broker = crate::support::shared_broker().await;
    every_metric_grafana_uses_is_exported(Setup::PostgresRabbit).await;
}

#[test]
fn histograms_are_only_selected_through_their_series() {
    let families: BTreeMap<String, String> = [("h", "histogram"), ("c_total", "counter")]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .into();
    assert!(is_exported("h_bucket", &families));
    assert!(is_exported("h_count", &families));
    assert!(!is_exported("h", &families));
    assert!(is_exported("c_total", &families));
    assert!(!is_exported("c_total_bucket", &families));
    assert!(!is_exported("missing", &families));
}
