//! Reading scenario files. A bad file is refused with its path, line and column and what
//! was expected, as a miette diagnostic that shows the offending line; the others load.

use std::fs;
use std::path::{Path, PathBuf};

use super::Scenario;
use crate::file_error::FileError;
use crate::outcome::ErrorClass;

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
    let scenario: Scenario = toml::from_str(text).map_err(|error| {
        let message = error.message().trim().to_owned();
        let span = error.span().map(|span| refine_span(text, span, &message));
        ScenarioError::at(path, text, span, message)
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
    for (table, keys) in [
        ("imap", scenario.imap.mock_only_keys()),
        ("smtp", scenario.smtp.mock_only_keys()),
    ] {
        if let Some(key) = keys.first() {
            let span = text
                .find(&format!("[{table}]"))
                .map(|start| start..start + table.len() + 2);
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
        return Err(ScenarioError::at(
            path,
            text,
            None,
            "`description` is empty".into(),
        ));
    }
    Ok(scenario)
}

/// Reads one scenario file; its id is its path relative to `root`.
pub fn load_file(path: &Path, root: &Path) -> Result<LoadedScenario, ScenarioError> {
    let text = fs::read_to_string(path).map_err(|e| ScenarioError::io(path, &e))?;
    let scenario = parse(path, &text)?;
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
/// root its id is relative to: the directory given, or a file's own directory.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf)>, ScenarioError> {
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
pub fn discover_rooted(
    paths: &[(PathBuf, PathBuf)],
) -> Result<Vec<(PathBuf, PathBuf)>, ScenarioError> {
    let mut found = Vec::new();
    for (path, root) in paths {
        if path.is_dir() {
            walk(path, root, &mut found).map_err(|e| ScenarioError::io(path, &e))?;
        } else if path.is_file() {
            found.push((path.clone(), root.clone()));
        } else {
            return Err(ScenarioError::io(
                path,
                &std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
            ));
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, root: &Path, found: &mut Vec<(PathBuf, PathBuf)>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, root, found)?;
        } else if path.extension().is_some_and(|ext| ext == "toml") {
            found.push((path, root.to_owned()));
        }
    }
    Ok(())
}

/// Loads everything under `paths`: the scenarios that parse, and an error for each that
/// does not.
pub fn load_all(paths: &[PathBuf]) -> (Vec<LoadedScenario>, Vec<ScenarioError>) {
    load_files(discover(paths))
}

/// [`load_all`] with the root of each path's ids given (see [`discover_rooted`]).
pub fn load_all_rooted(paths: &[(PathBuf, PathBuf)]) -> (Vec<LoadedScenario>, Vec<ScenarioError>) {
    load_files(discover_rooted(paths))
}

fn load_files(
    files: Result<Vec<(PathBuf, PathBuf)>, ScenarioError>,
) -> (Vec<LoadedScenario>, Vec<ScenarioError>) {
    let files = match files {
        Ok(files) => files,
        Err(error) => return (Vec::new(), vec![error]),
    };
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
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
    fn real_servers_refuse_mock_only_keys() {
        let e = error(
            "description = \"d\"\n[imap]\nserver = \"dovecot\"\nfaults = { stall = true }\n[expect]\nclass = \"ok\"\n",
        );
        assert!(
            e.message.contains("[imap] faults is for mock servers only"),
            "{}",
            e.message
        );
        assert_eq!(e.location, "scenarios/x.toml:2:1");
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
