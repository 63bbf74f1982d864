//! Reading scenario files. A bad file is refused with its path, line and column and what
//! was expected, as a miette diagnostic that shows the offending line; the others load.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::spans::Spans;
use super::{ImapServerKind, Scenario};
use crate::file_error::FileError;
use crate::outcome::{Detail, ErrorClass};

/// A scenario read from a file.
#[derive(Clone, Debug)]
pub struct LoadedScenario {
    /// The path relative to the scenario root without `.toml`, with `/`: `tls/imap-expired`.
    pub id: String,
    pub path: PathBuf,
    /// The directory ids are relative to (where twins are looked up).
    pub root: PathBuf,
    pub scenario: Scenario,
}

impl LoadedScenario {
    /// The mock twin of a real-server scenario. Its id is relative to the catalogue's top
    /// (`tls/imap-implicit-expired`), which is the first directory above this file that
    /// holds it, so `run scenarios/real --parity` finds `scenarios/tls/…` too.
    pub fn load_twin(&self) -> Option<Result<LoadedScenario, ScenarioError>> {
        let twin = self.scenario.twin.as_ref()?.get_ref();
        let file = format!("{twin}.toml");
        let top = self
            .path
            .ancestors()
            .skip(1)
            .find(|dir| dir.join(&file).is_file())
            .unwrap_or(&self.root);
        Some(load_file(&top.join(&file), top))
    }
}

/// A scenario file that could not be read or is not a valid scenario.
pub type ScenarioError = FileError;

/// toml reports some errors (those inside a table it had to buffer, such as an unknown
/// variant of a nested value) at the table's header; find the offending key or value in
/// that table to point at it instead.
fn refine_span(text: &str, span: std::ops::Range<usize>, message: &str) -> std::ops::Range<usize> {
    let quoted = message
        .split('`')
        .nth(1)
        .filter(|word| !word.is_empty() && message.contains(&format!("`{word}`")));
    let Some(word) = quoted else {
        return span;
    };
    let table_end = text[span.end..]
        .find("\n[")
        .map_or(text.len(), |i| span.end + i);
    match text[span.start..table_end].find(word) {
        Some(i) => span.start + i..span.start + i + word.len(),
        None => span,
    }
}

/// Parses one scenario from `text`; `path` is for messages only.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let spans = Spans::parse(text);
    let at =
        |span: Option<Range<usize>>, message: String| ScenarioError::at(path, text, span, message);
    if spans.is_array(&["expect"]) {
        return Err(at(
            spans.key(&["expect"]),
            "`[[expect]]` is an array of tables; a scenario expects one outcome: `[expect]`".into(),
        ));
    }
    let scenario: Scenario = toml::from_str(text).map_err(|error| {
        let mut message = error.message().trim().to_owned();
        let span = error.span().map(|span| refine_span(text, span, &message));
        if let (Some(span), "duplicate key") = (&span, message.as_str())
            && let Some(key) = text.get(span.clone())
        {
            message = format!("duplicate key `{}`: each key is given once", key.trim());
        }
        at(span, message)
    })?;
    let expect = scenario.expect.get_ref();
    let span = Some(scenario.expect.span());
    match (expect.class, expect.step) {
        (ErrorClass::Ok, Some(step)) => {
            return Err(ScenarioError::at(
                path,
                text,
                span,
                format!("class `ok` passes every step; expected no `step` (found `{step}`)"),
            ));
        }
        (class, None) if class != ErrorClass::Ok => {
            return Err(ScenarioError::at(
                path,
                text,
                span,
                format!(
                    "class `{class}` needs the `step` it fails at (imap-connect, imap-login, smtp-connect, smtp-login or test-send)"
                ),
            ));
        }
        _ => {}
    }
    if let Some(detail) = &expect.detail
        && Detail::parse(detail).is_none()
    {
        return Err(at(
            spans.value(&["expect", "detail"]).or(span),
            unknown_detail(detail),
        ));
    }
    for (table, keys) in [
        ("imap", scenario.imap.mock_only_keys()),
        ("smtp", scenario.smtp.mock_only_keys()),
    ] {
        if let Some(key) = keys.first() {
            let name = key.split(' ').next().unwrap_or(key);
            let span = spans.key(&[table, name]).or_else(|| spans.key(&[table]));
            return Err(ScenarioError::at(
                path,
                text,
                span,
                format!(
                    "[{table}] {key} is for mock servers only; a real server cannot be made to do it (use server = \"mock\")"
                ),
            ));
        }
    }
    if scenario.description.trim().is_empty() {
        return Err(at(
            spans.value(&["description"]),
            "`description` is empty; expected one sentence saying what the servers do".into(),
        ));
    }
    check_values(&scenario).map_err(|(key, message)| at(spans.value(key), message))?;
    check_hostile(&scenario, &spans).map_err(|(span, message)| at(span, message))?;
    Ok(scenario)
}

/// Each hostile rule makes sense for its protocol, and each `[[imap.reply]]` can be
/// served; an error points at the rule's `at` or `to`.
fn check_hostile(
    scenario: &Scenario,
    spans: &Spans<'_>,
) -> Result<(), (Option<Range<usize>>, String)> {
    use mailharness_mock_servers::hostile::{IMAP_COMMANDS, SMTP_COMMANDS};
    for (table, rules, commands) in [
        ("imap", &scenario.imap.hostile, IMAP_COMMANDS),
        ("smtp", &scenario.smtp.hostile, SMTP_COMMANDS),
    ] {
        for (index, rule) in rules.iter().enumerate() {
            rule.check(commands).map_err(|e| {
                (
                    spans.element_key(&[table, "hostile"], index, "at"),
                    format!("[[{table}.hostile]] at = \"{}\": {e}", rule.at),
                )
            })?;
        }
    }
    for (index, rule) in scenario.imap.reply.iter().enumerate() {
        rule.check().map_err(|e| {
            (
                spans.element_key(&["imap", "reply"], index, "to"),
                format!("[[imap.reply]] to = \"{}\": {e}", rule.to),
            )
        })?;
    }
    Ok(())
}

/// What to say about a detail the reference connector does not know: the nearest one.
fn unknown_detail(detail: &str) -> String {
    let nearest = Detail::ALL
        .iter()
        .map(|known| (strsim::levenshtein(detail, known.as_str()), known))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known.as_str())
        .unwrap_or_default();
    format!(
        "unknown detail `{detail}`; expected one of the reference connector's {} details (docs/outcomes.md lists them), such as `{nearest}`",
        Detail::ALL.len()
    )
}

/// The longest step timeout a scenario may set: ten minutes.
pub const MAX_STEP_TIMEOUT_MS: u64 = 600_000;

/// Values the types accept but a scenario cannot mean: the key (as a path of tables) and what
/// was expected.
fn check_values(scenario: &Scenario) -> Result<(), (&'static [&'static str], String)> {
    if let Some(ms) = scenario.step_timeout_ms
        && !(1..=MAX_STEP_TIMEOUT_MS).contains(&ms)
    {
        return Err((
            &["step-timeout-ms"],
            format!("`step-timeout-ms` is {ms}; expected 1 to {MAX_STEP_TIMEOUT_MS} (ten minutes)"),
        ));
    }
    let lists = mailharness_mock_servers::ImapConfig {
        personality: scenario.imap.personality,
        capabilities: scenario.imap.capabilities.clone(),
        auth_mechanisms: scenario.imap.auth_mechanisms.clone(),
        ..Default::default()
    };
    if let Err((key, message)) = mailharness_mock_servers::imap::capability::check(&lists) {
        let key: &'static [&'static str] = match key {
            "capabilities" => &["imap", "capabilities"],
            _ => &["imap", "auth-mechanisms"],
        };
        return Err((key, message));
    }
    if let Err(message) = scenario.smtp.replies.check() {
        return Err((&["smtp", "replies"], message));
    }
    if scenario.imap.max_connections_per_user == Some(0) {
        return Err((
            &["imap", "max-connections-per-user"],
            "`max-connections-per-user` is 0; expected at least 1 (no limit: leave it out)".into(),
        ));
    }
    let email = &scenario.account.email;
    if !plausible_email(email) {
        return Err((
            &["account", "email"],
            format!("`email` is {email:?}; expected an address such as alice@example.com"),
        ));
    }
    if let Some(address) = scenario.account.source_address
        && !address.is_loopback()
    {
        return Err((
            &["account", "source-address"],
            format!(
                "`source-address` is {address}; expected a loopback address (127.0.0.0/8 or ::1): every server of a run listens on loopback"
            ),
        ));
    }
    for (key, faults) in [
        (&["imap", "faults"], &scenario.imap.faults),
        (&["smtp", "faults"], &scenario.smtp.faults),
    ] {
        if faults.trickle_bytes_per_second == Some(0) {
            return Err((
                key,
                "`trickle-bytes-per-second` is 0; expected at least 1".into(),
            ));
        }
    }
    if scenario.oauth.is_some() && scenario.imap.server == ImapServerKind::Courier {
        return Err((
            &["oauth"],
            "Courier-IMAP takes no bearer tokens: with `[oauth]`, expected `server = \"mock\"` or `\"dovecot\"` on IMAP".into(),
        ));
    }
    if scenario.twin.is_some() && !scenario.needs_containers() {
        return Err((
            &["twin"],
            "`twin` names the mock scenario a real-server scenario mirrors; this scenario has no real server".into(),
        ));
    }
    Ok(())
}

/// `local@domain`: one `@`, both parts there, no spaces or control characters.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Reads one scenario file; its id is its path relative to `root`.
pub fn load_file(path: &Path, root: &Path) -> Result<LoadedScenario, ScenarioError> {
    let bytes = fs::read(path).map_err(|e| ScenarioError::io(path, &e))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let byte = error.as_bytes()[at];
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            return Err(ScenarioError::at(
                path,
                &text,
                Some(at..at + char::REPLACEMENT_CHARACTER.len_utf8()),
                format!("byte 0x{byte:02x} is not UTF-8; expected a UTF-8 text file (TOML)"),
            ));
        }
    };
    let scenario = parse(path, &text)?;
    if let Some(twin) = &scenario.twin {
        let file = format!("{}.toml", twin.get_ref());
        if !path
            .ancestors()
            .skip(1)
            .any(|dir| dir.join(&file).is_file())
        {
            return Err(ScenarioError::at(
                path,
                &text,
                Some(twin.span()),
                format!(
                    "twin `{}` is not there: expected {file} in a directory above this file",
                    twin.get_ref()
                ),
            ));
        }
    }
    let relative = path.strip_prefix(root).unwrap_or(path);
    let id = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    Ok(LoadedScenario {
        id,
        path: path.to_owned(),
        root: root.to_owned(),
        scenario,
    })
}

/// Every `.toml` file under `paths` (files are taken as they are), sorted, each with the
/// root its id is relative to: the directory given, or a file's own directory; and an error
/// for each path or entry that cannot be read (the rest are still found).
pub fn discover(paths: &[PathBuf]) -> (Vec<(PathBuf, PathBuf)>, Vec<ScenarioError>) {
    let rooted: Vec<(PathBuf, PathBuf)> = paths.iter().map(|path| with_root(path)).collect();
    discover_rooted(&rooted)
}

/// A path with the root of its ids: itself for a directory, else its directory.
pub fn with_root(path: &Path) -> (PathBuf, PathBuf) {
    let root = if path.is_dir() {
        path.to_owned()
    } else {
        path.parent().unwrap_or(Path::new("")).to_owned()
    };
    (path.to_owned(), root)
}

/// Every `.toml` file under each path, its id relative to the root given with it (the
/// built-in catalogue's top for `builtin:tls`, so that ids do not depend on the selection).
/// Symbolic links are followed, and each file is found once however many ways lead to it
/// (by the way without links when there is one, else the first in sorted order); a link back to a directory being walked is a loop,
/// reported and not followed. A path or entry that cannot be read is an error of its own.
pub fn discover_rooted(
    paths: &[(PathBuf, PathBuf)],
) -> (Vec<(PathBuf, PathBuf)>, Vec<ScenarioError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for (path, root) in paths {
        if path.is_dir() {
            walk(path, root, &mut Vec::new(), &mut found, &mut errors);
        } else if path.is_file() {
            found.push((path.clone(), root.clone()));
        } else {
            let error = match fs::metadata(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => e,
                _ => std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
            };
            errors.push(ScenarioError::io(path, &error));
        }
    }
    found.sort();
    // Each file once: by the way without links when there is one, else the first.
    let mut chosen: std::collections::HashMap<PathBuf, (usize, bool)> = Default::default();
    for (index, (path, _)) in found.iter().enumerate() {
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        let direct = std::path::absolute(path).is_ok_and(|absolute| absolute == canonical);
        let entry = chosen.entry(canonical).or_insert((index, direct));
        if direct && !entry.1 {
            *entry = (index, direct);
        }
    }
    let mut keep: Vec<usize> = chosen.into_values().map(|(index, _)| index).collect();
    keep.sort_unstable();
    let found = keep.into_iter().map(|index| found[index].clone()).collect();
    (found, errors)
}

/// Finds the `.toml` files under `dir`; `walking` holds the canonical directories from the
/// top down to `dir`, to tell a loop.
fn walk(
    dir: &Path,
    root: &Path,
    walking: &mut Vec<PathBuf>,
    found: &mut Vec<(PathBuf, PathBuf)>,
    errors: &mut Vec<ScenarioError>,
) {
    let canonical = match fs::canonicalize(dir) {
        Ok(canonical) => canonical,
        Err(e) => return errors.push(ScenarioError::io(dir, &e)),
    };
    if walking.contains(&canonical) {
        let message = format!(
            "a symbolic link loop: leads back to {}, which is not walked again",
            canonical.display()
        );
        return errors.push(ScenarioError::io(dir, &std::io::Error::other(message)));
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return errors.push(ScenarioError::io(dir, &e)),
    };
    walking.push(canonical);
    for entry in entries {
        let path = match entry {
            Ok(entry) => entry.path(),
            Err(e) => {
                errors.push(ScenarioError::io(dir, &e));
                continue;
            }
        };
        if path.is_dir() {
            walk(&path, root, walking, found, errors);
        } else if path.extension().is_some_and(|ext| ext == "toml") {
            found.push((path, root.to_owned()));
        }
    }
    walking.pop();
}

/// Loads everything under `paths`: the scenarios that parse, and an error for each file that
/// does not and for each path or entry that cannot be read.
pub fn load_all(paths: &[PathBuf]) -> (Vec<LoadedScenario>, Vec<ScenarioError>) {
    load_files(discover(paths))
}

/// [`load_all`] with the root of each path's ids given (see [`discover_rooted`]).
pub fn load_all_rooted(paths: &[(PathBuf, PathBuf)]) -> (Vec<LoadedScenario>, Vec<ScenarioError>) {
    load_files(discover_rooted(paths))
}

fn load_files(
    (files, mut errors): (Vec<(PathBuf, PathBuf)>, Vec<ScenarioError>),
) -> (Vec<LoadedScenario>, Vec<ScenarioError>) {
    let mut scenarios = Vec::new();
    for (path, root) in files {
        match load_file(&path, &root) {
            Ok(scenario) => scenarios.push(scenario),
            Err(error) => errors.push(error),
        }
    }
    (scenarios, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> ScenarioError {
        parse(Path::new("scenarios/x.toml"), text).unwrap_err()
    }

    const MINIMAL: &str = "description = \"d\"\n[expect]\nclass = \"ok\"\n";

    #[test]
    fn a_minimal_scenario_takes_every_default() {
        let scenario = parse(Path::new("x.toml"), MINIMAL).unwrap();
        assert_eq!(scenario.server_login(), "alice@example.com");
        assert_eq!(scenario.account.bcc, "bcc@crm.example");
        assert_eq!(scenario.expect.get_ref().class, ErrorClass::Ok);
    }

    #[test]
    fn unknown_keys_name_line_and_column() {
        let e = error(
            "description = \"d\"\n[imap]\nsecurty = \"starttls\"\n[expect]\nclass = \"ok\"\n",
        );
        assert_eq!(e.location, "scenarios/x.toml:3:1");
        assert!(
            e.message.contains("unknown field `securty`"),
            "{}",
            e.message
        );
        assert!(e.message.contains("expected one of"), "{}", e.message);
    }

    #[test]
    fn bad_values_point_at_the_value() {
        let e = error(
            "description = \"d\"\n[imap]\n\ncertificate = \"expird\"\n[expect]\nclass = \"ok\"\n",
        );
        assert_eq!(e.location, "scenarios/x.toml:4:16");
        assert!(
            e.message.contains("unknown variant `expird`"),
            "{}",
            e.message
        );
        assert!(e.message.contains("`expired`"), "{}", e.message);
        let e = error("description = \"d\"\n[expect]\nclass = \"imap_eror\"\n");
        assert_eq!(e.location, "scenarios/x.toml:3:10");
        assert!(e.message.contains("imap_validation_error"), "{}", e.message);
        // Nested tables that toml reports at their header are pointed at the value.
        let e = error(
            "description = \"d\"\n[imap]\nfaults = { reset = \"never\" }\n[expect]\nclass = \"ok\"\n",
        );
        assert_eq!(e.location, "scenarios/x.toml:3:21", "{}", e.message);
    }

    #[test]
    fn missing_and_inconsistent_expectations() {
        let e = error("description = \"d\"\n");
        assert!(
            e.message.contains("missing field `expect`"),
            "{}",
            e.message
        );
        let e = error("description = \"d\"\n[expect]\nclass = \"unauthorized\"\n");
        assert!(e.message.contains("needs the `step`"), "{}", e.message);
        assert_eq!(e.location, "scenarios/x.toml:2:1");
        let e = error("description = \"d\"\n[expect]\nclass = \"ok\"\nstep = \"imap-login\"\n");
        assert!(e.message.contains("expected no `step`"), "{}", e.message);
        let e = error("description = \"\"\n[expect]\nclass = \"ok\"\n");
        assert!(e.message.contains("empty"));
    }

    #[test]
    fn what_a_mock_cannot_do_is_refused_where_it_is_asked() {
        let e = error(
            "description = \"d\"\n[imap]\ncapabilities = \"IMAP4rev1 QRESYNC\"\n[expect]\nclass = \"ok\"\n",
        );
        assert!(e.message.contains("QRESYNC"), "{}", e.message);
        assert_eq!(e.location, "scenarios/x.toml:3:16");
        let e = error(
            "description = \"d\"\n[imap]\nauth-mechanisms = [\"CRAM-MD5\"]\n[expect]\nclass = \"ok\"\n",
        );
        assert!(e.message.contains("CRAM-MD5"), "{}", e.message);
        assert_eq!(e.location, "scenarios/x.toml:3:19");
        let e = error(
            "description = \"d\"\n[smtp]\nreplies = { ehlo = \"250-mx\\n250 AUTH CRAM-MD5\" }\n[expect]\nclass = \"ok\"\n",
        );
        assert!(e.message.contains("AUTH CRAM-MD5"), "{}", e.message);
        assert_eq!(e.location, "scenarios/x.toml:3:11");
    }

    #[test]
    fn real_servers_refuse_mock_only_keys() {
        let e = error(
            "description = \"d\"\n[imap]\nserver = \"dovecot\"\nfaults = { stall = true }\n[expect]\nclass = \"ok\"\n",
        );
        assert!(
            e.message.contains("[imap] faults is for mock servers only"),
            "{}",
            e.message
        );
        assert_eq!(e.location, "scenarios/x.toml:4:1");
        let e = error(
            "description = \"d\"\n[smtp]\nserver = \"postfix\"\nreplies = { rcpt = \"554 no\" }\n[expect]\nclass = \"ok\"\n",
        );
        assert!(e.message.contains("[smtp] replies"), "{}", e.message);
        let ok = "description = \"d\"\ntwin = \"tls/x\"\n[imap]\nserver = \"courier\"\nsecurity = \"starttls\"\ncertificate = \"expired\"\n[smtp]\nserver = \"postfix\"\nrelay-denied = true\n[expect]\nclass = \"ok\"\n";
        let scenario = parse(Path::new("x.toml"), ok).unwrap();
        assert!(scenario.needs_containers());
        assert_eq!(scenario.twin.unwrap().get_ref(), "tls/x");
    }

    #[test]
    fn twins_are_found_from_the_catalogue_top() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("tls")).unwrap();
        fs::create_dir_all(dir.path().join("real/dovecot")).unwrap();
        fs::write(dir.path().join("tls/mock.toml"), MINIMAL).unwrap();
        let real = "description = \"d\"\ntwin = \"tls/mock\"\n[imap]\nserver = \"dovecot\"\n[expect]\nclass = \"ok\"\n";
        fs::write(dir.path().join("real/dovecot/r.toml"), real).unwrap();
        // Loaded from the top or from the real/ directory alone, the twin is the same.
        for root in [dir.path().to_owned(), dir.path().join("real")] {
            let (scenarios, errors) = load_all(&[root]);
            assert!(errors.is_empty());
            let real = scenarios
                .iter()
                .find(|s| s.id.ends_with("dovecot/r"))
                .unwrap();
            let twin = real.load_twin().unwrap().unwrap();
            assert_eq!(twin.id, "tls/mock");
        }
    }

    #[test]
    fn values_a_scenario_cannot_mean_are_refused_at_the_value() {
        let cases = [
            (
                "step-timeout-ms = 0\n",
                "scenarios/x.toml:2:19",
                "expected 1 to 600000",
            ),
            (
                "step-timeout-ms = 9223372036854775807\n",
                "scenarios/x.toml:2:19",
                "expected 1 to 600000",
            ),
            (
                "[imap]\nmax-connections-per-user = 0\n",
                "scenarios/x.toml:3:28",
                "at least 1",
            ),
            (
                "[account]\nemail = \"\"\n",
                "scenarios/x.toml:3:9",
                "such as alice@example.com",
            ),
            (
                "account.email = \"alice example.com\"\n",
                "scenarios/x.toml:2:17",
                "such as alice@example.com",
            ),
            (
                "[account]\nsource-address = \"8.8.8.8\"\n",
                "scenarios/x.toml:3:18",
                "loopback",
            ),
            (
                "twin = \"tls/x\"\n",
                "scenarios/x.toml:2:8",
                "no real server",
            ),
            (
                "description = \"again\"\n",
                "scenarios/x.toml:2:1",
                "duplicate key `description`",
            ),
            (
                "[[smtp.hostile]]\nsend = 'x'\nat = \"ehlo\"\n[[smtp.hostile]]\nat = \"lgoin\"\nsend = 'x'\n",
                "scenarios/x.toml:6:1",
                "`lgoin`, which this protocol does not have",
            ),
            (
                "[[imap.hostile]]\nat = \"login\"\nrepeat = 'x'\ntimes = 0\n",
                "scenarios/x.toml:3:1",
                "`times` is 0",
            ),
            (
                "[[imap.hostile]]\nat = \"login\"\nsend = '\\q'\n",
                "scenarios/x.toml:4:9",
                "unknown escape",
            ),
            (
                "[smtp]\nfaults = { trickle-bytes-per-second = 0 }\n",
                "scenarios/x.toml:3:10",
                "expected at least 1",
            ),
        ];
        for (extra, location, expected) in cases {
            let text = format!("description = \"d\"\n{extra}[expect]\nclass = \"ok\"\n");
            let e = error(&text);
            assert_eq!(e.location, location, "{extra}: {}", e.message);
            assert!(e.message.contains(expected), "{extra}: {}", e.message);
        }
        let ok = "description = \"d\"\nstep-timeout-ms = 600000\n[account]\nsource-address = \"127.0.0.2\"\n[expect]\nclass = \"ok\"\n";
        assert!(parse(Path::new("x.toml"), ok).is_ok());
    }

    /// docs/scenarios.md: the format's example loads as it is, the fragments inside a
    /// minimal scenario.
    #[test]
    fn the_docs_examples_load() {
        let doc = include_str!("../../../docs/scenarios.md");
        let blocks = crate::doc_examples::blocks(doc, "toml");
        assert!(blocks.len() >= 2, "{blocks:?}");
        let full = parse(Path::new("docs/scenarios.md"), blocks[0]).unwrap();
        assert_eq!(full.smtp.hostile.len(), 1);
        for fragment in &blocks[1..] {
            let text = format!("description = \"d\"\n{fragment}\n[expect]\nclass = \"ok\"\n");
            if let Err(e) = parse(Path::new("docs/scenarios.md"), &text) {
                panic!("{fragment}: {e}");
            }
        }
    }

    #[test]
    fn an_expected_detail_must_be_one_the_reference_connector_gives() {
        let text = "description = \"d\"\n[expect]\nclass = \"unauthorized\"\nstep = \"imap-login\"\ndetail = \"wrong-credential\"\n";
        let e = error(text);
        assert_eq!(e.location, "scenarios/x.toml:5:10");
        assert!(
            e.message.contains("unknown detail `wrong-credential`"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("such as `wrong-credentials`"),
            "{}",
            e.message
        );
        let known = text.replace("wrong-credential\"", "wrong-credentials\"");
        assert!(parse(Path::new("x.toml"), &known).is_ok());
    }

    #[test]
    fn misleading_shapes_get_their_own_message() {
        let e = error("description = \"d\"\n[[expect]]\nclass = \"ok\"\n");
        assert_eq!(e.location, "scenarios/x.toml:2:3");
        assert!(e.message.contains("`[expect]`"), "{}", e.message);
        // A mock-only key is found where it is, not where "[smtp]" first appears.
        let e = error(
            "description = \"has [smtp] in it\"\n[smtp]\nserver = \"postfix\"\nfaults = { stall = true }\n[expect]\nclass = \"ok\"\n",
        );
        assert_eq!(e.location, "scenarios/x.toml:4:1", "{}", e.message);
        let e = error(
            "description = \"d\"\nimap = { server = \"dovecot\", faults = { stall = true } }\n[expect]\nclass = \"ok\"\n",
        );
        assert_eq!(e.location, "scenarios/x.toml:2:30", "{}", e.message);
    }

    #[test]
    fn files_that_are_not_utf8_or_lack_their_twin_are_named_with_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("binary.toml");
        fs::write(
            &binary,
            b"description = \"d\xff\"\n[expect]\nclass = \"ok\"\n",
        )
        .unwrap();
        let e = load_file(&binary, dir.path()).unwrap_err();
        assert!(e.location.ends_with("binary.toml:1:17"), "{}", e.location);
        assert!(
            e.message.contains("byte 0xff is not UTF-8"),
            "{}",
            e.message
        );
        let real = dir.path().join("real.toml");
        fs::write(
            &real,
            "description = \"d\"\ntwin = \"tls/gone\"\n[imap]\nserver = \"dovecot\"\n[expect]\nclass = \"ok\"\n",
        )
        .unwrap();
        let e = load_file(&real, dir.path()).unwrap_err();
        assert!(e.location.ends_with("real.toml:2:8"), "{}", e.location);
        assert!(
            e.message.contains("twin `tls/gone` is not there"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_bad_path_or_entry_is_its_own_error_and_the_rest_load() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("tls")).unwrap();
        fs::write(dir.path().join("tls/good.toml"), MINIMAL).unwrap();
        let (scenarios, errors) = load_all(&[dir.path().join("tls"), dir.path().join("typo")]);
        assert_eq!(scenarios.len(), 1);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].location.ends_with("typo"),
            "{}",
            errors[0].location
        );
        #[cfg(unix)]
        {
            // A loop back to the top and a second way to the same directory: each file
            // once, the loop reported once.
            std::os::unix::fs::symlink(".", dir.path().join("self")).unwrap();
            std::os::unix::fs::symlink("tls", dir.path().join("also-tls")).unwrap();
            let (scenarios, errors) = load_all(&[dir.path().to_owned()]);
            let ids: Vec<&str> = scenarios.iter().map(|s| s.id.as_str()).collect();
            assert_eq!(ids, ["tls/good"]);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0].message.contains("symbolic link loop"),
                "{}",
                errors[0].message
            );
        }
    }

    #[test]
    fn a_directory_loads_what_parses_and_reports_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("tls")).unwrap();
        fs::write(dir.path().join("tls/good.toml"), MINIMAL).unwrap();
        fs::write(dir.path().join("bad.toml"), "description = 1").unwrap();
        fs::write(dir.path().join("notes.txt"), "not a scenario").unwrap();
        let (scenarios, errors) = load_all(&[dir.path().to_owned()]);
        assert_eq!(scenarios.len(), 1);
        assert_eq!(scenarios[0].id, "tls/good");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].location.ends_with("bad.toml:1:15"),
            "{}",
            errors[0].location
        );
        let (_, errors) = load_all(&[dir.path().join("missing")]);
        assert!(errors[0].message.contains("no such file"));
    }
}
