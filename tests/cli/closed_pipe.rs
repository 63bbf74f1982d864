//! Every command whose reader went away (`mailharness list | head -1`) ends quietly with its
//! own exit code: no panic, no backtrace. The tests give the command a stdout pipe whose
//! reading end is closed before it starts, so every write fails with a broken pipe.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `mailharness ARGS` from the repository's top with stdout a pipe nobody reads.
fn with_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = Command::new(env!("CARGO_BIN_EXE_mailharness"))
        .current_dir(repository())
        .env("NO_COLOR", "1")
        .env("MH_CLOSED_PIPE_PASSWORD", "not-a-real-password")
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.wait_with_output().unwrap()
}

fn assert_quiet(args: &[&str], code: i32) {
    let output = with_closed_stdout(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{args:?}:\n{stderr}"
    );
    assert_eq!(output.status.code(), Some(code), "{args:?}:\n{stderr}");
}

#[test]
fn list_images_presets_and_scenarios_end_quietly() {
    assert_quiet(&["list"], 0);
    assert_quiet(&["list", "builtin:tls"], 0);
    assert_quiet(&["presets", "validate", "docs/presets.example.toml"], 0);
    assert_quiet(&["images", "list"], 0);
    assert_quiet(&["--help"], 0);
}

#[test]
fn check_ends_quietly_with_its_verdict() {
    // Nothing listens on port 1: every row fails, the report is written to the closed pipe.
    for format in ["human", "json"] {
        assert_quiet(
            &[
                "check",
                "--imap",
                "127.0.0.1:1",
                "--imap-security",
                "implicit-tls",
                "--smtp",
                "127.0.0.1:1",
                "--smtp-security",
                "starttls",
                "--email",
                "alice@example.com",
                "--password-env",
                "MH_CLOSED_PIPE_PASSWORD",
                "--timeout",
                "2",
                "--format",
                format,
            ],
            1,
        );
    }
}

#[test]
fn run_ends_quietly_with_its_verdict() {
    assert_quiet(&["run", "scenarios/tls", "--tag", "certificate"], 0);
    assert_quiet(&["run", "scenarios/auth", "--format", "json"], 0);
}
