//! Reports of a run: the human summary (a table of mismatches, a tally per class, counts
//! and wall time) and the JSON document, both built from the same [`RunReport`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::outcome::{ErrorClass, Outcome};
use crate::runner::ScenarioResult;

/// Everything a run produced.
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub connector: String,
    pub scenarios: Vec<ScenarioResult>,
    /// Scenario files that could not be loaded, as `path:line:column: message`.
    pub file_errors: Vec<String>,
    pub summary: Summary,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    /// Scenarios that could not run here (real servers without Docker).
    pub skipped: usize,
    /// Scenarios where the connector reported no outcome at all (not in `failed`).
    pub connector_errors: usize,
    pub file_errors: usize,
    pub duration_ms: u128,
}

impl Summary {
    fn of(scenarios: &[ScenarioResult], file_errors: usize, duration_ms: u128) -> Summary {
        let passed = scenarios.iter().filter(|r| r.passed).count();
        let skipped = scenarios.iter().filter(|r| r.skipped.is_some()).count();
        let connector_errors = scenarios
            .iter()
            .filter(|r| r.connector_error.is_some())
            .count();
        Summary {
            total: scenarios.len(),
            passed,
            failed: scenarios.len() - passed - skipped - connector_errors,
            skipped,
            connector_errors,
            file_errors,
            duration_ms,
        }
    }
}

impl RunReport {
    pub fn new(
        connector: &str,
        scenarios: Vec<ScenarioResult>,
        file_errors: Vec<String>,
        duration_ms: u128,
    ) -> RunReport {
        RunReport {
            connector: connector.to_owned(),
            summary: Summary::of(&scenarios, file_errors.len(), duration_ms),
            scenarios,
            file_errors,
        }
    }

    /// Counts the scenarios again after their verdicts changed (see [`crate::baseline`]).
    pub fn recount(&mut self) {
        self.summary = Summary::of(
            &self.scenarios,
            self.file_errors.len(),
            self.summary.duration_ms,
        );
    }

    /// The exit code CI gates on: 0 all as expected, 1 a mismatch, 2 a bad scenario file.
    pub fn exit_code(&self) -> u8 {
        if self.summary.file_errors > 0 {
            2
        } else if self.summary.failed > 0 || self.summary.connector_errors > 0 {
            1
        } else {
            0
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises")
    }

    /// The human summary; `colour` adds ANSI colours.
    pub fn to_human(&self, colour: bool) -> String {
        let paint = |code: &str, text: &str| {
            if colour {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        let failures: Vec<&ScenarioResult> = self
            .scenarios
            .iter()
            .filter(|r| !r.passed && r.skipped.is_none())
            .collect();
        if !failures.is_empty() {
            let rows: Vec<[String; 3]> = failures
                .iter()
                .map(|r| {
                    [
                        r.id.clone(),
                        r.expected.to_string(),
                        r.mismatch.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let _ = writeln!(out, "{}", paint("1;31", "Mismatches"));
            out.push_str(&table(&["scenario", "expected", "what happened"], &rows));
            out.push('\n');
        }
        let mut tally: BTreeMap<ErrorClass, (usize, usize)> = BTreeMap::new();
        for result in &self.scenarios {
            let Some(outcome) = &result.outcome else {
                continue;
            };
            let entry = tally.entry(outcome.class).or_default();
            entry.0 += 1;
            if !result.passed {
                entry.1 += 1;
            }
        }
        let rows: Vec<[String; 3]> = tally
            .iter()
            .map(|(class, (count, failed))| {
                [class.to_string(), count.to_string(), failed.to_string()]
            })
            .collect();
        let _ = writeln!(out, "Outcomes of connector `{}`", self.connector);
        out.push_str(&table(&["class", "scenarios", "mismatched"], &rows));
        let skipped: Vec<&ScenarioResult> = self
            .scenarios
            .iter()
            .filter(|r| r.skipped.is_some())
            .collect();
        if let Some(first) = skipped.first() {
            let _ = writeln!(
                out,
                "{} {} scenarios: {}",
                paint("1;33", "skipped"),
                skipped.len(),
                first.skipped.as_deref().unwrap_or_default()
            );
        }
        for error in &self.file_errors {
            let _ = writeln!(out, "{} {error}", paint("1;31", "bad scenario file:"));
        }
        let s = &self.summary;
        let verdict = if self.exit_code() == 0 {
            paint("1;32", "all as expected")
        } else {
            paint("1;31", "NOT as expected")
        };
        let _ = writeln!(
            out,
            "\n{} scenarios, {} passed{}, {} failed, {} skipped, {}{} bad files in {:.1} s: {verdict}",
            s.total,
            s.passed,
            match self.scenarios.iter().filter(|r| r.known_deviation).count() {
                0 => String::new(),
                known => format!(" ({known} as the baseline records)"),
            },
            s.failed,
            s.skipped,
            if s.connector_errors > 0 {
                format!("{} connector errors, ", s.connector_errors)
            } else {
                String::new()
            },
            s.file_errors,
            s.duration_ms as f64 / 1000.0
        );
        out
    }
}

/// The conformance matrix: one row per scenario, one column per connector, each cell the
/// class (and detail) it reported, marked where it differs from `[expect]`. Markdown, so it
/// can go into a pull request or a report.
pub fn matrix(reports: &[RunReport]) -> String {
    let mut out = String::from("| scenario | expected |");
    for report in reports {
        out.push_str(&format!(" {} |", report.connector));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(reports.len()));
    out.push('\n');
    let Some(first) = reports.first() else {
        return out;
    };
    for (index, scenario) in first.scenarios.iter().enumerate() {
        out.push_str(&format!("| {} | {} |", scenario.id, scenario.expected));
        for report in reports {
            let cell = match report.scenarios.get(index) {
                Some(result) if result.skipped.is_some() => "skipped".to_owned(),
                Some(result) => {
                    let shown = match &result.outcome {
                        Some(outcome) => short(outcome),
                        None => "connector error".to_owned(),
                    };
                    if result.passed {
                        shown
                    } else {
                        format!("**{shown}** ✗")
                    }
                }
                None => String::new(),
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    let totals: Vec<String> = reports
        .iter()
        .map(|r| {
            format!(
                "{}: {}/{} as expected",
                r.connector, r.summary.passed, r.summary.total
            )
        })
        .collect();
    out.push_str(&format!("\n{}\n", totals.join(" · ")));
    out
}

fn short(outcome: &Outcome) -> String {
    match &outcome.detail {
        Some(detail) => format!("{} ({detail})", outcome.class),
        None => outcome.class.to_string(),
    }
}

/// A plain text table with aligned columns.
pub fn table<const N: usize>(headers: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ");
        text.truncate(text.trim_end().len());
        text.push('\n');
        text
    };
    let mut out = line(headers.to_vec());
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Step;
    use crate::scenario::Expect;

    fn result(id: &str, passed: bool) -> ScenarioResult {
        ScenarioResult {
            id: id.into(),
            description: "d".into(),
            tags: vec![],
            expected: Expect {
                class: ErrorClass::Unauthorized,
                step: Some(Step::ImapLogin),
                detail: None,
            },
            outcome: Some(Outcome::failed(
                ErrorClass::Unauthorized,
                Step::ImapLogin,
                crate::outcome::Detail::WrongCredentials,
            )),
            passed,
            mismatch: (!passed).then(|| "expected x, got y".to_owned()),
            connector_error: None,
            skipped: None,
            known_deviation: false,
            duration_ms: 5,
            transcripts: vec![],
        }
    }

    #[test]
    fn exit_codes_and_summary() {
        let all_good = RunReport::new("reference", vec![result("a", true)], vec![], 1200);
        assert_eq!(all_good.exit_code(), 0);
        let human = all_good.to_human(false);
        assert!(
            human.contains(
                "1 scenarios, 1 passed, 0 failed, 0 skipped, 0 bad files in 1.2 s: all as expected"
            ),
            "{human}"
        );
        assert!(!human.contains("Mismatches"));
        assert!(!human.contains('\x1b'));

        let mismatch = RunReport::new(
            "reference",
            vec![result("a", true), result("tls/b", false)],
            vec![],
            10,
        );
        assert_eq!(mismatch.exit_code(), 1);
        let human = mismatch.to_human(false);
        assert!(
            human.contains("tls/b     unauthorized at imap-login  expected x, got y"),
            "{human}"
        );
        assert!(mismatch.to_human(true).contains("\x1b[1;31m"));

        let bad_file = RunReport::new(
            "reference",
            vec![result("a", true)],
            vec!["x.toml:1:1: oops".into()],
            10,
        );
        assert_eq!(bad_file.exit_code(), 2);
        assert!(
            bad_file
                .to_human(false)
                .contains("bad scenario file: x.toml:1:1: oops")
        );
        let json: serde_json::Value = serde_json::from_str(&bad_file.to_json()).unwrap();
        assert_eq!(json["summary"]["file_errors"], 1);
        assert_eq!(json["scenarios"][0]["outcome"]["class"], "unauthorized");
    }

    #[test]
    fn tables_align_columns() {
        let text = table(&["a", "bb"], &[["long cell".into(), "x".into()]]);
        assert_eq!(text, "a          bb\n---------  --\nlong cell  x\n");
    }
}
