//! Keeps `docs/provider-replies.md` true to the code. That page is the repository's record of
//! what the personalities say and where each text comes from; this test fails when a text of
//! a personality (`imap/personality.rs`, `smtp/personality.rs`) or a shared refusal constant
//! is not, verbatim, in its row there, so a reply cannot change in the code alone.
//!
//! The page has one section per personality (`## IMAP: Dovecot`, …) and one per protocol for
//! the shared constants. A row names its field in the situation column as ``(`field`)`` and
//! holds the text in the reply column in backticks: a reply of several lines as one code span
//! per line joined by `<br>`, a keyword list as one code span per keyword joined by spaces.
//! Inside a table a `|` is written `\|`; cells are compared after undoing that.
//!
//! A personality that borrows the texts it has no capture of (`borrows_from`) needs rows
//! only for its own texts, and its section must say whose the others are. The other
//! direction, that a mock serves every reply on the page, is the catalogue's
//! (`tests/provider_replies_served.rs`).

use std::fmt::Write as _;

use crate::imap::personality::{self as imap_personality, ImapTexts, NameCase};
use crate::smtp::personality::{self as smtp_personality, SmtpTexts};
use crate::{ImapPersonality, SmtpPersonality};

const DOC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/provider-replies.md");

/// What the reply cell of a field's row must hold.
#[derive(PartialEq)]
enum Expected {
    /// The code spans of this text, exactly.
    Reply(String),
    /// Nothing (the field is `None`): the row must exist, its reply cell is free.
    Absent,
}

/// One field (or constant) and what its row must say.
struct Entry {
    field: &'static str,
    expected: Expected,
}

impl Entry {
    fn text(field: &'static str, text: &str) -> Self {
        let reply = text
            .split('\n')
            .map(|line| format!("`{line}`"))
            .collect::<Vec<_>>()
            .join("<br>");
        Entry {
            field,
            expected: Expected::Reply(reply),
        }
    }

    fn optional(field: &'static str, text: &Option<&str>) -> Self {
        match text {
            Some(text) => Entry::text(field, text),
            None => Entry {
                field,
                expected: Expected::Absent,
            },
        }
    }

    fn keywords(field: &'static str, keywords: &[&str]) -> Self {
        let reply = keywords
            .iter()
            .map(|keyword| format!("`{keyword}`"))
            .collect::<Vec<_>>()
            .join(" ");
        Entry {
            field,
            expected: Expected::Reply(reply),
        }
    }

    fn character(field: &'static str, character: &char) -> Self {
        Entry::text(field, &character.to_string())
    }

    /// Lines sent in order: one code span per line, joined by `<br>`.
    fn lines(field: &'static str, lines: &[&str]) -> Self {
        Entry::text(field, &lines.join("\n"))
    }

    /// Per-command texts: `` `COMMAND` `text` `` per command, joined by `<br>`; `none`
    /// when there are none.
    fn per_command(field: &'static str, pairs: &[(&str, &str)]) -> Self {
        let reply = if pairs.is_empty() {
            "none".to_owned()
        } else {
            pairs
                .iter()
                .map(|(command, text)| format!("`{command}` `{text}`"))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        Entry {
            field,
            expected: Expected::Reply(reply),
        }
    }

    fn case(field: &'static str, case: &NameCase) -> Self {
        Entry::text(field, &format!("{case:?}"))
    }
}

/// Destructures a texts struct naming every field (no `..`), so a field added to `ImapTexts`
/// or `SmtpTexts` fails to compile here until it is given a kind, and with it a row.
macro_rules! entries {
    ($texts:expr, $ty:ident { $($field:ident: $kind:ident),* $(,)? }) => {{
        let $ty { $($field),* } = $texts;
        vec![$(Entry::$kind(stringify!($field), $field)),*]
    }};
}

fn imap_entries(texts: &ImapTexts) -> Vec<Entry> {
    entries!(
        texts,
        ImapTexts {
            greeting: text,
            base_capabilities: text,
            auth_capabilities: text,
            post_login_capabilities: text,
            capability_ok: text,
            login_ok: text,
            wrong_credentials: text,
            bearer_challenge: optional,
            bearer_refused: optional,
            too_many_connections: text,
            privacy_alert: optional,
            privacy_required: text,
            starttls_ok: text,
            starttls_unavailable: text,
            id_response: optional,
            id_refused: text,
            sent_folder: text,
            delimiter: character,
            bye: text,
            unknown_command: text,
            refused_before_login: text,
            completed: text,
            name_case: case,
            completed_exceptions: per_command,
            select_lines: lines,
            examine_permanent_flags: text,
            select_ok: text,
            examine_ok: text,
            select_closed: optional,
            namespace: text,
            personal_prefix: text,
            invalid_name: text,
            idle_continuation: text,
            no_such_mailbox: text,
            delete_missing: text,
            trycreate: text,
            already_exists: text,
            not_selected: text,
            invalid_arguments: text,
            invalid_messageset: text,
            read_only_store: optional,
            quota_root: text,
            quota_line: text,
            setquota_refused: text,
            highest_modseq: text,
        }
    )
}

fn smtp_entries(texts: &SmtpTexts) -> Vec<Entry> {
    entries!(
        texts,
        SmtpTexts {
            greeting: text,
            ehlo_hello: text,
            ehlo_before: keywords,
            ehlo_auth: text,
            ehlo_after: keywords,
            starttls_ok: text,
            starttls_unavailable: text,
            auth_ok: text,
            wrong_credentials: text,
            bearer_challenge: optional,
            bearer_refused: optional,
            auth_not_enabled: text,
            auth_bad_mechanism: text,
            tls_required: text,
            mail_ok: text,
            rcpt_ok: text,
            relay_denied: text,
            data_go_ahead: text,
            queued: text,
            quit: text,
            ok: text,
            unknown_command: text,
            vrfy_ok: optional,
            etrn: optional,
            access_denied: text,
        }
    )
}

/// The entries of a personality that borrows from `base`: only the texts that differ need
/// a row (a row for an equal one is allowed, and then checked).
fn own_entries(entries: Vec<Entry>, base: &[Entry], doc_rows: &[Vec<String>]) -> Vec<Entry> {
    entries
        .into_iter()
        .filter(|entry| {
            let marker = format!("(`{}`)", entry.field);
            let has_row = doc_rows
                .iter()
                .any(|cells| cells.first().is_some_and(|c| c.contains(&marker)));
            has_row
                || base
                    .iter()
                    .find(|b| b.field == entry.field)
                    .is_none_or(|b| b.expected != entry.expected)
        })
        .collect()
}

/// The shared constants. A new constant in a personality file has to be listed here by hand.
fn shared_imap_entries() -> Vec<Entry> {
    vec![
        Entry::text(
            "APP_PASSWORD_REQUIRED",
            imap_personality::APP_PASSWORD_REQUIRED,
        ),
        Entry::text("UNAVAILABLE", imap_personality::UNAVAILABLE),
        Entry::text("ADDRESS_NOT_ALLOWED", imap_personality::ADDRESS_NOT_ALLOWED),
        Entry::text("NOLOGIN", imap_personality::NOLOGIN),
    ]
}

fn shared_smtp_entries() -> Vec<Entry> {
    vec![
        Entry::text(
            "APP_PASSWORD_REQUIRED",
            smtp_personality::APP_PASSWORD_REQUIRED,
        ),
        Entry::text("LOGIN_NOT_ALLOWED", smtp_personality::LOGIN_NOT_ALLOWED),
        Entry::text("CLIENT_REJECTED", smtp_personality::CLIENT_REJECTED),
        Entry::text("STRIPPED_STARTTLS", smtp_personality::STRIPPED_STARTTLS),
        Entry::text("SIZE_EXCEEDED", smtp_personality::SIZE_EXCEEDED),
        Entry::text("MESSAGE_TOO_BIG", smtp_personality::MESSAGE_TOO_BIG),
        Entry::text("GREYLISTED", smtp_personality::GREYLISTED),
    ]
}

/// The table rows of the section under `## {heading}`, as trimmed cells with `\|` undone;
/// `None` when the page has no such section.
fn section_rows(doc: &str, heading: &str) -> Option<Vec<Vec<String>>> {
    let title = format!("## {heading}");
    let mut lines = doc.lines().skip_while(|line| line.trim_end() != title);
    lines.next()?;
    let rows: Vec<Vec<String>> = lines
        .take_while(|line| !line.starts_with("## "))
        .filter(|line| line.starts_with('|'))
        .map(|line| {
            let line = line.trim_end().replace("\\|", "\0");
            let inner = line.strip_prefix('|').unwrap_or(line.as_str());
            let inner = inner.strip_suffix('|').unwrap_or(inner);
            inner
                .split('|')
                .map(|cell| cell.trim().replace('\0', "|"))
                .collect::<Vec<String>>()
        })
        .collect();
    Some(rows)
}

/// Checks one section against its entries; returns how many texts it compared and adds a
/// line naming owner, field and text to `problems` for every mismatch.
fn check_section(
    doc: &str,
    heading: &str,
    owner: &str,
    entries: &[Entry],
    problems: &mut Vec<String>,
) -> usize {
    let Some(rows) = section_rows(doc, heading) else {
        problems.push(format!("{owner}: no section `## {heading}` in the page"));
        return 0;
    };
    let mut compared = 0;
    for Entry { field, expected } in entries {
        let marker = format!("(`{field}`)");
        let matching: Vec<&Vec<String>> = rows
            .iter()
            .filter(|cells| cells.first().is_some_and(|c| c.contains(&marker)))
            .collect();
        let wanted = match expected {
            Expected::Reply(reply) => reply.as_str(),
            Expected::Absent => "(none)",
        };
        match matching.as_slice() {
            [] => problems.push(format!(
                "{owner}, field `{field}`: no row with {marker} under `## {heading}`; its text: {wanted}"
            )),
            [row] => {
                if let Expected::Reply(reply) = expected {
                    compared += 1;
                    let found = row.get(1).map(String::as_str).unwrap_or("");
                    if found != reply.as_str() {
                        problems.push(format!(
                            "{owner}, field `{field}`: the reply cell under `## {heading}` differs from the code\n    code: {reply}\n    page: {found}"
                        ));
                    }
                }
            }
            _ => problems.push(format!(
                "{owner}, field `{field}`: {} rows with {marker} under `## {heading}`; its text: {wanted}",
                matching.len()
            )),
        }
    }
    // A row naming a field the code does not have is a text the mock no longer sends.
    for cells in &rows {
        let situation = cells.first().map(String::as_str).unwrap_or("");
        let Some(named) = situation
            .strip_suffix("`)")
            .and_then(|rest| rest.rfind("(`").map(|at| &rest[at + 2..]))
        else {
            continue;
        };
        if !entries.iter().any(|entry| entry.field == named) {
            problems.push(format!(
                "{owner}: the row for `{named}` under `## {heading}` names no field of the code"
            ));
        }
    }
    compared
}

/// The personality a section's texts are borrowed from: its name and its entries.
struct Borrowed {
    name: &'static str,
    entries: Vec<Entry>,
}

/// Checks the section `## {protocol}: {name}` of one personality against its entries. A
/// personality that borrows needs rows only for its own texts, and its section must say
/// whose the others are.
fn check_personality(
    doc: &str,
    protocol: &str,
    name: &str,
    entries: Vec<Entry>,
    borrowed: Option<Borrowed>,
    problems: &mut Vec<String>,
) -> usize {
    let heading = format!("{protocol}: {name}");
    let owner = format!("{protocol} personality {name}");
    let mut entries = entries;
    if let Some(borrowed) = borrowed {
        let rows = section_rows(doc, &heading).unwrap_or_default();
        entries = own_entries(entries, &borrowed.entries, &rows);
        let title = format!("## {heading}");
        let section = doc
            .lines()
            .skip_while(|line| line.trim_end() != title)
            .skip(1)
            .take_while(|line| !line.starts_with("## "))
            .collect::<Vec<_>>()
            .join(" ");
        let sentence = format!("Texts without a row here are those of {}", borrowed.name);
        if !section.contains(&sentence) {
            problems.push(format!(
                "{owner} borrows texts: its section `{title}` must say \"{sentence}\""
            ));
        }
    }
    check_section(doc, &heading, &owner, &entries, problems)
}

#[test]
fn every_personality_text_is_in_the_provider_replies_page() {
    let doc = std::fs::read_to_string(DOC_PATH)
        .unwrap_or_else(|error| panic!("cannot read {DOC_PATH}: {error}"));
    let mut problems = Vec::new();
    let mut compared = 0;
    for personality in ImapPersonality::ALL {
        let borrowed = personality.borrows_from().map(|base| Borrowed {
            name: base.doc_name(),
            entries: imap_entries(base.texts()),
        });
        let entries = imap_entries(personality.texts());
        compared += check_personality(
            &doc,
            "IMAP",
            personality.doc_name(),
            entries,
            borrowed,
            &mut problems,
        );
    }
    for personality in SmtpPersonality::ALL {
        let borrowed = personality.borrows_from().map(|base| Borrowed {
            name: base.doc_name(),
            entries: smtp_entries(base.texts()),
        });
        let entries = smtp_entries(personality.texts());
        compared += check_personality(
            &doc,
            "SMTP",
            personality.doc_name(),
            entries,
            borrowed,
            &mut problems,
        );
    }
    compared += check_section(
        &doc,
        "Shared refusal texts: IMAP",
        "IMAP shared constant",
        &shared_imap_entries(),
        &mut problems,
    );
    compared += check_section(
        &doc,
        "Shared refusal texts: SMTP",
        "SMTP shared constant",
        &shared_smtp_entries(),
        &mut problems,
    );
    let mut message = format!(
        "docs/provider-replies.md and the personalities disagree ({} problems; {compared} texts compared). \
         Update the page's row with the code's text and its source:\n",
        problems.len()
    );
    for problem in &problems {
        let _ = writeln!(message, "- {problem}");
    }
    assert!(problems.is_empty(), "{message}");
    assert!(
        compared > 100,
        "only {compared} texts compared: is the page's layout still the one this test reads?"
    );
}
