//! The PromQL in `grafana/`: read from the dashboards and the rule file, parsed with
//! `promql-parser`, and reduced to the metric names it selects.

use std::collections::BTreeSet;
use std::path::PathBuf;

use promql_parser::label::MatchOp;
use promql_parser::parser::{Expr, VectorSelector};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// Where a query comes from, for failure messages.
#[derive(Debug, Clone)]
pub struct Query {
    pub origin: String,
    pub expr: String,
}

/// `grafana/` in this repository.
pub fn grafana_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("grafana")
}

/// Every dashboard file, by name, parsed.
pub fn dashboards() -> Vec<(String, Json)> {
    let dir = grafana_dir().join("dashboards");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable dashboard");
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                json,
            )
        })
        .collect()
}

/// The alert rule file, parsed.
pub fn rules() -> Yaml {
    let path = grafana_dir().join("alerts/floodgate.rules.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// Every panel, rows' collapsed children included.
pub fn panels(dashboard: &Json) -> Vec<&Json> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        out.push(panel);
        out.extend(panel["panels"].as_array().into_iter().flatten());
    }
    out
}

/// Grafana's variables replaced by values PromQL accepts: intervals by `5m`, others by `.*`
/// (they only appear inside label matchers' quotes).
pub fn substitute_grafana_variables(expr: &str) -> String {
    let mut out = expr.to_owned();
    for interval in [
        "$__rate_interval",
        "${__rate_interval}",
        "$__interval",
        "$__range",
    ] {
        out = out.replace(interval, "5m");
    }
    let mut result = String::with_capacity(out.len());
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            result.push(c);
            continue;
        }
        let braced = chars.peek() == Some(&'{');
        if braced {
            chars.next();
        }
        while chars
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            chars.next();
        }
        if braced {
            chars.next();
        }
        result.push_str(".*");
    }
    result
}

/// Every panel target's expression in every dashboard.
pub fn dashboard_queries() -> Vec<Query> {
    let mut out = Vec::new();
    for (file, dashboard) in dashboards() {
        for panel in panels(&dashboard) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    out.push(Query {
                        origin: format!("{file} panel {:?}", panel["title"].as_str().unwrap_or("")),
                        expr: substitute_grafana_variables(expr),
                    });
                }
            }
        }
    }
    out
}

/// The metric each `label_values(metric, label)` variable query reads.
pub fn variable_metrics() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (file, dashboard) in dashboards() {
        for var in dashboard["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let query = var["query"]["query"].as_str().or(var["query"].as_str());
            let Some(inner) = query.and_then(|q| q.strip_prefix("label_values(")) else {
                continue;
            };
            let metric = inner.split([',', ')']).next().unwrap_or("").trim();
            out.push((
                format!("{file} variable {}", var["name"]),
                metric.to_owned(),
            ));
        }
    }
    out
}

/// Every rule's `expr`.
pub fn alert_queries() -> Vec<Query> {
    let rules = rules();
    let mut out = Vec::new();
    for group in rules["groups"].as_sequence().into_iter().flatten() {
        for rule in group["rules"].as_sequence().into_iter().flatten() {
            let name = rule["alert"]
                .as_str()
                .or(rule["record"].as_str())
                .unwrap_or("?");
            out.push(Query {
                origin: format!("alert {name}"),
                expr: rule["expr"].as_str().unwrap_or("").to_owned(),
            });
        }
    }
    out
}

/// The metric names a PromQL expression selects, or why it does not parse.
pub fn metric_names(expr: &str) -> Result<BTreeSet<String>, String> {
    let ast = promql_parser::parser::parse(expr)?;
    let mut names = BTreeSet::new();
    walk(&ast, &mut names);
    Ok(names)
}

fn selector(vs: &VectorSelector, names: &mut BTreeSet<String>) {
    if let Some(name) = &vs.name {
        names.insert(name.clone());
    }
    for m in &vs.matchers.matchers {
        if m.name == "__name__" && matches!(m.op, MatchOp::Equal) {
            names.insert(m.value.clone());
        }
    }
}

fn walk(expr: &Expr, names: &mut BTreeSet<String>) {
    match expr {
        Expr::VectorSelector(vs) => selector(vs, names),
        Expr::MatrixSelector(ms) => selector(&ms.vs, names),
        Expr::Aggregate(a) => {
            walk(&a.expr, names);
            if let Some(p) = &a.param {
                walk(p, names);
            }
        }
        Expr::Unary(u) => walk(&u.expr, names),
        Expr::Binary(b) => {
            walk(&b.lhs, names);
            walk(&b.rhs, names);
        }
        Expr::Paren(p) => walk(&p.expr, names),
        Expr::Subquery(s) => walk(&s.expr, names),
        Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, names)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

#[test]
fn names_are_found_in_every_corner_of_an_expression() {
    let names = metric_names(
        "histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m]))) > on() group_left() \
         (max(b) or -c) unless {__name__=\"d\"} and max_over_time(e[1h:1m])",
    )
    .unwrap();
    let expected: BTreeSet<String> = ["a_bucket", "b", "c", "d", "e"].map(String::from).into();
    assert_eq!(names, expected);
    assert!(
        metric_names("sum(rate(x[5m])").is_err(),
        "unbalanced parentheses must not parse"
    );
}

#[test]
fn grafana_variables_become_valid_promql() {
    let expr =
        r#"sum by (carrier) (rate(x{carrier=~"$carrier", s=~"${stage}"}[$__rate_interval]))"#;
    assert_eq!(
        substitute_grafana_variables(expr),
        r#"sum by (carrier) (rate(x{carrier=~".*", s=~".*"}[5m]))"#
    );
    assert!(metric_names(&substitute_grafana_variables(expr)).is_ok());
}
