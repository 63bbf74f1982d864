//! The figures the docs state about the catalogue, checked against it, so that they cannot
//! drift: the scenario counts of `docs/scenarios.md` (in all, mock and real, per topic),
//! the "as expected" counts per shipped connector in `docs/connectors.md`, and the whole
//! table of `docs/conformance-matrix.md`, made from the snapshots and the `[expect]` tables
//! by the formatter of `run --format matrix`. `MAILHARNESS_UPDATE_DOCS=1 cargo test -p
//! mailharness --test cli docs::` writes the matrix after the snapshots changed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mailharness::outcome::{ErrorClass, Outcome, Step};
use mailharness::report::{RunReport, matrix};
use mailharness::runner::{ScenarioResult, compare};
use mailharness::scenario::load::{LoadedScenario, load_all};
use serde::Deserialize;

fn top() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn doc(name: &str) -> String {
    std::fs::read_to_string(top().join("docs").join(name)).unwrap()
}

fn catalogue() -> Vec<LoadedScenario> {
    let (scenarios, errors) = load_all(&[top().join("scenarios")]);
    assert!(errors.is_empty(), "{errors:?}");
    scenarios
}

/// `text` holds `needle` followed by `value` (the docs' way of stating a count).
fn assert_states(text: &str, needle: &str, value: usize, what: &str) {
    let stated = format!("{needle}{value}");
    assert!(
        text.contains(&stated),
        "{what}: expected the docs to say `{stated}`"
    );
}

#[test]
fn the_catalogue_counts_in_docs_scenarios_md_are_the_catalogue_s() {
    let scenarios = catalogue();
    let real = scenarios
        .iter()
        .filter(|s| s.scenario.needs_containers())
        .count();
    // Prose wraps: compare with every run of white space as one space.
    let text = doc("scenarios.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let stated = format!(
        "{} scenarios: {} on mock servers and {real} on real ones.",
        scenarios.len(),
        scenarios.len() - real
    );
    assert!(
        text.contains(&stated),
        "expected `{stated}` in docs/scenarios.md"
    );
    let mut topics: BTreeMap<&str, usize> = BTreeMap::new();
    for loaded in scenarios.iter().filter(|s| !s.scenario.needs_containers()) {
        let topic = loaded.id.split('/').next().unwrap();
        *topics.entry(topic).or_default() += 1;
    }
    for (topic, count) in topics {
        if topic == "real" {
            continue;
        }
        assert_states(&text, &format!("`{topic}` "), count, topic);
    }
}

/// What a snapshot holds.
#[derive(Deserialize)]
struct Snapshot {
    class: String,
    step: Option<Step>,
    detail: Option<String>,
}

/// What a snapshot records: an outcome, or none for a connector error; `Err` for a
/// scenario the connector skips (an OAuth account for a connector without OAuth).
fn snapshot(loaded: &LoadedScenario, connector: &str) -> Result<Option<Outcome>, Skipped> {
    let file = top()
        .join("tests/snapshots")
        .join(connector)
        .join(format!("{}.snap", loaded.id.replace('/', "__")));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
    let json = text.splitn(3, "---").nth(2).unwrap();
    let snapshot: Snapshot = serde_json::from_str(json).unwrap();
    if snapshot.class == "skipped" {
        return Err(Skipped);
    }
    Ok(snapshot
        .class
        .parse::<ErrorClass>()
        .ok()
        .map(|class| Outcome {
            class,
            step: snapshot.step,
            detail: snapshot.detail,
            response: None,
        }))
}

/// A snapshot that records a skipped scenario.
struct Skipped;

/// `connector`'s snapshots as the report of a run: what `run --format matrix` shows.
fn report(scenarios: &[LoadedScenario], connector: &str) -> RunReport {
    let results = scenarios
        .iter()
        .map(|loaded| {
            let expected = loaded.scenario.expect.get_ref().clone();
            let recorded = snapshot(loaded, connector);
            let skipped = recorded
                .is_err()
                .then(|| format!("{connector} does not sign in with OAuth"));
            let outcome = recorded.unwrap_or(None);
            // A connector error is never as expected, nor is a skipped scenario.
            let mismatch = match (&outcome, &skipped) {
                (Some(outcome), _) => compare(&expected, outcome),
                (None, Some(_)) => None,
                (None, None) => Some("connector error".to_owned()),
            };
            ScenarioResult {
                id: loaded.id.clone(),
                description: loaded.scenario.description.clone(),
                tags: loaded.scenario.tags.clone(),
                expected,
                passed: mismatch.is_none() && skipped.is_none(),
                connector_error: (outcome.is_none() && skipped.is_none())
                    .then(|| "connector error".to_owned()),
                outcome,
                mismatch,
                skipped,
                known_deviation: false,
                duration_ms: 0,
                transcripts: Vec::new(),
            }
        })
        .collect();
    RunReport::new(connector, results, Vec::new(), 0)
}

/// How many scenarios `connector`'s snapshots record as `[expect]` says, and how many of
/// them are `hostile/`.
fn as_expected(scenarios: &[LoadedScenario], connector: &str) -> (usize, usize) {
    let report = report(scenarios, connector);
    let passed = report.scenarios.iter().filter(|r| r.passed);
    let hostile = passed
        .clone()
        .filter(|r| r.id.starts_with("hostile/"))
        .count();
    (passed.count(), hostile)
}

/// The reference connector, then every connector shipped under `connectors/` (a new one is
/// in the matrix and the counts as soon as it has its snapshots).
fn connectors() -> Vec<String> {
    let mut all = vec!["reference".to_owned()];
    all.extend(mailharness::connector::shipped_in(&[
        top().join("connectors")
    ]));
    all
}

#[test]
fn the_conformance_matrix_is_the_snapshots() {
    let scenarios = catalogue();
    let reports: Vec<RunReport> = connectors()
        .iter()
        .map(|connector| report(&scenarios, connector))
        .collect();
    let table = matrix(&reports);
    let path = top().join("docs/conformance-matrix.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("| scenario |").expect("the matrix's table");
    if std::env::var("MAILHARNESS_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, format!("{}{table}", &text[..start])).unwrap();
        return;
    }
    assert!(
        text[start..] == table,
        "docs/conformance-matrix.md is not the snapshots' matrix; rerun with MAILHARNESS_UPDATE_DOCS=1 to write it"
    );
}

#[test]
fn the_as_expected_counts_in_the_docs_are_the_snapshots() {
    let scenarios = catalogue();
    let total = scenarios.len();
    let hostile = scenarios
        .iter()
        .filter(|s| s.id.starts_with("hostile/"))
        .count();
    let page = doc("connectors.md");
    assert_states(&page, "as expected (of ", total, "connectors.md");
    assert_states(&page, "of them `hostile/` (of ", hostile, "connectors.md");
    for connector in &connectors() {
        let (matched, matched_hostile) = as_expected(&scenarios, connector);
        let row = format!("| `{connector}` |");
        let line = page
            .lines()
            .find(|line| line.starts_with(&row))
            .unwrap_or_else(|| panic!("no row for {connector} in docs/connectors.md"));
        assert!(
            line.ends_with(&format!("| {matched} | {matched_hostile} |")),
            "docs/connectors.md: {connector} is as expected in {matched} ({matched_hostile} hostile): {line}"
        );
    }
}

/// Every relative link of the README and the docs names a file that is there, and the
/// README stays what a newcomer reads first: at most 10 KB.
#[test]
fn the_readme_is_short_and_every_link_resolves() {
    let readme = top().join("README.md");
    let size = std::fs::metadata(&readme).unwrap().len();
    assert!(
        size <= 10 * 1024,
        "README.md is {size} bytes, more than 10 KB"
    );
    let mut pages = vec![readme];
    for entry in std::fs::read_dir(top().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for (_, rest) in text.match_indices("](").map(|(i, _)| ((), &text[i + 2..])) {
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let file = target.split('#').next().unwrap();
            let resolved = page.parent().unwrap().join(file);
            assert!(
                resolved.exists(),
                "{}: the link ({target}) names no file",
                page.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: the link reader is broken"
    );
}

/// docs/check.md's table of rows is the code's list of requirements: one table row each,
/// in order, with its number and title.
#[test]
fn the_check_table_in_the_docs_is_the_list_of_requirements() {
    use mailharness::check::Requirement;
    let text = doc("check.md");
    let table: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.starts_with("| # | Requirement |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .collect();
    let expected: Vec<String> = Requirement::ALL
        .iter()
        .map(|r| format!("| {} | {} |", r.number(), r.title()))
        .collect();
    assert_eq!(table.len(), expected.len(), "docs/check.md: {table:#?}");
    for (line, start) in table.iter().zip(&expected) {
        assert!(
            line.starts_with(start.as_str()),
            "docs/check.md: `{line}` should start `{start}`"
        );
    }
}
