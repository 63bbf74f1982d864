//! `mailharness run` over the OAuth catalogue (`scenarios/oauth/`) with every output at
//! once, logs at TRACE: the reference connector meets each scenario's expectation, the
//! shipped connectors without OAuth skip them, and no OAuth secret of the run is printed
//! anywhere (JSON with transcripts, logs, JUnit, HTML).

use std::path::PathBuf;
use std::process::Command;

use crate::support::no_secret::{assert_no_oauth_secret, assert_no_secret};

/// `mailharness` in the repository's top directory, without the caller's log settings.
fn mailharness() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailharness"));
    command
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    command
}

#[test]
fn the_oauth_scenarios_pass_and_no_token_or_client_secret_is_printed() {
    let password = "oauth-run-password-for-the-secret-check";
    let junit = tempfile::NamedTempFile::new().unwrap();
    let html = tempfile::NamedTempFile::new().unwrap();
    let output = mailharness()
        .args([
            "run",
            "scenarios/oauth",
            "--format",
            "json",
            "--verbose",
            "--junit",
        ])
        .arg(junit.path())
        .arg("--html")
        .arg(html.path())
        .env("MAILHARNESS_PASSWORD", password)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["summary"]["failed"], 0);
    assert!(report["summary"]["total"].as_u64().unwrap() >= 30);
    // The transcripts are in the report, the SASL lines redacted.
    assert!(
        stdout.contains("AUTHENTICATE XOAUTH2 <redacted>"),
        "{stdout}"
    );
    assert!(stdout.contains("AUTH XOAUTH2 <redacted>"));
    let junit = std::fs::read_to_string(junit.path()).unwrap();
    let html = std::fs::read_to_string(html.path()).unwrap();
    for haystack in [&stdout, &stderr, &junit, &html] {
        assert_no_oauth_secret(haystack, password);
        assert_no_secret(haystack, password, &["alice@example.com"]);
    }
    // A shipped connector without OAuth skips them all, and says why.
    let output = mailharness()
        .args([
            "run",
            "scenarios/oauth",
            "--format",
            "json",
            "--connector",
            "exec:false",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(report["summary"]["skipped"], report["summary"]["total"]);
    assert!(
        report["scenarios"][0]["skipped"]
            .as_str()
            .unwrap()
            .contains("does not sign in with OAuth")
    );
}
