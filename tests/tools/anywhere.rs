//! The installed binary used from a connector's own repository, as `docs/ci.md` describes:
//! run from an empty directory with a fresh cache, so that the catalogue and the shipped
//! connectors can only come from inside the binary, against an `exec:` connector with
//! `--junit`, `--partition` and `--baseline`, checking each file it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::tools::{Need, Test, tool_present};

/// The connector under test: python-stdlib's program, run as a user's own would be.
fn exec_connector() -> String {
    let program = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../connectors/python-stdlib/connector.py")
        .canonicalize()
        .unwrap();
    format!("exec:python3 '{}'", program.display())
}

/// An empty working directory and an empty cache.
struct Elsewhere {
    work: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Elsewhere {
    fn new() -> Elsewhere {
        Elsewhere {
            work: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_mailharness"))
            .current_dir(self.work.path())
            .env_remove("RUST_LOG")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("MAILHARNESS_CONNECTORS")
            .env_remove("MAILHARNESS_CONTAINERS")
            .env("NO_COLOR", "1")
            .env("XDG_CACHE_HOME", self.cache.path())
            .args(args)
            .output()
            .unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The scenario files of this repository's catalogue.
fn catalogue_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            if path.is_dir() {
                catalogue_files(&path)
            } else {
                usize::from(path.extension().is_some_and(|e| e == "toml"))
            }
        })
        .sum()
}

/// The ids and summary of a `--format json` report.
fn report(output: &Output) -> (Vec<String>, serde_json::Value) {
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr:\n{}", text(&output.stderr)));
    let ids = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, report["summary"].clone())
}

fn with_no_scenarios_here_the_built_in_catalogue_is_listed() {
    let here = Elsewhere::new();
    let output = here.run(&["list"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let listed = text(&output.stdout);
    let repository = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let expected = catalogue_files(&repository);
    assert!(
        listed.ends_with(&format!("\n{expected} scenarios\n")),
        "expected the {expected} scenarios of the catalogue:\n{listed}"
    );
    // `builtin:TOPIC` is the same part of it, with the same ids.
    let output = here.run(&["list", "builtin:courier"]);
    let courier = text(&output.stdout);
    let rows: Vec<&str> = courier.lines().skip(2).collect();
    let (last, ids) = rows.split_last().unwrap();
    assert!(
        !ids.is_empty() && ids.iter().all(|l| l.starts_with("courier/")),
        "{courier}"
    );
    assert_eq!(*last, format!("{} scenarios", ids.len()));
    // A name that is not there is a usage error that says what is.
    let output = here.run(&["list", "builtin:tsl"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("such as allowlist, auth"),
        "{}",
        text(&output.stderr)
    );
}

fn an_exec_connector_runs_the_built_in_catalogue_with_junit_shards_and_a_baseline() {
    let here = Elsewhere::new();
    let connector = exec_connector();
    let shard = |m: u32| {
        let output = here.run(&["list", "builtin:tls", "--partition", &format!("hash:{m}/2")]);
        assert_eq!(output.status.code(), Some(0));
        text(&output.stdout)
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .filter(|id| id.contains('/'))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let (first, second) = (shard(1), shard(2));
    assert!(!first.is_empty() && !second.is_empty());

    // Recording: the deviations of shard 1 go into the baseline, the run passes.
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "builtin:tls",
            "--partition",
            "hash:1/2",
            "--connector",
            &connector,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        here.run(&args)
    };
    let output = run(&[
        "--junit",
        "junit.xml",
        "--baseline",
        "baseline.toml",
        "--update-baseline",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let (mut ran, summary) = report(&output);
    ran.sort();
    let mut expected = first.clone();
    expected.sort();
    assert_eq!(ran, expected, "the run is shard 1 of the listing");
    assert_eq!(summary["failed"], 0);

    let baseline = std::fs::read_to_string(here.path("baseline.toml")).unwrap();
    let known = baseline.matches("[[known]]").count();
    assert!(
        known >= 1,
        "python-stdlib deviates on some of shard 1:\n{baseline}"
    );
    assert_eq!(baseline.matches("connector = \"exec\"").count(), known);
    assert!(
        baseline.contains("scenario = \"tls/imap-implicit-self-signed\""),
        "{baseline}"
    );
    assert!(
        !second
            .iter()
            .any(|id| baseline.contains(&format!("\"{id}\"")))
    );

    let junit = std::fs::read_to_string(here.path("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), first.len());
    assert!(junit.contains("<testsuite name=\"exec\""), "{junit}");
    assert!(
        first
            .iter()
            .all(|id| junit.contains(&format!("name=\"{id}\"")))
    );
    assert!(
        !second
            .iter()
            .any(|id| junit.contains(&format!("name=\"{id}\"")))
    );
    if tool_present("xmllint", "validating the JUnit XML") {
        let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/junit.xsd");
        let check = Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(&schema)
            .arg(here.path("junit.xml"))
            .output()
            .unwrap();
        assert!(check.status.success(), "{}", text(&check.stderr));
    }

    // Gating on the baseline: the same behaviour passes, each known deviation as recorded.
    let output = run(&["--baseline", "baseline.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let (_, summary) = report(&output);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["passed"], first.len());

    // The catalogue written out and one scenario's server changed: exit 1, naming it.
    let output = here.run(&["scenarios", "export", "catalogue"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let file = here.path("catalogue/tls/imap-implicit-self-signed.toml");
    let scenario = std::fs::read_to_string(&file).unwrap();
    let changed = scenario.replace("certificate = \"self-signed\"", "certificate = \"valid\"");
    assert_ne!(scenario, changed);
    std::fs::write(&file, changed).unwrap();
    // Only tls/ kept, so that the selection is the one recorded, with the same ids.
    for entry in std::fs::read_dir(here.path("catalogue")).unwrap() {
        let path = entry.unwrap().path();
        if !path.ends_with("tls") {
            std::fs::remove_dir_all(path).unwrap();
        }
    }
    let output = here.run(&[
        "run",
        "catalogue",
        "--partition",
        "hash:1/2",
        "--connector",
        &connector,
        "--baseline",
        "baseline.toml",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let named: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("than the baseline") || l.contains("from the baseline"))
        .collect();
    assert_eq!(named.len(), 1, "{stdout}");
    // The recorded deviation was a refusal; now the connector logs in.
    assert!(
        named[0].starts_with("tls/imap-implicit-self-signed ")
            && named[0].contains("changed from the baseline")
            && named[0].ends_with("got ok"),
        "{stdout}"
    );
    // Exported again over itself: nothing is overwritten, exit 2.
    let output = here.run(&["scenarios", "export", "catalogue"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("is there already"));
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("certificate = \"valid\"")
    );
}
fn a_shipped_connector_runs_from_inside_the_binary() {
    let here = Elsewhere::new();
    let output = here.run(&[
        "run",
        "builtin:tls/imap-implicit-expired",
        "--connector",
        "python-stdlib",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("1 scenarios, 1 passed"),
        "{}",
        text(&output.stdout)
    );
    // Its program came from the cache, written there from the binary.
    let copies: Vec<PathBuf> = std::fs::read_dir(here.cache.path().join("mailharness"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        copies
            .iter()
            .any(|dir| dir.join("python-stdlib/connector.py").is_file()),
        "{copies:?}"
    );
    // python-aio's packages are not in the binary: without them it says how to set it up.
    let output = here.run(&["run", "builtin:tls", "--connector", "python-aio"]);
    let stderr = text(&output.stderr);
    if output.status.code() == Some(2) {
        assert!(stderr.contains("set it up with: cd "), "{stderr}");
        assert!(stderr.contains("pip install --target .deps"), "{stderr}");
    }
}

/// The tests of this file, for `main.rs`.
pub fn tests() -> Vec<Test> {
    vec![
        Test {
            name: "with_no_scenarios_here_the_built_in_catalogue_is_listed",
            needs: &[],
            run: with_no_scenarios_here_the_built_in_catalogue_is_listed,
        },
        Test {
            name: "an_exec_connector_runs_the_built_in_catalogue_with_junit_shards_and_a_baseline",
            needs: &[Need::Tool("python3")],
            run: an_exec_connector_runs_the_built_in_catalogue_with_junit_shards_and_a_baseline,
        },
        Test {
            name: "a_shipped_connector_runs_from_inside_the_binary",
            needs: &[Need::Tool("python3")],
            run: a_shipped_connector_runs_from_inside_the_binary,
        },
    ]
}
