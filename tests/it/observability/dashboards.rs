//! The dashboards load in Grafana: JSON, unique panel ids, a datasource variable every panel uses.

use std::collections::BTreeSet;

use super::queries::{dashboard_queries, dashboards, grafana_dir, metric_names, panels};

const DATASOURCE: &str = "${datasource}";

#[test]
fn dashboards_are_valid_grafana_json() {
    let boards = dashboards();
    let files: BTreeSet<&str> = boards.iter().map(|(f, _)| f.as_str()).collect();
    for wanted in ["overview.json", "carriers.json", "pipeline.json"] {
        assert!(
            files.contains(wanted),
            "grafana/dashboards/{wanted} is missing"
        );
    }
    let mut uids = BTreeSet::new();
    for (file, board) in &boards {
        assert!(
            board["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{file}: no title"
        );
        let uid = board["uid"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: no uid"));
        assert!(
            uids.insert(uid.to_owned()),
            "{file}: uid {uid} is used twice"
        );
        let schema = board["schemaVersion"].as_u64().unwrap_or(0);
        assert!(
            schema >= 36,
            "{file}: schemaVersion {schema} is older than 36"
        );
        let variables = board["templating"]["list"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            variables.iter().any(|v| v["name"] == "datasource"
                && v["type"] == "datasource"
                && v["query"] == "prometheus"),
            "{file}: no Prometheus `datasource` variable"
        );
        let mut ids = BTreeSet::new();
        for panel in panels(board) {
            let title = panel["title"].as_str().unwrap_or("");
            let id = panel["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("{file}: panel {title:?} has no id"));
            assert!(ids.insert(id), "{file}: panel id {id} is used twice");
            assert!(!title.is_empty(), "{file}: panel {id} has no title");
            if panel["type"] == "row" {
                continue;
            }
            assert_eq!(
                panel["datasource"]["uid"], DATASOURCE,
                "{file}: panel {title:?} does not use the datasource variable"
            );
            let targets = panel["targets"].as_array().cloned().unwrap_or_default();
            assert!(!targets.is_empty(), "{file}: panel {title:?} has no query");
            for target in targets {
                assert_eq!(target["datasource"]["uid"], DATASOURCE, "{file}: {title:?}");
            }
            assert!(
                panel["fieldConfig"]["defaults"]["unit"].as_str().is_some(),
                "{file}: panel {title:?} has no unit"
            );
        }
    }
}

#[test]
fn every_dashboard_query_parses() {
    let problems: Vec<String> = dashboard_queries()
        .into_iter()
        .filter_map(|q| {
            metric_names(&q.expr)
                .err()
                .map(|e| format!("{}: {e}\n  {}", q.origin, q.expr))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "unparseable queries:\n{}",
        problems.join("\n")
    );
}

#[test]
fn provisioning_points_at_prometheus_and_the_dashboards() {
    let read = |p: &str| -> serde_yaml::Value {
        let path = grafana_dir().join(p);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let sources = read("provisioning/datasources/prometheus.yml");
    let sources = sources["datasources"].as_sequence().expect("datasources");
    assert!(
        sources.iter().any(|d| d["type"] == "prometheus"),
        "no Prometheus datasource"
    );
    let providers = read("provisioning/dashboards/floodgate.yml");
    let providers = providers["providers"].as_sequence().expect("providers");
    assert!(
        providers
            .iter()
            .any(|p| p["type"] == "file" && p["options"]["path"].as_str().is_some()),
        "no file dashboard provider"
    );
}
