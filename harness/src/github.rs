//! GitHub Actions conventions for a run (when `GITHUB_ACTIONS=true`): an `::error`
//! annotation for each of the first [`MAX_ANNOTATIONS`] mismatches and one `::notice`
//! counting the rest, and the human summary for the job's summary page
//! (`$GITHUB_STEP_SUMMARY`), kept under GitHub's 1 MiB limit.
//!
//! The annotations go to stderr, which the runner reads for workflow commands as it does
//! stdout, so that a JSON report on stdout is never mixed with anything else.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::report::RunReport;

/// Annotations shown at most; GitHub shows ten errors per step.
pub const MAX_ANNOTATIONS: usize = 10;

/// The most a step summary may hold (GitHub refuses a larger one).
pub const MAX_SUMMARY_BYTES: usize = 1024 * 1024;

/// Whether the run is a GitHub Actions job.
pub fn active() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// A workflow command's message: `%`, CR and LF escaped as the runner expects.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: as [`escape_data`], and `:` and `,` too.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The annotation lines for `reports`; `files` gives each scenario id's file. Only a file
/// inside the working directory (the checkout) is named: a built-in scenario's copy in the
/// cache is not one GitHub can show.
pub fn annotations(reports: &[RunReport], files: &HashMap<String, PathBuf>) -> String {
    let here = std::env::current_dir().unwrap_or_default();
    let mismatches: Vec<(&str, &crate::runner::ScenarioResult)> = reports
        .iter()
        .flat_map(|report| {
            report
                .scenarios
                .iter()
                .filter(|r| !r.passed && r.skipped.is_none())
                .map(move |r| (report.connector.as_str(), r))
        })
        .collect();
    let mut out = String::new();
    for (connector, result) in mismatches.iter().take(MAX_ANNOTATIONS) {
        let file = files
            .get(&result.id)
            .and_then(|path| match path.strip_prefix(&here) {
                Ok(inside) => Some(inside),
                Err(_) => path.is_relative().then_some(path.as_path()),
            })
            .map(|path| format!("file={},", escape_property(&path.display().to_string())))
            .unwrap_or_default();
        let title = format!("{} ({connector})", result.id);
        let _ = writeln!(
            out,
            "::error {file}title={}::{}",
            escape_property(&title),
            escape_data(result.mismatch.as_deref().unwrap_or("no outcome"))
        );
    }
    if mismatches.len() > MAX_ANNOTATIONS {
        let _ = writeln!(
            out,
            "::notice title=mailharness::{} more mismatches are not annotated: see the job summary",
            mismatches.len() - MAX_ANNOTATIONS
        );
    }
    out
}

/// The step summary: the human report in a code block, cut to fit [`MAX_SUMMARY_BYTES`].
pub fn step_summary(human: &str) -> String {
    const HEAD: &str = "## mailharness\n\n```text\n";
    const TAIL: &str = "```\n";
    const CUT: &str = "\n… (cut: the whole report is in the job log)\n";
    let room = MAX_SUMMARY_BYTES - HEAD.len() - TAIL.len() - CUT.len();
    let (body, cut) = if human.len() <= room {
        (human, "")
    } else {
        let mut end = room;
        while !human.is_char_boundary(end) {
            end -= 1;
        }
        (&human[..end], CUT)
    };
    // A fence inside the report would end the code block early.
    let body = body.replace("```", "'''");
    format!("{HEAD}{body}{cut}{TAIL}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{ErrorClass, Outcome};
    use crate::runner::ScenarioResult;
    use crate::scenario::Expect;

    fn mismatch(id: &str, text: &str) -> ScenarioResult {
        let expected = Expect {
            class: ErrorClass::Unauthorized,
            step: None,
            detail: None,
        };
        let mut result = ScenarioResult::judged(id, expected, Outcome::ok());
        result.mismatch = Some(text.into());
        result
    }

    #[test]
    fn ten_errors_at_most_then_a_notice_counting_the_rest() {
        let results = (0..13)
            .map(|i| mismatch(&format!("tls/s{i}"), "expected x, got y"))
            .collect();
        let report = RunReport::new("reference", results, Vec::new(), 1);
        let here = std::env::current_dir().unwrap();
        let files = HashMap::from([
            ("tls/s0".to_owned(), PathBuf::from("scenarios/tls/s0.toml")),
            ("tls/s1".to_owned(), here.join("mine/tls/s1.toml")),
            // Outside the checkout (a built-in scenario's copy): not named.
            ("tls/s2".to_owned(), PathBuf::from("/elsewhere/tls/s2.toml")),
        ]);
        let text = annotations(&[report], &files);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].starts_with("::error file=mine/tls/s1.toml,title=tls/s1 "),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("::error title=tls/s2 "),
            "{}",
            lines[2]
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with("::error ")).count(),
            10
        );
        assert_eq!(
            text.lines().next().unwrap(),
            "::error file=scenarios/tls/s0.toml,title=tls/s0 (reference)::expected x, got y"
        );
        assert!(text.ends_with(
            "::notice title=mailharness::3 more mismatches are not annotated: see the job summary\n"
        ));
    }

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        let report = RunReport::new("exec", vec![mismatch("x", "line\nnext")], Vec::new(), 1);
        assert_eq!(
            annotations(&[report], &HashMap::new()),
            "::error title=x (exec)::line%0Anext\n"
        );
    }

    #[test]
    fn the_summary_stays_under_a_mebibyte() {
        let small = step_summary("all as expected\n");
        assert_eq!(small, "## mailharness\n\n```text\nall as expected\n```\n");
        let huge = "é".repeat(MAX_SUMMARY_BYTES);
        let summary = step_summary(&huge);
        assert!(summary.len() <= MAX_SUMMARY_BYTES);
        assert!(summary.contains("(cut: the whole report is in the job log)"));
    }
}
