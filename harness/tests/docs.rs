//! The figures the docs state about the catalogue, checked against it, so that they cannot
//! drift: the scenario counts of `docs/scenarios.md` (in all, mock and real, per topic) and
//! the "as expected" counts per shipped connector in `docs/connectors.md` and
//! `docs/conformance-matrix.md`, recomputed from the snapshots and the `[expect]` tables.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mailharness::outcome::{ErrorClass, Outcome, Step};
use mailharness::runner::compare;
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

/// How many scenarios `connector`'s snapshots record as `[expect]` says.
fn as_expected(scenarios: &[LoadedScenario], connector: &str) -> (usize, usize) {
    let mut matched = 0;
    let mut hostile = 0;
    for loaded in scenarios {
        let file = top()
            .join("harness/tests/snapshots")
            .join(connector)
            .join(format!("{}.snap", loaded.id.replace('/', "__")));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let json = text.splitn(3, "---").nth(2).unwrap();
        let snapshot: Snapshot = serde_json::from_str(json).unwrap();
        // A connector error is never as expected.
        let Ok(class) = snapshot.class.parse::<ErrorClass>() else {
            continue;
        };
        let outcome = Outcome {
            class,
            step: snapshot.step,
            detail: snapshot.detail,
            response: None,
        };
        if compare(loaded.scenario.expect.get_ref(), &outcome).is_none() {
            matched += 1;
            hostile += usize::from(loaded.id.starts_with("hostile/"));
        }
    }
    (matched, hostile)
}

#[test]
fn the_as_expected_counts_in_the_docs_are_the_snapshots() {
    let scenarios = catalogue();
    let total = scenarios.len();
    let hostile = scenarios
        .iter()
        .filter(|s| s.id.starts_with("hostile/"))
        .count();
    let connectors = doc("connectors.md");
    let matrix = doc("conformance-matrix.md");
    assert_states(&connectors, "as expected (of ", total, "connectors.md");
    assert_states(
        &connectors,
        "of them `hostile/` (of ",
        hostile,
        "connectors.md",
    );
    for connector in ["reference", "python-stdlib", "curl", "python-aio"] {
        let (matched, matched_hostile) = as_expected(&scenarios, connector);
        let row = format!("| `{connector}` |");
        let line = connectors
            .lines()
            .find(|line| line.starts_with(&row))
            .unwrap_or_else(|| panic!("no row for {connector} in docs/connectors.md"));
        assert!(
            line.ends_with(&format!("| {matched} | {matched_hostile} |")),
            "docs/connectors.md: {connector} is as expected in {matched} ({matched_hostile} hostile): {line}"
        );
        assert_states(
            &matrix,
            &format!("{connector}: "),
            matched,
            "conformance-matrix.md",
        );
        assert_states(
            &matrix,
            &format!("{connector}: {matched}/"),
            total,
            "conformance-matrix.md",
        );
    }
}
