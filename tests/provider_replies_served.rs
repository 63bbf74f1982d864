//! Checks that the mock servers serve docs/provider-replies.md: every reply on that page
//! must have been sent by a mock server during the catalogue's run, by a server of the
//! personality whose section holds it (the shared refusal texts by any), to some connector.
//! `mock-servers/src/personality_docs.rs` checks the other way round: that every text in the
//! code is on the page.
//!
//! Every mock run of the catalogue hands its servers' lines to [`Served`]; the trial
//! `docs::provider-replies-served` waits for all of them and then reads the page. A row's
//! reply cell holds one code span per line or keyword; `{marker}`s match anything. Rows of
//! the fields in [`NOT_REACHED`], [`NOT_REACHED_IN`] and Courier's beyond
//! [`COURIER_REACHED`] are skipped: no connector's five steps make a server send them, and
//! `mock-servers/src/imap/session/tests/mailbox.rs` and the SMTP session tests exercise them
//! instead (the page says so).

use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use mailharness::scenario::load::LoadedScenario;
use mailharness_mock_servers::transcript::{Direction, Transcript};

/// Fields whose texts a connector's five steps never make a server send: commands the
/// steps do not use (EXAMINE, STORE, CREATE, QUOTA, VRFY, …), refusals of a client that
/// breaks the protocol, and what only a server without TLS or login says, which no
/// scenario's connector can reach (the connector always asks for TLS).
pub const NOT_REACHED: &[&str] = &[
    // IMAP
    "id_refused",
    "unknown_command",
    "refused_before_login",
    "starttls_unavailable",
    "name_case",
    "completed_exceptions",
    "examine_permanent_flags",
    "examine_ok",
    "select_closed",
    "personal_prefix",
    "invalid_name",
    "idle_continuation",
    "delete_missing",
    "trycreate",
    "already_exists",
    "not_selected",
    "invalid_arguments",
    "invalid_messageset",
    "read_only_store",
    "quota_root",
    "quota_line",
    "setquota_refused",
    "highest_modseq",
    "privacy_alert",
    "privacy_required",
    "namespace",
    // A missing Sent folder is a scenario's reply (`replies/imap-select-nonexistent-sent`):
    // the mock always has one.
    "no_such_mailbox",
    // SMTP
    "auth_not_enabled",
    "auth_bad_mechanism",
    "tls_required",
    "ok",
    "vrfy_ok",
    "etrn",
    "access_denied",
];

/// Rows no connector reaches for one personality only: (section heading, field).
pub const NOT_REACHED_IN: &[(&str, &str)] = &[
    // Gmail offers no STARTTLS on IMAP, and relays for no client that did not log in.
    ("IMAP: Gmail", "starttls_ok"),
    ("SMTP: Gmail", "relay_denied"),
];

/// What connectors see of Courier-IMAP: they reject it at its greeting and capabilities, as
/// the product requires (`scenarios/courier/`), so they never log in. The real-server
/// scenarios compare the rest with the real Courier.
pub const COURIER_REACHED: &[&str] = &[
    "greeting",
    "base_capabilities",
    "auth_capabilities",
    "capability_ok",
    "post_login_capabilities",
    "starttls_ok",
    "id_response",
];

/// The lines the mock servers sent, by section heading of the page, and how many mock runs
/// are still to report.
pub struct Served {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Default)]
struct State {
    pending: usize,
    lines: HashMap<String, HashSet<String>>,
}

impl Served {
    pub fn new() -> Served {
        Served {
            state: Mutex::new(State::default()),
            done: Condvar::new(),
        }
    }

    /// One more mock run will report.
    pub fn expect_one(&self) {
        self.state.lock().expect("served lock").pending += 1;
    }

    /// Starts a mock run's report: what it records reaches the check when it is dropped,
    /// also when the run fails or panics, so that the check never waits for it in vain.
    pub fn start<'a>(&'a self, loaded: &LoadedScenario) -> Report<'a> {
        let scenario = &loaded.scenario;
        Report {
            served: self,
            imap: [
                format!("IMAP: {}", scenario.imap.personality.doc_name()),
                "Shared refusal texts: IMAP".to_owned(),
            ],
            smtp: [
                format!("SMTP: {}", scenario.smtp.personality.doc_name()),
                "Shared refusal texts: SMTP".to_owned(),
            ],
            lines: Vec::new(),
        }
    }

    /// Waits for every run, then checks the page.
    pub fn check(&self, page: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30 * 60);
        let mut state = self.state.lock().expect("served lock");
        while state.pending > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("{} mock runs never reported", state.pending));
            }
            state = self.done.wait_timeout(state, left).expect("served lock").0;
        }
        let unserved = unserved(page, &state.lines);
        if unserved.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} replies on docs/provider-replies.md were sent by no mock server in the catalogue; \
             add a scenario that serves each, or take the row out:\n{}",
            unserved.len(),
            unserved.join("\n")
        ))
    }
}

/// One mock run's servers' lines, on their way to [`Served`]: each with whether an SMTP
/// server sent it.
pub struct Report<'a> {
    served: &'a Served,
    imap: [String; 2],
    smtp: [String; 2],
    lines: Vec<(bool, String)>,
}

impl Report<'_> {
    pub fn record(&mut self, transcripts: &[Transcript]) {
        for transcript in transcripts {
            // An SMTP server's replies start with a digit (its greeting's 220 included), an
            // IMAP server's with `*`, `+` or a tag: the first line tells the protocol.
            let mut lines = transcript.lines(Direction::Server).peekable();
            let smtp = lines
                .peek()
                .is_some_and(|line| line.starts_with(|c: char| c.is_ascii_digit()));
            self.lines.extend(lines.map(|line| (smtp, line.to_owned())));
        }
    }
}

impl Drop for Report<'_> {
    fn drop(&mut self) {
        let mut state = self
            .served
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (smtp, line) in &self.lines {
            let headings = if *smtp { &self.smtp } else { &self.imap };
            for heading in headings {
                state
                    .lines
                    .entry(heading.clone())
                    .or_default()
                    .insert(line.clone());
            }
        }
        state.pending -= 1;
        if state.pending == 0 {
            self.served.done.notify_all();
        }
    }
}

/// The rows of the page whose replies no line of their section's servers matches.
fn unserved(page: &str, lines: &HashMap<String, HashSet<String>>) -> Vec<String> {
    let empty = HashSet::new();
    let mut missing = Vec::new();
    let mut heading = None;
    for line in page.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            heading = (title.starts_with("IMAP: ")
                || title.starts_with("SMTP: ")
                || title.starts_with("Shared refusal texts: "))
            .then(|| title.trim().to_owned());
            continue;
        }
        let Some(heading) = &heading else { continue };
        let cells = cells(line);
        let [situation, reply, ..] = cells.as_slice() else {
            continue;
        };
        if situation == "situation" || situation.starts_with("---") {
            continue;
        }
        if let Some(field) = field(situation)
            && (NOT_REACHED.contains(&field)
                || NOT_REACHED_IN.contains(&(heading.as_str(), field))
                || (heading == "IMAP: Courier-IMAP" && !COURIER_REACHED.contains(&field)))
        {
            continue;
        }
        let sent = lines.get(heading).unwrap_or(&empty);
        for span in code_spans(reply) {
            // A client that asked for the capabilities before logging in gets them untagged
            // and the tagged OK without them (mock-servers/src/imap/session.rs, as Dovecot).
            let without_caps = span.replace("[CAPABILITY {caps}] ", "");
            if span.is_empty()
                || sent
                    .iter()
                    .any(|line| matches(line, &span) || matches(line, &without_caps))
            {
                continue;
            }
            missing.push(format!("- {heading}, {situation}: `{span}`"));
        }
    }
    missing
}

/// A table row's cells, `\|` undone; empty for a line that is no row.
fn cells(line: &str) -> Vec<String> {
    let Some(inner) = line.trim_end().strip_prefix('|') else {
        return Vec::new();
    };
    let inner = inner
        .strip_suffix('|')
        .unwrap_or(inner)
        .replace("\\|", "\0");
    inner
        .split('|')
        .map(|cell| cell.trim().replace('\0', "|"))
        .collect()
}

/// The field a situation names as ``(`field`)`` at its end.
fn field(situation: &str) -> Option<&str> {
    let rest = situation.strip_suffix("`)")?;
    let at = rest.rfind("(`")?;
    Some(&rest[at + 2..])
}

/// The code spans of a reply cell.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Whether `line` holds `pattern`, where a `{marker}` matches any text: the literal pieces
/// between markers appear in order.
fn matches(line: &str, pattern: &str) -> bool {
    let mut rest = line;
    for piece in literal_pieces(pattern) {
        match rest.find(&piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// `pattern` cut at its `{marker}`s (a lower-case word in braces).
fn literal_pieces(pattern: &str) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut chars = pattern.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '{'
            && let Some(end) = pattern[at..].find('}')
            && pattern[at + 1..at + end]
                .chars()
                .all(|c| c.is_ascii_lowercase())
            && end > 1
        {
            pieces.push(String::new());
            while chars.next_if(|(i, _)| *i <= at + end).is_some() {}
            continue;
        }
        pieces.last_mut().expect("a piece").push(c);
    }
    pieces.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The matching itself, on examples: the trial `docs::provider-replies-matching`.
pub fn check_matching() -> Result<(), String> {
    let cases = [
        (
            "a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in",
            "OK [CAPABILITY {caps}] Logged in",
            true,
        ),
        ("a1 OK Logged in", "OK [CAPABILITY {caps}] Logged in", false),
        ("250-SIZE 10240000", "SIZE 10240000", true),
        ("250 2.0.0 Ok", "Ok: queued as {id}", false),
        ("* OK [UIDNEXT 3] Ok", "* OK [UIDNEXT {uidnext}] Ok", true),
        ("x{Not} {x", "{Not} {x", true),
    ];
    for (line, pattern, expected) in cases {
        if matches(line, pattern) != expected {
            return Err(format!("`{line}` against `{pattern}`: expected {expected}"));
        }
    }
    Ok(())
}
