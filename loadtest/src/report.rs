//! The final report: a human table and a JSON document with the same figures, the targets
//! from issue 6 next to them, and the promises whose breach makes the process exit non-zero.

use std::fmt;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::machine::Machine;

/// Which side of a target a figure must be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The figure must be at least the target (throughput, utilisation).
    AtLeast,
    /// The figure must be at most the target (latency, memory, time).
    AtMost,
}

/// A performance target; missing one is reported, not fatal (promises are).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// At least or at most.
    pub bound: Bound,
    /// The target from issue 6 / BENCHMARKS.md.
    pub value: f64,
}

impl Target {
    /// Whether `value` meets the target.
    pub fn met_by(&self, value: f64) -> bool {
        match self.bound {
            Bound::AtLeast => value >= self.value,
            Bound::AtMost => value <= self.value,
        }
    }
}

/// One measured figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// What was measured, as printed.
    pub name: String,
    /// The measurement (NaN, written as `null`, when the milestone was not reached).
    pub value: f64,
    /// `ms`, `1/s`, `MiB`, `%`, ... or empty for counts.
    pub unit: String,
    /// The target it is judged against, if any.
    pub target: Option<Target>,
}

/// One promise from DESIGN.md checked against what was observed; `seen` must be 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promise {
    /// The promise, phrased as what breaks it.
    pub name: String,
    /// How many times it was seen broken.
    pub seen: u64,
}

impl Promise {
    /// A promise holds when nothing breaking it was seen.
    pub fn held(&self) -> bool {
        self.seen == 0
    }
}

/// Everything one scenario run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// `spike`, `broadcast` or `mixed`.
    pub scenario: String,
    /// `embedded` or `postgres-rabbitmq`.
    pub backend: String,
    /// Whether the run finished its work before the deadline (otherwise figures are partial).
    pub completed: bool,
    /// The whole run, start to report.
    pub wall_seconds: f64,
    /// Where it ran, with the load average (co-located work) at start and end.
    pub machine: Machine,
    /// The scenario's arguments, for reproducing the run.
    pub parameters: serde_json::Value,
    /// The measurements, in print order.
    pub figures: Vec<Figure>,
    /// The promises checked; any broken one fails the run.
    pub promises: Vec<Promise>,
    /// Scenario-specific detail (error kinds, RSS samples, simulator report).
    pub details: serde_json::Value,
    /// Anything the reader should know (deadline hit, co-located load...).
    pub notes: Vec<String>,
}

impl Report {
    /// An empty report for `scenario` on `backend`.
    pub fn new(scenario: &str, backend: &str, parameters: serde_json::Value) -> Self {
        Self {
            scenario: scenario.to_owned(),
            backend: backend.to_owned(),
            completed: true,
            wall_seconds: 0.0,
            machine: Machine::default(),
            parameters,
            figures: Vec::new(),
            promises: Vec::new(),
            details: serde_json::Value::Null,
            notes: Vec::new(),
        }
    }

    /// Adds a figure without a target.
    pub fn figure(&mut self, name: &str, value: f64, unit: &str) {
        self.figures.push(Figure {
            name: name.to_owned(),
            value,
            unit: unit.to_owned(),
            target: None,
        });
    }

    /// Adds a figure with the target it is judged against.
    pub fn figure_vs(&mut self, name: &str, value: f64, unit: &str, bound: Bound, target: f64) {
        self.figures.push(Figure {
            name: name.to_owned(),
            value,
            unit: unit.to_owned(),
            target: Some(Target {
                bound,
                value: target,
            }),
        });
    }

    /// Adds a promise check.
    pub fn promise(&mut self, name: &str, seen: u64) {
        self.promises.push(Promise {
            name: name.to_owned(),
            seen,
        });
    }

    /// True when the run completed and every promise held; decides the exit status.
    pub fn passed(&self) -> bool {
        self.completed && self.promises.iter().all(Promise::held)
    }

    /// Figures whose target was missed, by name.
    pub fn missed_targets(&self) -> Vec<&str> {
        self.figures
            .iter()
            .filter(|f| f.target.is_some_and(|t| !t.met_by(f.value)))
            .map(|f| f.name.as_str())
            .collect()
    }

    /// Writes the JSON document.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }
}

/// A number printed with a sensible precision for its size.
fn number(value: f64) -> String {
    if (value.fract() == 0.0 && value.abs() < 1e15) || value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        writeln!(
            f,
            "loadtest {} on {} — {:.1} s{}",
            self.scenario,
            self.backend,
            self.wall_seconds,
            if self.completed {
                ""
            } else {
                " (INCOMPLETE: deadline)"
            }
        )?;
        writeln!(
            f,
            "  machine: {} cores, {} MiB, load {:.2} at start, {:.2} at end",
            self.machine.cores,
            self.machine.memory_mib,
            self.machine.load_at_start,
            self.machine.load_at_end
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "  {:<44} {:>14}  {:<8} {:>14}",
            "figure", "value", "unit", "target"
        )?;
        for fig in &self.figures {
            let target = match fig.target {
                None => String::new(),
                Some(t) => {
                    let sign = if t.bound == Bound::AtLeast {
                        "≥"
                    } else {
                        "≤"
                    };
                    let verdict = if t.met_by(fig.value) { "ok" } else { "SHORT" };
                    format!("{sign} {} {verdict}", number(t.value))
                }
            };
            writeln!(
                f,
                "  {:<44} {:>14}  {:<8} {:>14}",
                fig.name,
                number(fig.value),
                fig.unit,
                target
            )?;
        }
        if !self.promises.is_empty() {
            writeln!(f)?;
            writeln!(f, "  {:<44} {:>14}  verdict", "promise (must be 0)", "seen")?;
            for p in &self.promises {
                let verdict = if p.held() { "ok" } else { "BROKEN" };
                writeln!(f, "  {:<44} {:>14}  {verdict}", p.name, p.seen)?;
            }
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut r = Report::new("spike", "embedded", serde_json::json!({"count": 10}));
        r.figure_vs("accepted/s", 12_000.0, "1/s", Bound::AtLeast, 20_000.0);
        r.figure_vs("p99", 4.5, "ms", Bound::AtMost, 25.0);
        r.figure("errors", 0.0, "");
        r.promise("lost", 0);
        r
    }

    #[test]
    fn targets_are_judged_on_the_right_side() {
        let at_least = Target {
            bound: Bound::AtLeast,
            value: 10.0,
        };
        let at_most = Target {
            bound: Bound::AtMost,
            value: 10.0,
        };
        assert!(at_least.met_by(10.0) && !at_least.met_by(9.9));
        assert!(at_most.met_by(10.0) && !at_most.met_by(10.1));
        assert_eq!(sample().missed_targets(), vec!["accepted/s"]);
    }

    #[test]
    fn a_missed_target_passes_but_a_broken_promise_or_the_deadline_fails() {
        let mut r = sample();
        assert!(r.passed(), "targets are reported, not fatal");
        r.promise("sends after STOP", 2);
        assert!(!r.passed());
        let mut late = sample();
        late.completed = false;
        assert!(!late.passed());
    }

    #[test]
    fn the_table_shows_figures_targets_and_verdicts() {
        let mut r = sample();
        r.promise("duplicates", 1);
        let text = r.to_string();
        assert!(text.contains("accepted/s"), "{text}");
        assert!(text.contains("≥ 20000 SHORT"), "{text}");
        assert!(text.contains("≤ 25 ok"), "{text}");
        assert!(text.contains("BROKEN"), "{text}");
    }

    #[test]
    fn json_round_trips() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("r.json");
        let r = sample();
        r.write_json(&path).expect("written");
        let back: Report =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("parsed");
        assert_eq!(back.figures, r.figures);
        assert_eq!(back.promises, r.promises);
        assert_eq!(back.parameters["count"], 10);
    }

    #[test]
    fn numbers_print_with_sensible_precision() {
        assert_eq!(number(25_000.0), "25000");
        assert_eq!(number(1234.56), "1235");
        assert_eq!(number(4.567), "4.57");
        assert_eq!(number(0.9912), "0.991");
    }
}
