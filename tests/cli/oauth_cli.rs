//! `mailharness run` over the OAuth catalogue (`scenarios/oauth/`) with every output at
//! once, logs at TRACE: the reference connector meets each scenario's expectation, the
//! shipped connectors without OAuth skip them, and no OAuth secret of the run is printed
//! anywhere (JSON with transcripts, logs, JUnit, HTML).

use std::path::PathBuf;
use std::process::Command;

use crate::support::no_secret::{assert_no_oauth_secret, assert_no_secret, run_with_every_output};

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
    let outputs = run_with_every_output(mailharness(), &["scenarios/oauth"], password);
    let stdout = &outputs.stdout;
    assert_eq!(outputs.status, Some(0), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(stdout).expect("JSON report");
    assert_eq!(report["summary"]["failed"], 0);
    assert!(report["summary"]["total"].as_u64().unwrap() >= 30);
    // The transcripts are in the report, the SASL lines redacted.
    assert!(
        stdout.contains("AUTHENTICATE XOAUTH2 <redacted>"),
        "{stdout}"
    );
    assert!(stdout.contains("AUTH XOAUTH2 <redacted>"));
    for haystack in outputs.all() {
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
