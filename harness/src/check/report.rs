//! What `mailharness check` reports: one row per requirement (verdict, the server's own
//! words as evidence, the class a connector would report, the remedy), the summary a
//! connector would give, and the human and JSON renderings.

use std::fmt::Write as _;

use serde::Serialize;

use super::requirement::Requirement;
use crate::outcome::{ErrorClass, Outcome};

/// How a requirement fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// Met, but something needs attention (a certificate expiring soon, a name found only
    /// in the CN, a bad certificate accepted only because insecure certificates are
    /// allowed).
    Warn,
    Fail,
    /// Not checked: an earlier requirement it depends on failed, or it was not asked for.
    Skipped,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skip",
        }
    }
}

/// One requirement's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub number: usize,
    pub requirement: Requirement,
    pub title: &'static str,
    pub verdict: Verdict,
    /// What was seen, in the server's own words where it said any.
    pub evidence: String,
    /// The class (and detail) a connector would report because of this row; none when the
    /// row does not stop a connector.
    pub class: Option<ErrorClass>,
    pub detail: Option<String>,
    /// What to change, for a warning or a failure.
    pub remedy: Option<String>,
}

impl Row {
    pub fn new(requirement: Requirement, verdict: Verdict, evidence: impl Into<String>) -> Row {
        Row {
            number: requirement.number(),
            requirement,
            title: requirement.title(),
            verdict,
            evidence: shown(&evidence.into()),
            class: None,
            detail: None,
            remedy: None,
        }
    }

    pub fn pass(requirement: Requirement, evidence: impl Into<String>) -> Row {
        Row::new(requirement, Verdict::Pass, evidence)
    }

    pub fn skipped(requirement: Requirement, why: impl Into<String>) -> Row {
        Row::new(requirement, Verdict::Skipped, why)
    }

    /// A failure: a connector would stop with `class` (`detail`: a [`crate::detail::Detail`],
    /// or the detail of a reference connector's outcome).
    pub fn fail(
        requirement: Requirement,
        class: ErrorClass,
        detail: impl AsRef<str>,
        evidence: impl Into<String>,
    ) -> Row {
        let detail = detail.as_ref();
        let mut row = Row::new(requirement, Verdict::Fail, evidence);
        row.class = Some(class);
        row.detail = Some(detail.to_owned());
        row.remedy = Some(super::remedy::remedy(requirement, class, detail));
        row
    }

    /// A failure as the client layer (`probe`) reported it: its class and detail, and as
    /// evidence what was being done (`what`), and what the server said or else what
    /// happened.
    pub fn from_failure(
        requirement: Requirement,
        failure: impl Into<crate::probe::Failure>,
        what: &str,
    ) -> Row {
        let failure = failure.into();
        let outcome = &failure.outcome;
        let detail = outcome.detail.as_deref().unwrap_or("failed");
        let said = outcome
            .response
            .as_ref()
            .map(|r| {
                let code = r
                    .code
                    .as_deref()
                    .map(|c| format!("{c} "))
                    .unwrap_or_default();
                format!("\nserver: {code}{}", r.text)
            })
            .or_else(|| failure.why.as_ref().map(|why| format!(": {why}")))
            .unwrap_or_default();
        Row::fail(
            requirement,
            outcome.class,
            detail,
            format!("{what}: {detail}{said}"),
        )
    }

    /// A warning with its advice.
    pub fn warn(requirement: Requirement, evidence: impl Into<String>, advice: &str) -> Row {
        let mut row = Row::new(requirement, Verdict::Warn, evidence);
        row.remedy = Some(advice.to_owned());
        row
    }
}

/// The most characters of evidence a row keeps: a server's reply can be any size.
pub const MAX_EVIDENCE: usize = 600;

/// Evidence as a row shows it: control characters (but line breaks) escaped, cut after
/// [`MAX_EVIDENCE`] characters with a note of how much was left out.
fn shown(evidence: &str) -> String {
    let mut out = String::new();
    let mut chars = evidence.chars().peekable();
    let mut taken = 0;
    while let Some(c) = chars.next_if(|_| taken < MAX_EVIDENCE) {
        taken += 1;
        match c {
            '\n' => out.push('\n'),
            // Line ends as the server sent them (CRLF) show as line breaks.
            '\r' if chars.peek() == Some(&'\n') => {}
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    let rest = chars.count();
    if rest > 0 {
        out.push_str(&format!("… ({rest} more characters)"));
    }
    out
}

/// Marks the requirements of `of` that come after the last row in `rows` as skipped,
/// saying `why`: what an earlier failure leaves unchecked.
fn skip_rest(rows: &mut Vec<Row>, of: &[Requirement], why: &str) {
    let last = rows.last().map(|row| row.requirement);
    for requirement in of {
        if last.is_none_or(|last| *requirement > last) {
            rows.push(Row::skipped(*requirement, why));
        }
    }
}

/// A failed requirement that ends its port: its row, and why the port's later
/// requirements are not checked. A row function returns `Result<T, Stop>`, so a port's
/// check reads as one row after another with `?`, and [`Rows::finish`] closes it.
#[derive(Debug)]
pub struct Stop {
    pub row: Row,
    pub why: &'static str,
}

impl Stop {
    pub fn new(row: Row, why: &'static str) -> Stop {
        Stop { row, why }
    }
}

/// One port's rows as they are found. A failure ends the port: [`Rows::stop`] pushes it,
/// marks the port's later requirements skipped with the reason and hands the rows back, so
/// a check reads `return rows.stop(row, "why")`.
pub struct Rows {
    port: Vec<Requirement>,
    rows: Vec<Row>,
}

impl Rows {
    /// No rows yet, for the requirements of `port` (`Requirement::imap()`, or the part of
    /// it a function checks).
    pub fn new(port: impl IntoIterator<Item = Requirement>) -> Rows {
        Rows {
            port: port.into_iter().collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub fn extend(&mut self, rows: impl IntoIterator<Item = Row>) {
        self.rows.extend(rows);
    }

    /// The rows, after the port's checks ran to the end or stopped.
    pub fn finish(self, result: Result<(), Stop>) -> Vec<Row> {
        match result {
            Ok(()) => self.done(),
            Err(Stop { row, why }) => self.stop(row, why),
        }
    }

    /// The last row, then the port's later requirements skipped with `why`.
    pub fn stop(mut self, row: Row, why: &str) -> Vec<Row> {
        self.rows.push(row);
        self.skip(why)
    }

    /// The port's requirements after the last row, skipped with `why`.
    pub fn skip(mut self, why: &str) -> Vec<Row> {
        skip_rest(&mut self.rows, &self.port, why);
        self.rows
    }

    /// Every requirement of the port has its row.
    pub fn done(self) -> Vec<Row> {
        self.rows
    }
}

/// The whole check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// `host:port (security)` of each server and the login name.
    pub imap: String,
    pub smtp: String,
    pub login: String,
    pub rows: Vec<Row>,
    /// What a connector would report: the first failing row's class, or `ok`.
    pub summary: Outcome,
    /// Whether the test send ran (it needs `--send-test-to`).
    pub test_send_ran: bool,
}

impl CheckReport {
    pub fn new(imap: String, smtp: String, login: String, rows: Vec<Row>) -> CheckReport {
        let summary = rows
            .iter()
            .find(|row| row.verdict == Verdict::Fail)
            .map_or_else(Outcome::ok, |row| {
                let class = row.class.unwrap_or(ErrorClass::ImapValidationError);
                Outcome {
                    class,
                    step: Some(row.requirement.step()),
                    detail: row.detail.clone(),
                    response: None,
                }
            });
        let test_send_ran = rows
            .iter()
            .any(|row| row.requirement == Requirement::TestSend && row.verdict != Verdict::Skipped);
        CheckReport {
            imap,
            smtp,
            login,
            rows,
            summary,
            test_send_ran,
        }
    }

    /// The row of `requirement`.
    pub fn row(&self, requirement: Requirement) -> &Row {
        self.rows
            .iter()
            .find(|row| row.requirement == requirement)
            .expect("a report has a row for every requirement")
    }

    /// Whether any requirement fails.
    pub fn failed(&self) -> bool {
        self.rows.iter().any(|row| row.verdict == Verdict::Fail)
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.rows
            .iter()
            .filter(|row| row.verdict == verdict)
            .count()
    }

    /// The one-line summary: what a connector would report.
    pub fn summary_line(&self) -> String {
        let counts = format!(
            "{} pass, {} warn, {} fail, {} skipped",
            self.count(Verdict::Pass),
            self.count(Verdict::Warn),
            self.count(Verdict::Fail),
            self.count(Verdict::Skipped)
        );
        if self.summary.class == ErrorClass::Ok {
            let send = if self.test_send_ran {
                ""
            } else {
                " (test send not run: give --send-test-to ADDR)"
            };
            format!("{counts}. A connector would report: ok{send}")
        } else {
            format!("{counts}. A connector would report: {}", self.summary)
        }
    }

    /// The report for people: one block per row, then the summary.
    pub fn human(&self, colour: bool) -> String {
        let paint = |verdict: Verdict| {
            let label = format!("{:<4}", verdict.label());
            if !colour {
                return label;
            }
            let code = match verdict {
                Verdict::Pass => "32",
                Verdict::Warn => "33",
                Verdict::Fail => "31;1",
                Verdict::Skipped => "2",
            };
            format!("\x1b[{code}m{label}\x1b[0m")
        };
        let mut out = String::new();
        let _ = writeln!(out, "IMAP   {}", self.imap);
        let _ = writeln!(out, "SMTP   {}", self.smtp);
        let _ = writeln!(out, "login  {}", self.login);
        let _ = writeln!(out);
        for row in &self.rows {
            let _ = writeln!(
                out,
                "{} {:>2}. {}",
                paint(row.verdict),
                row.number,
                row.title
            );
            for line in row.evidence.lines() {
                let _ = writeln!(out, "          {line}");
            }
            if let Some(class) = row.class {
                let detail = row
                    .detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                let _ = writeln!(out, "          connector: {class}{detail}");
            }
            if let Some(remedy) = &row.remedy {
                let _ = writeln!(out, "          remedy: {remedy}");
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", self.summary_line());
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn evidence_is_cut_and_escaped() {
        let row = Row::pass(
            Requirement::ImapReachable,
            "* OK ready\r\nbell\x07 nul\0 cr\r.",
        );
        assert_eq!(row.evidence, "* OK ready\nbell\\u{7} nul\\u{0} cr\\r.");
        let row = Row::pass(Requirement::ImapReachable, "x".repeat(1_000_000));
        assert_eq!(
            row.evidence,
            format!(
                "{}… ({} more characters)",
                "x".repeat(MAX_EVIDENCE),
                1_000_000 - MAX_EVIDENCE
            )
        );
    }

    use super::*;
    use crate::detail::Detail;

    #[test]
    fn summary_names_the_first_failing_row() {
        let rows = vec![
            Row::pass(Requirement::ImapReachable, "connected"),
            Row::warn(Requirement::ImapCertificate, "expires in 3 days", "renew"),
            Row::fail(
                Requirement::ImapServerSoftware,
                ErrorClass::ImapValidationError,
                Detail::CourierImap,
                "* OK Courier-IMAP ready.",
            ),
            Row::fail(
                Requirement::SmtpAuth,
                ErrorClass::SmtpSettingsIncorrect,
                Detail::AuthNotOffered,
                "",
            ),
        ];
        let report = CheckReport::new("i".into(), "s".into(), "l".into(), rows);
        assert!(report.failed());
        assert_eq!(
            report.summary.to_string(),
            "imap_validation_error at imap-connect (courier-imap)"
        );
        assert!(report.summary_line().starts_with("1 pass, 1 warn, 2 fail"));
        let passing = CheckReport::new(
            "i".into(),
            "s".into(),
            "l".into(),
            vec![Row::pass(Requirement::ImapReachable, "connected")],
        );
        assert!(!passing.failed());
        assert!(
            passing
                .summary_line()
                .ends_with("ok (test send not run: give --send-test-to ADDR)")
        );
    }
}
