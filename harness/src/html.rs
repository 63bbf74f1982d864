//! The HTML reports (`mailharness run --html FILE`, `mailharness check --html FILE`): one
//! self-contained page each, to open in a browser or send to someone.
//!
//! - [`run_page`]: the counts and the tally per class of each connector, the scenario ×
//!   connector matrix with cells classed `match`, `mismatch`, `error` or `skipped`, and for
//!   each mismatch the expected and the reported outcome with the server's reply and the
//!   transcripts (passwords already redacted, see `mock-servers/src/transcript.rs`) behind a
//!   click (`<details>`). Checkboxes filter by tag and by connector; the address can preset
//!   them (`?tag=tls&connector=reference&only=problems`).
//! - [`check_page`]: what an administrator sends to their IT team: the servers checked, what
//!   a connector would report, what to change, and every requirement row.
//!
//! Nothing on a page is fetched: the style and the script are inline, there is no `src`,
//! no `<link>` and no address but the page's own anchors, and a Content-Security-Policy
//! forbids any fetch besides. Every text that comes from a server, a scenario or a
//! connector goes through [`escape`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::check::{CheckReport, Verdict};
use crate::outcome::ErrorClass;
use crate::report::RunReport;
use crate::runner::ScenarioResult;

/// Inline style and script only; no fetch of any kind.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

const STYLE: &str = r#"
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 78em; padding: 0 1em; color: #1d1d1f; }
h1 { margin-bottom: 0.2em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #d0d0d0; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
thead th { background: #f2f2f2; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
td.num { text-align: right; }
.match, .pass { background: #d9f2dc; }
.mismatch, .fail { background: #f8d0d0; }
.error, .warn { background: #ffe3b3; }
.skipped, .skip { background: #e8e8e8; color: #555; }
.legend span { display: inline-block; padding: 0 0.5em; margin-right: 0.4em; border: 1px solid #d0d0d0; }
td a { color: inherit; }
fieldset { display: inline-block; vertical-align: top; margin: 0 1em 0.5em 0; border: 1px solid #ccc; }
fieldset label { margin-right: 0.8em; white-space: nowrap; }
details { border: 1px solid #d0d0d0; border-left: 6px solid #c33; margin: 0.4em 0; padding: 0.3em 0.6em; }
details.error { border-left-color: #e90; }
details.match { border-left-color: #393; }
summary { cursor: pointer; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; }
dd { margin: 0; }
pre, .evidence { white-space: pre-wrap; word-break: break-word; font: 13px/1.35 ui-monospace, monospace; }
pre { background: #f7f7f7; padding: 0.5em; border: 1px solid #e0e0e0; }
.verdict { font-size: 1.15em; padding: 0.4em 0.6em; }
[hidden] { display: none !important; }
"#;

/// Applies the filters: an element with `data-tags` shows when one of its tags is ticked,
/// one with `data-connector` when its connector is, and with "only mismatches and errors"
/// one with `data-problem="0"` hides. Following a link to a `<details>` opens it.
const FILTER_SCRIPT: &str = r#"
(function () {
  function boxes(kind) {
    return Array.prototype.slice.call(document.querySelectorAll('input[data-filter="' + kind + '"]'));
  }
  function ticked(kind) {
    var set = {};
    boxes(kind).forEach(function (box) { if (box.checked) { set[box.value] = true; } });
    return set;
  }
  var only = document.getElementById('only-problems');
  function apply() {
    var tags = ticked('tag'), connectors = ticked('connector'), shown = 0, total = 0;
    document.querySelectorAll('[data-tags], [data-connector]').forEach(function (el) {
      var visible = true;
      if (el.hasAttribute('data-tags')) {
        visible = el.getAttribute('data-tags').split(' ').some(function (t) { return tags[t]; });
      }
      if (visible && el.hasAttribute('data-connector')) {
        visible = connectors[el.getAttribute('data-connector')] === true;
      }
      if (visible && only.checked && el.getAttribute('data-problem') === '0') { visible = false; }
      el.hidden = !visible;
      if (el.classList.contains('scenario')) { total += 1; if (visible) { shown += 1; } }
    });
    document.getElementById('shown').textContent = 'Showing ' + shown + ' of ' + total + ' scenarios';
  }
  var params = new URLSearchParams(window.location.search);
  ['tag', 'connector'].forEach(function (kind) {
    var wanted = params.getAll(kind);
    if (wanted.length > 0) {
      boxes(kind).forEach(function (box) { box.checked = wanted.indexOf(box.getAttribute('data-name')) >= 0; });
    }
  });
  only.checked = params.get('only') === 'problems';
  document.getElementById('filters').addEventListener('change', apply);
  apply();
  // A matrix cell's link opens the details it points to.
  function openTarget() {
    var target = window.location.hash && document.getElementById(window.location.hash.slice(1));
    if (target && target.tagName === 'DETAILS') { target.open = true; }
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();
})();
"#;

/// `text` made safe for HTML element text and quoted attribute values. Control characters
/// other than tab and line breaks become U+FFFD, as in `src/junit.rs`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            '\r' => {}
            c if c.is_control()
                || matches!(c, '\u{FDD0}'..='\u{FDEF}' | '\u{FFFE}' | '\u{FFFF}') =>
            {
                out.push('\u{FFFD}')
            }
            c => out.push(c),
        }
    }
    out
}

/// The start of a page, up to and including `<body>`.
fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    )
}

fn foot(script: Option<&str>) -> String {
    let script = script
        .map(|s| format!("<script>{s}</script>\n"))
        .unwrap_or_default();
    format!(
        "<footer><p class=\"lead\">Written by mailharness {}. Passwords are never shown: \
         transcripts hold <code>&lt;redacted&gt;</code> in their place.</p></footer>\n\
         {script}</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// What became of one scenario for one connector, as the matrix colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    Match,
    Mismatch,
    Error,
    Skipped,
}

impl Cell {
    fn of(result: &ScenarioResult) -> Cell {
        if result.skipped.is_some() {
            Cell::Skipped
        } else if result.passed {
            Cell::Match
        } else if result.outcome.is_some() && result.connector_error.is_none() {
            Cell::Mismatch
        } else {
            Cell::Error
        }
    }

    /// The CSS class.
    fn class(self) -> &'static str {
        match self {
            Cell::Match => "match",
            Cell::Mismatch => "mismatch",
            Cell::Error => "error",
            Cell::Skipped => "skipped",
        }
    }
}

fn reported_text(result: &ScenarioResult) -> String {
    match (&result.outcome, &result.skipped) {
        (_, Some(_)) => "did not run".to_owned(),
        (Some(outcome), None) => outcome.to_string(),
        (None, None) => "no outcome".to_owned(),
    }
}

/// A matrix cell's text: the class and detail, or why there is none.
fn cell_text(result: &ScenarioResult) -> String {
    match (Cell::of(result), &result.outcome) {
        (Cell::Skipped, _) => "skipped".to_owned(),
        (_, None) => "connector error".to_owned(),
        (_, Some(outcome)) => {
            let mut text = outcome.class.to_string();
            if let Some(detail) = &outcome.detail {
                let _ = write!(text, " ({detail})");
            }
            if result.known_deviation {
                text.push_str(" [baseline]");
            }
            text
        }
    }
}

/// The tags of all scenarios, each with its index (`data-tags` holds indices, so a tag
/// can hold any text); scenarios without a tag count as `(untagged)`.
fn tag_indices(reports: &[RunReport]) -> BTreeMap<String, usize> {
    let mut tags: BTreeSet<String> = BTreeSet::new();
    for result in reports.iter().flat_map(|r| &r.scenarios) {
        if result.tags.is_empty() {
            tags.insert(UNTAGGED.to_owned());
        }
        tags.extend(result.tags.iter().cloned());
    }
    tags.into_iter().enumerate().map(|(i, t)| (t, i)).collect()
}

const UNTAGGED: &str = "(untagged)";

fn data_tags(result: &ScenarioResult, indices: &BTreeMap<String, usize>) -> String {
    let tags: Vec<String> = if result.tags.is_empty() {
        vec![indices[UNTAGGED].to_string()]
    } else {
        result.tags.iter().map(|t| indices[t].to_string()).collect()
    };
    tags.join(" ")
}

/// The anchor of one connector's details of one scenario.
fn anchor(connector: usize, row: usize) -> String {
    format!("c{connector}-s{row}")
}

/// The run report page for the reports of one run (one per connector).
pub fn run_page(reports: &[RunReport]) -> String {
    let tags = tag_indices(reports);
    // Rows: the first report's scenarios in its order, then any only another report has.
    let mut ids: Vec<&str> = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for result in reports.iter().flat_map(|r| &r.scenarios) {
        if seen.insert(&result.id) {
            ids.push(&result.id);
        }
    }
    let by_id: Vec<HashMap<&str, &ScenarioResult>> = reports
        .iter()
        .map(|r| r.scenarios.iter().map(|s| (s.id.as_str(), s)).collect())
        .collect();
    let any = |id: &str| by_id.iter().find_map(|m| m.get(id).copied());

    let mut out = head("mailharness run report");
    let names: Vec<String> = reports.iter().map(|r| escape(&r.connector)).collect();
    let _ = writeln!(
        out,
        "<h1>mailharness run</h1>\n<p class=\"lead\">{} scenarios against {}: {}.</p>",
        ids.len(),
        if reports.len() == 1 {
            "one connector".to_owned()
        } else {
            format!("{} connectors", reports.len())
        },
        names.join(", ")
    );

    // Counts per connector.
    out.push_str(
        "<h2 id=\"summary\">Summary</h2>\n<table>\n<thead><tr><th>connector</th><th>scenarios</th>\
         <th>as expected</th><th>mismatched</th><th>connector errors</th><th>skipped</th>\
         <th>bad scenario files</th><th>time</th><th>verdict</th></tr></thead>\n<tbody>\n",
    );
    for (index, report) in reports.iter().enumerate() {
        let s = &report.summary;
        let good = report.exit_code() == 0;
        let _ = writeln!(
            out,
            "<tr data-connector=\"{index}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{:.1} s</td><td class=\"{}\">{}</td></tr>",
            names[index],
            s.total,
            s.passed,
            s.failed,
            s.connector_errors,
            s.skipped,
            s.file_errors,
            s.duration_ms as f64 / 1000.0,
            if good { "match" } else { "mismatch" },
            if good {
                "all as expected"
            } else {
                "NOT as expected"
            }
        );
    }
    out.push_str("</tbody>\n</table>\n");

    // Filters.
    out.push_str("<h2>Filter</h2>\n<form id=\"filters\">\n<fieldset><legend>Tags</legend>\n");
    for (tag, index) in &tags {
        let _ = writeln!(
            out,
            "<label><input type=\"checkbox\" data-filter=\"tag\" value=\"{index}\" data-name=\"{tag}\" checked> {tag}</label>",
            tag = escape(tag)
        );
    }
    out.push_str("</fieldset>\n<fieldset><legend>Connectors</legend>\n");
    for (index, report) in reports.iter().enumerate() {
        let _ = writeln!(
            out,
            "<label><input type=\"checkbox\" data-filter=\"connector\" value=\"{index}\" data-name=\"{name}\" checked> {name}</label>",
            name = escape(&report.connector)
        );
    }
    out.push_str(
        "</fieldset>\n<fieldset><legend>Show</legend>\n<label><input type=\"checkbox\" \
         id=\"only-problems\"> only mismatches and errors</label>\n</fieldset>\n</form>\n\
         <p id=\"shown\">(The filters need JavaScript.)</p>\n",
    );

    // Tally per class, per connector.
    out.push_str("<h2 id=\"tally\">Tally per class</h2>\n");
    for (index, report) in reports.iter().enumerate() {
        let mut tally: BTreeMap<ErrorClass, (usize, usize)> = BTreeMap::new();
        for result in &report.scenarios {
            if let Some(outcome) = &result.outcome {
                let entry = tally.entry(outcome.class).or_default();
                entry.0 += 1;
                if !result.passed {
                    entry.1 += 1;
                }
            }
        }
        let _ = writeln!(
            out,
            "<table class=\"tally\" data-connector=\"{index}\">\n<caption>Connector {}</caption>\n\
             <thead><tr><th>class</th><th>scenarios</th><th>mismatched</th></tr></thead>\n<tbody>",
            names[index]
        );
        let mut rows: Vec<(String, usize, usize)> = tally
            .iter()
            .map(|(class, (count, failed))| (class.to_string(), *count, *failed))
            .collect();
        // The scenarios without a class, so that the tally adds up to the total.
        let without = |kind: Cell| report.scenarios.iter().filter(move |r| Cell::of(r) == kind);
        let errors = without(Cell::Error).filter(|r| r.outcome.is_none()).count();
        if errors > 0 {
            rows.push(("no outcome (connector error)".into(), errors, errors));
        }
        let skipped = without(Cell::Skipped).count();
        if skipped > 0 {
            rows.push(("skipped".into(), skipped, 0));
        }
        for (class, count, failed) in rows {
            let _ = writeln!(
                out,
                "<tr><td>{class}</td><td class=\"num\">{count}</td><td class=\"num{}\">{failed}</td></tr>",
                if failed > 0 { " mismatch" } else { "" }
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }

    // The matrix.
    out.push_str(
        "<h2 id=\"matrix\">Scenario × connector</h2>\n<p class=\"legend\"><span class=\"match\">as expected</span>\
         <span class=\"mismatch\">mismatch</span><span class=\"error\">connector error</span>\
         <span class=\"skipped\">skipped</span> A coloured cell links to its details.</p>\n\
         <table class=\"matrix\">\n<thead><tr><th>scenario</th><th>expected</th>",
    );
    for (index, name) in names.iter().enumerate() {
        let _ = write!(out, "<th data-connector=\"{index}\">{name}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (row, id) in ids.iter().enumerate() {
        let first = any(id).expect("every id comes from a report");
        let cells: Vec<Option<&ScenarioResult>> =
            by_id.iter().map(|m| m.get(id).copied()).collect();
        let problem = cells
            .iter()
            .flatten()
            .any(|r| matches!(Cell::of(r), Cell::Mismatch | Cell::Error));
        let _ = write!(
            out,
            "<tr class=\"scenario\" data-tags=\"{}\" data-problem=\"{}\"><td title=\"{}\">{}</td><td>{}</td>",
            data_tags(first, &tags),
            u8::from(problem),
            escape(&first.description),
            escape(id),
            escape(&first.expected.to_string())
        );
        for (index, cell) in cells.iter().enumerate() {
            match cell {
                Some(result) => {
                    let kind = Cell::of(result);
                    let text = escape(&cell_text(result));
                    let title = result
                        .skipped
                        .as_deref()
                        .or(result.mismatch.as_deref())
                        .map(|t| format!(" title=\"{}\"", escape(t)))
                        .unwrap_or_default();
                    let body = if has_details(result) {
                        format!("<a href=\"#{}\">{text}</a>", anchor(index, row))
                    } else {
                        text
                    };
                    let _ = write!(
                        out,
                        "<td class=\"{}\" data-connector=\"{index}\"{title}>{body}</td>",
                        kind.class()
                    );
                }
                None => {
                    let _ = write!(out, "<td data-connector=\"{index}\"></td>");
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");

    // Details of the mismatches and connector errors; then, when the run kept them
    // (--verbose), the transcripts of the scenarios that went as expected.
    let details = |problems: bool| {
        let mut section = String::new();
        for (row, id) in ids.iter().enumerate() {
            for (index, map) in by_id.iter().enumerate() {
                let Some(result) = map.get(id) else { continue };
                let kind = Cell::of(result);
                let problem = matches!(kind, Cell::Mismatch | Cell::Error);
                if problem == problems && has_details(result) {
                    section.push_str(&detail(
                        result,
                        kind,
                        &names[index],
                        index,
                        &anchor(index, row),
                        &tags,
                    ));
                }
            }
        }
        section
    };
    let problems = details(true);
    out.push_str("<h2 id=\"mismatches\">Mismatches and connector errors</h2>\n");
    if problems.is_empty() {
        out.push_str("<p>None: every scenario that ran ended as expected.</p>\n");
    } else {
        out.push_str(
            "<p>Each shows what was expected and what was reported; open it for the server's \
             reply and the transcripts.</p>\n",
        );
        out.push_str(&problems);
    }
    let others = details(false);
    if !others.is_empty() {
        out.push_str("<h2 id=\"transcripts\">Transcripts of the other scenarios</h2>\n");
        out.push_str(&others);
    }

    let file_errors: BTreeSet<&String> = reports.iter().flat_map(|r| &r.file_errors).collect();
    if !file_errors.is_empty() {
        out.push_str("<h2 id=\"file-errors\">Scenario files that do not parse</h2>\n<ul>\n");
        for error in file_errors {
            let _ = writeln!(out, "<li class=\"error\"><pre>{}</pre></li>", escape(error));
        }
        out.push_str("</ul>\n");
    }
    out.push_str(&foot(Some(FILTER_SCRIPT)));
    out
}

/// Whether a scenario has a details block: every mismatch and connector error, and a
/// scenario that went as expected when the run kept its transcripts.
fn has_details(result: &ScenarioResult) -> bool {
    match Cell::of(result) {
        Cell::Mismatch | Cell::Error => true,
        Cell::Match => !result.transcripts.is_empty(),
        Cell::Skipped => false,
    }
}

/// One scenario's details for one connector: expected and reported in the summary line,
/// the reasons, the server's reply and the transcripts behind the click.
fn detail(
    result: &ScenarioResult,
    kind: Cell,
    connector: &str,
    index: usize,
    anchor: &str,
    tags: &BTreeMap<String, usize>,
) -> String {
    let mut out = format!(
        "<details class=\"{}\" id=\"{anchor}\" data-connector=\"{index}\" data-tags=\"{}\" data-problem=\"{}\">\n\
         <summary><b>{}</b> · {connector} · expected <code>{}</code> · reported <code>{}</code></summary>\n<dl>\n",
        kind.class(),
        data_tags(result, tags),
        u8::from(kind != Cell::Match),
        escape(&result.id),
        escape(&result.expected.to_string()),
        escape(&reported_text(result)),
    );
    let mut item = |term: &str, text: &str| {
        let _ = writeln!(out, "<dt>{term}</dt><dd>{}</dd>", escape(text));
    };
    item("scenario", &result.description);
    if let Some(mismatch) = &result.mismatch {
        item("why", mismatch);
    }
    if let Some(error) = &result.connector_error {
        item("connector error", error);
    }
    if let Some(response) = result.outcome.as_ref().and_then(|o| o.response.as_ref()) {
        let code = response.code.as_deref().unwrap_or("");
        item("server reply", format!("{code} {}", response.text).trim());
    }
    item("time", &format!("{} ms", result.duration_ms));
    out.push_str("</dl>\n");
    if result.transcripts.is_empty() {
        out.push_str("<p>No server transcript (no connection reached a server).</p>\n");
    } else {
        out.push_str("<p>Server transcripts (passwords redacted):</p>\n");
        for transcript in &result.transcripts {
            let _ = writeln!(out, "<pre>{}</pre>", escape(&transcript.to_string()));
        }
    }
    out.push_str("</details>\n");
    out
}

/// The check report page: the servers, what a connector would report, what to change, and
/// every requirement row with its evidence.
pub fn check_page(report: &CheckReport) -> String {
    let mut out = head("Mail server check");
    let verdict_class = if report.failed() {
        "fail"
    } else if report.count(Verdict::Warn) > 0 {
        "warn"
    } else {
        "pass"
    };
    let _ = writeln!(
        out,
        "<h1>Mail server check</h1>\n<p class=\"lead\">Whether these servers meet what an inbox \
         connector (a CRM, a help desk, a mail client) needs over IMAP and SMTP, checked by \
         mailharness.</p>\n<table>\n<tr><th>IMAP</th><td>{}</td></tr>\n<tr><th>SMTP</th><td>{}</td></tr>\n\
         <tr><th>Login</th><td>{}</td></tr>\n</table>\n<p class=\"verdict {verdict_class}\">{}</p>",
        escape(&report.imap),
        escape(&report.smtp),
        escape(&report.login),
        escape(&report.summary_line())
    );

    out.push_str("<h2 id=\"remedies\">What to change</h2>\n");
    let to_change: Vec<_> = report
        .rows
        .iter()
        .filter(|row| matches!(row.verdict, Verdict::Fail | Verdict::Warn))
        .collect();
    if to_change.is_empty() {
        out.push_str("<p>Nothing: every requirement checked is met.</p>\n");
    } else {
        out.push_str("<ul class=\"remedies\">\n");
        for row in to_change {
            let _ = writeln!(
                out,
                "<li class=\"{}\"><b>{}. {}</b> ({}): {}</li>",
                verdict_class_of(row.verdict),
                row.number,
                escape(row.title),
                row.verdict.label(),
                escape(row.remedy.as_deref().unwrap_or("see the evidence below"))
            );
        }
        out.push_str("</ul>\n");
    }

    out.push_str(
        "<h2 id=\"rows\">Requirements</h2>\n<table class=\"rows\">\n<thead><tr><th>#</th>\
         <th>requirement</th><th>result</th><th>what the server said</th>\
         <th>a connector would report</th><th>remedy</th></tr></thead>\n<tbody>\n",
    );
    for row in &report.rows {
        let class = verdict_class_of(row.verdict);
        let reported = match (row.class, &row.detail) {
            (Some(class), Some(detail)) => format!("{class} ({detail})"),
            (Some(class), None) => class.to_string(),
            (None, _) => String::new(),
        };
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td class=\"num\">{}</td><td>{}</td><td>{}</td>\
             <td class=\"evidence\">{}</td><td>{}</td><td>{}</td></tr>",
            row.number,
            escape(row.title),
            row.verdict.label(),
            escape(&row.evidence),
            escape(&reported),
            escape(row.remedy.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody>\n</table>\n");
    out.push_str(&foot(None));
    out
}

fn verdict_class_of(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Fail => "fail",
        Verdict::Skipped => "skip",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Requirement, Row};
    use crate::outcome::{Outcome, ServerResponse, Step};
    use crate::scenario::Expect;

    fn expect_ok() -> Expect {
        Expect {
            class: ErrorClass::Ok,
            step: None,
            detail: None,
        }
    }

    /// A passing, a mismatching (with a hostile server reply), an erroring and a skipped
    /// scenario for one connector.
    fn report() -> RunReport {
        let mut passed = ScenarioResult::judged("tls/imap-valid", expect_ok(), Outcome::ok());
        passed.tags = vec!["tls".into(), "imap".into()];
        let mut outcome = Outcome::failed(
            ErrorClass::ImapAuthenticationError,
            Step::ImapLogin,
            crate::outcome::Detail::Unspecified,
        );
        // An external connector's own detail.
        outcome.detail = Some("server-said-no".into());
        outcome.response = Some(ServerResponse {
            code: Some("NO".into()),
            text: "<script>alert('x')</script> & \"quotes\"".into(),
        });
        let mut failed = ScenarioResult::judged("auth/<b>odd</b>", expect_ok(), outcome);
        failed.tags = vec!["auth".into()];
        let mut error = ScenarioResult::judged("smtp/crash", expect_ok(), Outcome::ok());
        error.passed = false;
        error.outcome = None;
        error.mismatch = Some("connector error: it crashed".into());
        error.connector_error = error.mismatch.clone();
        let mut skipped = ScenarioResult::judged("real/dovecot", expect_ok(), Outcome::ok());
        skipped.passed = false;
        skipped.outcome = None;
        skipped.skipped = Some("no Docker".into());
        RunReport::new(
            "reference",
            vec![passed, failed, error, skipped],
            vec!["x.toml:1:2: <bad>".into()],
            1500,
        )
    }

    #[test]
    fn server_text_is_escaped_and_never_markup() {
        let page = run_page(&[report()]);
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<b>odd</b>"));
        assert!(page.contains(
            "NO &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"
        ));
        assert!(page.contains("auth/&lt;b&gt;odd&lt;/b&gt;"));
        assert!(page.contains("x.toml:1:2: &lt;bad&gt;"));
        // The only script element is the page's own filter.
        assert_eq!(page.matches("<script").count(), 1);
        assert_eq!(escape("a\u{0}b\u{1b}c\r\nd"), "a\u{FFFD}b\u{FFFD}c\nd");
    }

    #[test]
    fn the_matrix_classes_every_cell_and_links_problems_to_their_details() {
        let page = run_page(&[report()]);
        assert!(
            page.contains("<td class=\"match\" data-connector=\"0\">ok</td>"),
            "{page}"
        );
        assert!(page.contains(
            "<td class=\"mismatch\" data-connector=\"0\" title=\"expected ok, got imap_authentication_error at imap-login (server-said-no)\"><a href=\"#c0-s1\">imap_authentication_error (server-said-no)</a></td>"
        ));
        assert!(page.contains("<td class=\"error\" data-connector=\"0\" title=\"connector error: it crashed\"><a href=\"#c0-s2\">connector error</a></td>"));
        assert!(page.contains(
            "<td class=\"skipped\" data-connector=\"0\" title=\"no Docker\">skipped</td>"
        ));
        // The mismatch's details: expected and reported in the summary, the rest behind it.
        assert!(page.contains("<details class=\"mismatch\" id=\"c0-s1\""));
        assert!(page.contains("expected <code>ok</code> · reported <code>imap_authentication_error at imap-login (server-said-no)</code></summary>"));
        assert!(page.contains("<details class=\"error\" id=\"c0-s2\""));
        assert_eq!(
            page.matches("<details").count(),
            2,
            "passes without transcripts and skips have none"
        );
        // The tally per class and the counts.
        assert!(page.contains("<tr><td>imap_authentication_error</td><td class=\"num\">1</td><td class=\"num mismatch\">1</td></tr>"));
        assert!(page.contains("<tr><td>no outcome (connector error)</td><td class=\"num\">1</td><td class=\"num mismatch\">1</td></tr>"));
        assert!(
            page.contains(
                "<tr><td>skipped</td><td class=\"num\">1</td><td class=\"num\">0</td></tr>"
            )
        );
        assert!(page.contains("<td class=\"num\">4</td><td class=\"num\">1</td>"));
        // A checkbox per tag (by index: tags sort auth, imap, tls, (untagged) first).
        for tag in ["auth", "imap", "tls", "(untagged)"] {
            assert!(
                page.contains(&format!("data-name=\"{tag}\" checked> {tag}</label>")),
                "{tag}"
            );
        }
        assert!(page.contains("<tr class=\"scenario\" data-tags=\"3 2\" data-problem=\"0\">"));
        assert!(page.contains("data-filter=\"connector\" value=\"0\" data-name=\"reference\""));
    }

    #[test]
    fn two_connectors_get_a_column_each() {
        let mut other = report();
        other.connector = "exec".into();
        other.scenarios.truncate(1);
        other.recount();
        let page = run_page(&[report(), other]);
        assert!(
            page.contains(
                "<th data-connector=\"0\">reference</th><th data-connector=\"1\">exec</th>"
            )
        );
        // A scenario only the first connector ran has an empty cell for the second.
        assert!(page.contains("<td data-connector=\"1\"></td>"));
        assert!(page.contains("4 scenarios against 2 connectors: reference, exec."));
    }

    /// No address leaves the page: no `src`, no `<link>`, every `href` an anchor on it,
    /// and a policy that forbids fetches.
    fn assert_self_contained(page: &str) {
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(!page.contains("src="), "a src attribute");
        assert!(!page.contains("<link"), "a link element");
        assert!(!page.contains("http://") && !page.contains("https://"));
        assert!(!page.contains("url("), "a CSS url()");
        assert!(!page.contains("@import"));
        for (at, _) in page.match_indices("href=") {
            assert!(page[at..].starts_with("href=\"#"), "{}", &page[at..at + 40]);
        }
        assert!(page.contains(&format!("content=\"{CONTENT_SECURITY_POLICY}\"")));
        assert!(page.ends_with("</html>\n"));
    }

    #[test]
    fn pages_fetch_nothing() {
        assert_self_contained(&run_page(&[report()]));
        assert_self_contained(&check_page(&check_report()));
    }

    fn check_report() -> CheckReport {
        CheckReport::new(
            "imap.example.com:993 (implicit TLS)".into(),
            "smtp.example.com:587 (STARTTLS)".into(),
            "alice@example.com".into(),
            vec![
                Row::pass(Requirement::ImapReachable, "connected"),
                Row::warn(
                    Requirement::ImapCertificate,
                    "expires in 3 days",
                    "renew the certificate",
                ),
                Row::fail(
                    Requirement::ImapServerSoftware,
                    ErrorClass::ImapValidationError,
                    "courier-imap",
                    "* OK [CAPABILITY IMAP4rev1] Courier-IMAP <ready>",
                ),
                Row::skipped(Requirement::TestSend, "not asked for"),
            ],
        )
    }

    #[test]
    fn the_check_page_has_every_row_and_the_remedies() {
        let report = check_report();
        let page = check_page(&report);
        assert!(
            page.contains("<tr><th>IMAP</th><td>imap.example.com:993 (implicit TLS)</td></tr>")
        );
        assert!(page.contains("<p class=\"verdict fail\">1 pass, 1 warn, 1 fail, 1 skipped. A connector would report: imap_validation_error at imap-connect (courier-imap)</p>"), "{page}");
        // What to change: the warning and the failure, each with its remedy.
        let remedy = report
            .row(crate::check::Requirement::ImapServerSoftware)
            .remedy
            .as_deref()
            .unwrap();
        assert!(page.contains(&format!(
            "<li class=\"fail\"><b>5. IMAP server software</b> (FAIL): {}</li>",
            escape(remedy)
        )));
        assert!(page.contains(
            "<li class=\"warn\"><b>4. IMAP certificate</b> (warn): renew the certificate</li>"
        ));
        assert_eq!(page.matches("<tr class=\"").count(), 4);
        assert!(page.contains("<td class=\"evidence\">* OK [CAPABILITY IMAP4rev1] Courier-IMAP &lt;ready&gt;</td><td>imap_validation_error (courier-imap)</td>"));
        assert!(page.contains(&format!(
            "<tr class=\"skip\"><td class=\"num\">{}</td><td>Test send</td><td>skip</td>",
            crate::check::Requirement::TestSend.number()
        )));
        assert!(!page.contains("<script"));
    }
}
