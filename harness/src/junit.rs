//! JUnit XML of a run (`mailharness run --junit FILE`), in the Ant/Jenkins form that CI
//! systems (GitHub, GitLab, Jenkins, Buildkite) and tools like nextest and pytest share:
//!
//! - one `<testsuite>` per connector (`name` = the connector), with `<properties>` naming
//!   the mailharness version and the connector;
//! - one `<testcase>` per scenario: `classname` = its topic (the first part of its id),
//!   `name` = its id, `time` in seconds;
//! - `<failure type="<class reported>" message="expected …, got …">` for a mismatch, with
//!   the server's reply and the servers' transcripts (passwords already redacted) as text;
//! - `<error>` for a scenario that gave no outcome (a connector error, or the harness could
//!   not set it up), never counted as a failure; `<skipped message>` for one that could not
//!   run here.
//!
//! Text from servers may hold anything: characters XML 1.0 cannot carry become U+FFFD.

use std::fmt::Write as _;

use crate::report::RunReport;
use crate::runner::ScenarioResult;

/// What became of one scenario, as JUnit counts it.
enum Verdict<'a> {
    Passed,
    Failure { kind: String, message: &'a str },
    Error { message: &'a str },
    Skipped { message: &'a str },
}

fn verdict(result: &ScenarioResult) -> Verdict<'_> {
    if let Some(reason) = &result.skipped {
        return Verdict::Skipped { message: reason };
    }
    if result.passed {
        return Verdict::Passed;
    }
    let message = result.mismatch.as_deref().unwrap_or("no outcome");
    match &result.outcome {
        Some(outcome) if result.connector_error.is_none() => Verdict::Failure {
            kind: outcome.class.to_string(),
            message,
        },
        _ => Verdict::Error { message },
    }
}

/// The topic of a scenario id: `tls` for `tls/imap-expired`, `scenarios` for a bare id.
fn topic(id: &str) -> &str {
    id.split_once('/').map_or("scenarios", |(topic, _)| topic)
}

/// `text` made safe for an attribute value or element text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Attribute values keep line breaks only as references.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if allowed_in_xml(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Whether XML 1.0 can carry `c` at all (its `Char` production).
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn seconds(ms: u128) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// The body of a failure: the server's reply and the transcripts.
fn failure_text(result: &ScenarioResult) -> String {
    let mut text = String::new();
    if let Some(response) = result.outcome.as_ref().and_then(|o| o.response.as_ref()) {
        let code = response.code.as_deref().unwrap_or("");
        let _ = writeln!(text, "server reply: {code} {}", response.text);
    }
    for transcript in &result.transcripts {
        let _ = write!(text, "{transcript}");
    }
    text
}

/// The JUnit XML document for the reports of one run (one per connector).
pub fn render(reports: &[RunReport]) -> String {
    let mut totals = [0usize; 4]; // tests, failures, errors, skipped
    let mut suites = String::new();
    for report in reports {
        let mut counts = [report.scenarios.len(), 0, 0, 0];
        let mut cases = String::new();
        for result in &report.scenarios {
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
                escape(topic(&result.id)),
                escape(&result.id),
                seconds(result.duration_ms)
            );
            match verdict(result) {
                Verdict::Passed => cases.push_str("/>\n"),
                Verdict::Failure { kind, message } => {
                    counts[1] += 1;
                    let _ = write!(
                        cases,
                        ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                        escape(&kind),
                        escape(message),
                        escape(&failure_text(result))
                    );
                }
                Verdict::Error { message } => {
                    counts[2] += 1;
                    let _ = write!(
                        cases,
                        ">\n      <error message=\"{}\">{}</error>\n    </testcase>\n",
                        escape(message),
                        escape(&failure_text(result))
                    );
                }
                Verdict::Skipped { message } => {
                    counts[3] += 1;
                    let _ = write!(
                        cases,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        escape(message)
                    );
                }
            }
        }
        for (total, count) in totals.iter_mut().zip(counts) {
            *total += count;
        }
        let _ = write!(
            suites,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n    <properties>\n      <property name=\"mailharness.version\" value=\"{}\"/>\n      <property name=\"connector\" value=\"{name}\"/>\n    </properties>\n{cases}  </testsuite>\n",
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            seconds(report.summary.duration_ms),
            env!("CARGO_PKG_VERSION"),
            name = escape(&report.connector),
        );
    }
    let time: u128 = reports.iter().map(|r| r.summary.duration_ms).sum();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mailharness\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n{suites}</testsuites>\n",
        totals[0],
        totals[1],
        totals[2],
        totals[3],
        seconds(time)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{ErrorClass, Outcome, Step};
    use crate::scenario::Expect;

    fn result(id: &str) -> ScenarioResult {
        let expected = Expect {
            class: ErrorClass::Ok,
            step: None,
            detail: None,
        };
        let mut result = ScenarioResult::judged(id, expected, Outcome::ok());
        result.duration_ms = 1234;
        result
    }

    #[test]
    fn each_verdict_has_its_element_and_is_counted() {
        let passed = result("tls/imap-valid");
        let mut failed = result("auth/wrong");
        failed.passed = false;
        failed.outcome = Some(Outcome::failed(
            ErrorClass::Unauthorized,
            Step::ImapLogin,
            crate::outcome::Detail::WrongCredentials,
        ));
        failed.mismatch = Some("expected ok, got unauthorized <&>".into());
        let mut error = result("smtp/x");
        error.passed = false;
        error.outcome = None;
        error.mismatch = Some("connector error: it crashed".into());
        error.connector_error = error.mismatch.clone();
        let mut skipped = result("bare");
        skipped.passed = false;
        skipped.outcome = None;
        skipped.skipped = Some("no Docker".into());
        let report = RunReport::new(
            "ref\"erence",
            vec![passed, failed, error, skipped],
            Vec::new(),
            5,
        );
        let xml = render(&[report]);
        assert!(xml.contains("<testsuites name=\"mailharness\" tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""), "{xml}");
        assert!(xml.contains("<testsuite name=\"ref&quot;erence\" tests=\"4\""));
        assert!(
            xml.contains("<testcase classname=\"tls\" name=\"tls/imap-valid\" time=\"1.234\"/>")
        );
        assert!(xml.contains("<failure type=\"unauthorized\" message=\"expected ok, got unauthorized &lt;&amp;&gt;\">"));
        assert!(xml.contains("<error message=\"connector error: it crashed\">"));
        assert!(xml.contains("<testcase classname=\"scenarios\" name=\"bare\""));
        assert!(xml.contains("<skipped message=\"no Docker\"/>"));
        assert!(xml.contains(&format!("value=\"{}\"", env!("CARGO_PKG_VERSION"))));
    }

    #[test]
    fn characters_xml_cannot_carry_are_replaced() {
        assert_eq!(
            escape("a\u{0}b\u{1b}c\nd\u{FFFE}"),
            "a\u{FFFD}b\u{FFFD}c&#10;d\u{FFFD}"
        );
    }
}
