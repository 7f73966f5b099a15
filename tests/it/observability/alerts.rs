//! The alert rules file: YAML, PromQL that parses, and what an on-call person needs on every rule.

use std::collections::BTreeSet;

use super::queries::{metric_names, rules};

const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

#[test]
fn every_alert_rule_is_complete_and_parses() {
    let rules = rules();
    let groups = rules["groups"].as_sequence().expect("a `groups` list");
    assert!(!groups.is_empty(), "no rule groups");
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for group in groups {
        let rules = group["rules"]
            .as_sequence()
            .expect("each group has `rules`");
        assert!(group["name"].as_str().is_some(), "a group without a name");
        for rule in rules {
            let Some(name) = rule["alert"].as_str() else {
                problems.push(format!("a rule without `alert`: {rule:?}"));
                continue;
            };
            if !seen.insert(name.to_owned()) {
                problems.push(format!("{name}: defined twice"));
            }
            match rule["expr"].as_str() {
                Some(expr) => {
                    if let Err(e) = metric_names(expr) {
                        problems.push(format!("{name}: expr does not parse: {e}"));
                    }
                }
                None => problems.push(format!("{name}: no expr")),
            }
            let has_for = rule["for"]
                .as_str()
                .is_some_and(|d| promql_parser::util::parse_duration(d).is_ok());
            if !has_for {
                problems.push(format!("{name}: no valid `for`"));
            }
            let severity = rule["labels"]["severity"].as_str();
            if !severity.is_some_and(|s| SEVERITIES.contains(&s)) {
                problems.push(format!(
                    "{name}: severity {severity:?} is not one of {SEVERITIES:?}"
                ));
            }
            for annotation in ["summary", "description"] {
                let text = rule["annotations"][annotation]
                    .as_str()
                    .unwrap_or("")
                    .trim();
                if text.is_empty() {
                    problems.push(format!("{name}: no {annotation} annotation"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "alert rules:\n{}", problems.join("\n"));
    for wanted in [
        "FloodgateCarrierAboveLimit",
        "FloodgateDeadLettersGrowing",
        "FloodgateOutboxNotDraining",
        "FloodgateWebhookLatencyHigh",
        "FloodgateBroadcastOverEtaBudget",
        "FloodgatePipelineStalled",
    ] {
        assert!(seen.contains(wanted), "the {wanted} alert is missing");
    }
}
