//! Known deviations (`mailharness run --baseline FILE`): the outcomes a connector is known to
//! give where they differ from a scenario's `[expect]`, so that a connector that does not
//! yet pass everything can gate its CI on *changes*. This is insta's review flow for
//! people outside this repository.
//!
//! With a baseline, a scenario listed for the connector passes when the connector gives
//! exactly the recorded outcome (class, step and detail), and fails when it gives anything
//! else: worse (another deviation) or better (now as `[expect]` says: the entry is stale).
//! Scenarios not listed are judged by `[expect]` as always. `--update-baseline` rewrites
//! the entries of the scenarios the run ran (an entry for every mismatch with an outcome)
//! and keeps the rest, so a shard or a partial run loses nothing. A connector error is
//! never a known outcome.
//!
//! The file is TOML, or JSON when its name ends in `.json`, with the same fields:
//!
//! ```toml
//! [[known]]
//! connector = "python-stdlib"
//! scenario = "network/imap-garbage-greeting"
//! class = "imap_settings_incorrect"
//! step = "imap-connect"
//! detail = "connection-closed"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::file_error::FileError;
use crate::outcome::{ErrorClass, Step};
use crate::report::RunReport;
use crate::runner::compare;
use crate::scenario::Expect;

/// One known outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Known {
    pub connector: String,
    pub scenario: String,
    pub class: ErrorClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A baseline file's contents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    #[serde(default)]
    pub known: Vec<Known>,
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

impl Baseline {
    /// Reads `path`; a missing file, bad syntax, an unknown field or a scenario listed twice
    /// for one connector is an error with its position.
    pub fn load(path: &Path) -> Result<Baseline, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError::io(path, &e))?;
        Self::parse(path, &text)
    }

    /// Parses `text` (TOML, or JSON for a `.json` path); `path` is for messages.
    pub fn parse(path: &Path, text: &str) -> Result<Baseline, FileError> {
        let baseline: Baseline = if is_json(path) {
            serde_json::from_str(text).map_err(|error| {
                let offset = offset_of(text, error.line(), error.column());
                let message = format!(
                    "{error}; expected {{\"known\": [{{\"connector\", \"scenario\", \"class\", \"step\", \"detail\"}}, …]}}"
                );
                FileError::at(path, text, Some(offset..offset), message)
            })?
        } else {
            toml::from_str(text).map_err(|error| {
                let message = format!(
                    "{}; expected [[known]] tables with connector, scenario, class and optionally step and detail",
                    error.message().trim()
                );
                FileError::at(path, text, error.span(), message)
            })?
        };
        let mut seen = BTreeMap::new();
        for known in &baseline.known {
            if seen
                .insert((&known.connector, &known.scenario), ())
                .is_some()
            {
                let needle = format!("{:?}", known.scenario);
                let at = text
                    .match_indices(&needle)
                    .nth(1)
                    .map(|(i, _)| i..i + needle.len());
                return Err(FileError::at(
                    path,
                    text,
                    at,
                    format!(
                        "scenario {} is listed twice for connector {}; expected one entry per scenario and connector",
                        known.scenario, known.connector
                    ),
                ));
            }
        }
        Ok(baseline)
    }

    fn get(&self, connector: &str, scenario: &str) -> Option<&Known> {
        self.known
            .iter()
            .find(|k| k.connector == connector && k.scenario == scenario)
    }

    /// Judges `report` against the baseline: a listed scenario passes exactly when its
    /// outcome is the recorded one; a change either way is a mismatch that says so.
    pub fn apply(&self, report: &mut RunReport) {
        for result in &mut report.scenarios {
            let Some(known) = self.get(&report.connector, &result.id) else {
                continue;
            };
            let recorded = Expect {
                class: known.class,
                step: known.step,
                detail: known.detail.clone(),
            };
            let Some(outcome) = &result.outcome else {
                // No outcome (a connector error, a skip): judged as without a baseline.
                continue;
            };
            let exact = outcome.class == known.class
                && outcome.step == known.step
                && outcome.detail == known.detail;
            if exact {
                result.passed = true;
                result.mismatch = None;
                result.known_deviation = true;
            } else if result.passed {
                result.passed = false;
                result.mismatch = Some(format!(
                    "better than the baseline: now as expected ({outcome}); remove its entry or run --update-baseline"
                ));
            } else {
                result.passed = false;
                result.mismatch = Some(format!(
                    "changed from the baseline: {}",
                    compare(&recorded, outcome).unwrap_or_default()
                ));
            }
        }
        report.recount();
    }

    /// The baseline a run makes: every mismatch with an outcome, per connector, sorted.
    pub fn from_reports(reports: &[RunReport]) -> Baseline {
        let mut known: Vec<Known> = reports
            .iter()
            .flat_map(|report| {
                report
                    .scenarios
                    .iter()
                    .filter(|r| r.skipped.is_none() && r.connector_error.is_none())
                    .filter(|r| !r.passed || r.known_deviation)
                    .filter_map(|r| {
                        let outcome = r.outcome.as_ref()?;
                        Some(Known {
                            connector: report.connector.clone(),
                            scenario: r.id.clone(),
                            class: outcome.class,
                            step: outcome.step,
                            detail: outcome.detail.clone(),
                        })
                    })
            })
            .collect();
        known.sort_by(|a, b| (&a.connector, &a.scenario).cmp(&(&b.connector, &b.scenario)));
        Baseline { known }
    }

    /// This baseline updated by a run: entries for the scenarios the run ran (for its
    /// connectors) are replaced by its mismatches; the others (other connectors, scenarios
    /// outside a partial run or shard) are kept as they are.
    pub fn updated(&self, reports: &[RunReport]) -> Baseline {
        let ran = |known: &Known| {
            reports.iter().any(|report| {
                report.connector == known.connector
                    && report.scenarios.iter().any(|r| r.id == known.scenario)
            })
        };
        let mut known: Vec<Known> = self.known.iter().filter(|k| !ran(k)).cloned().collect();
        known.extend(Self::from_reports(reports).known);
        known.sort_by(|a, b| (&a.connector, &a.scenario).cmp(&(&b.connector, &b.scenario)));
        Baseline { known }
    }

    /// The file's text for `path` (TOML, or JSON for `.json`).
    pub fn to_text(&self, path: &Path) -> String {
        if is_json(path) {
            serde_json::to_string_pretty(self).expect("a baseline serialises") + "\n"
        } else {
            let body = toml::to_string(self).expect("a baseline serialises");
            format!(
                "# mailharness baseline: outcomes each connector is known to give where they differ\n# from [expect]. Written by `mailharness run --update-baseline`; see `mailharness run --help`.\n\n{body}"
            )
        }
    }
}

/// The byte offset of a 1-based line and column (serde_json's position).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/run.md's example baseline is valid.
    #[test]
    fn the_docs_example_is_valid() {
        let doc = include_str!("../../docs/run.md");
        let blocks = crate::doc_examples::blocks(doc, "toml");
        assert!(!blocks.is_empty());
        for block in blocks {
            if let Err(error) = Baseline::parse(Path::new("docs/run.md"), block) {
                panic!("{block}: {error}");
            }
        }
    }
    use crate::outcome::Outcome;
    use crate::runner::ScenarioResult;

    fn result(id: &str, expect: ErrorClass, got: Outcome) -> ScenarioResult {
        let expected = Expect {
            class: expect,
            step: None,
            detail: None,
        };
        ScenarioResult::judged(id, expected, got)
    }

    fn timeout() -> Outcome {
        Outcome::failed(
            ErrorClass::ImapSettingsIncorrect,
            Step::ImapConnect,
            crate::outcome::Detail::Timeout,
        )
    }

    #[test]
    fn a_recorded_deviation_passes_and_any_change_fails_saying_which_way() {
        let report = |got_deviation: Outcome, got_good: Outcome| {
            RunReport::new(
                "c",
                vec![
                    result("dev", ErrorClass::Unauthorized, got_deviation),
                    result("good", ErrorClass::Ok, got_good),
                ],
                Vec::new(),
                1,
            )
        };
        let baseline = Baseline::from_reports(&[report(timeout(), Outcome::ok())]);
        assert_eq!(baseline.known.len(), 1);
        assert_eq!(baseline.known[0].scenario, "dev");

        let mut same = report(timeout(), Outcome::ok());
        baseline.apply(&mut same);
        assert_eq!(same.exit_code(), 0);
        assert!(same.scenarios[0].known_deviation);

        let mut worse = report(
            Outcome::failed(
                ErrorClass::ImapSettingsIncorrect,
                Step::ImapConnect,
                crate::outcome::Detail::ConnectionReset,
            ),
            Outcome::ok(),
        );
        baseline.apply(&mut worse);
        assert_eq!(worse.exit_code(), 1);
        assert!(worse.scenarios[0].mismatch.as_ref().unwrap().starts_with("changed from the baseline: expected imap_settings_incorrect at imap-connect (timeout), got"));

        let mut better = report(
            Outcome::failed(
                ErrorClass::Unauthorized,
                Step::ImapLogin,
                crate::outcome::Detail::WrongCredentials,
            ),
            Outcome::ok(),
        );
        baseline.apply(&mut better);
        assert_eq!(better.exit_code(), 1);
        assert!(
            better.scenarios[0]
                .mismatch
                .as_ref()
                .unwrap()
                .starts_with("better than the baseline")
        );

        // A scenario the baseline does not list is judged by [expect] as always.
        let mut regressed = report(timeout(), timeout());
        baseline.apply(&mut regressed);
        assert_eq!(regressed.summary.failed, 1);
    }

    #[test]
    fn an_update_keeps_what_the_run_did_not_cover() {
        let entry = |connector: &str, scenario: &str| Known {
            connector: connector.into(),
            scenario: scenario.into(),
            class: ErrorClass::Unauthorized,
            step: None,
            detail: None,
        };
        let existing = Baseline {
            known: vec![
                entry("c", "ran-and-fixed"),
                entry("c", "other-shard"),
                entry("d", "ran-and-fixed"),
            ],
        };
        let run = RunReport::new(
            "c",
            vec![
                result("ran-and-fixed", ErrorClass::Ok, Outcome::ok()),
                result("new", ErrorClass::Unauthorized, timeout()),
            ],
            Vec::new(),
            1,
        );
        let updated = existing.updated(&[run]);
        let names: Vec<(&str, &str)> = updated
            .known
            .iter()
            .map(|k| (k.connector.as_str(), k.scenario.as_str()))
            .collect();
        assert_eq!(
            names,
            [("c", "new"), ("c", "other-shard"), ("d", "ran-and-fixed")]
        );
    }

    #[test]
    fn toml_and_json_round_trip() {
        let baseline = Baseline::from_reports(&[RunReport::new(
            "python-stdlib",
            vec![result("tls/x", ErrorClass::Unauthorized, timeout())],
            Vec::new(),
            1,
        )]);
        for name in ["b.toml", "b.json"] {
            let path = Path::new(name);
            assert_eq!(
                Baseline::parse(path, &baseline.to_text(path)).unwrap(),
                baseline
            );
        }
    }

    #[test]
    fn bad_files_name_line_column_and_what_was_expected() {
        let toml = "[[known]]\nconnector = \"c\"\nscenario = \"s\"\nclass = \"nope\"\n";
        let error = Baseline::parse(Path::new("b.toml"), toml).unwrap_err();
        assert_eq!(error.location, "b.toml:4:9");
        assert!(
            error.message.contains("expected [[known]] tables"),
            "{}",
            error.message
        );

        let json =
            "{\"known\": [\n  {\"connector\": \"c\", \"scenario\": \"s\", \"clas\": \"ok\"}\n]}";
        let error = Baseline::parse(Path::new("b.json"), json).unwrap_err();
        assert!(
            error.location.starts_with("b.json:2:"),
            "{}",
            error.location
        );
        assert!(
            error.message.contains("expected {\"known\""),
            "{}",
            error.message
        );

        let twice = "[[known]]\nconnector = \"c\"\nscenario = \"s\"\nclass = \"ok\"\n[[known]]\nconnector = \"c\"\nscenario = \"s\"\nclass = \"ok\"\n";
        let error = Baseline::parse(Path::new("b.toml"), twice).unwrap_err();
        assert_eq!(error.location, "b.toml:7:12");
        assert!(error.message.contains("listed twice"));
    }
}
