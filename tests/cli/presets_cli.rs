//! `mailharness presets validate` end to end: the built binary on the shipped example and
//! on files with problems, each of which must be named with its file, line and column.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `mailharness presets validate FILE` in `dir`, without colours. Nothing is a
/// terminal, so miette wraps at 80 columns whatever runs the tests.
fn validate(dir: &Path, file: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailharness"))
        .args(["presets", "validate", file])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .output()
        .expect("mailharness runs")
}

/// stderr with miette's wrapped lines joined, so a message reads as one line.
fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).replace("\n  │ ", " ")
}

/// Writes `text` to `presets.toml` in a new temporary directory.
fn presets_file(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("presets.toml"), text).unwrap();
    dir
}

#[test]
fn the_example_is_valid() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let output = validate(&docs, "presets.example.toml");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout,
        "presets.example.toml: 3 presets (2 IMAP, 1 Exchange), valid\n"
    );
}

#[test]
fn every_problem_is_named_with_its_line_and_column() {
    let dir = presets_file(
        r#"[[imap]]
domain = "example.com"
imap-host = "imap.example.com"
imap-port = 0
smtp-host = "smtp example.com"
smtp-port = 70000

[[imap]]
domain = "Example.com"
imap-host = "imap.example.com"
imap-port = 993
smtp-host = "smtp.example.com"
smtp-port = 587

[[exchange]]
domain = "example.com"
url = "https://mail.example.com/EWS/Exchange.asmx"

[[exchange]]
domain = "corp.example"
url = "ftp://mail.corp.example/EWS/Exchange.asmx"
"#,
    );
    let output = validate(dir.path(), "presets.toml");
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty());
    for expected in [
        "presets.toml:4:13: port must be 1–65535 (found 0)",
        "presets.toml:5:13: `smtp example.com` is not a host name or IP address",
        "presets.toml:6:13: port must be 1–65535 (found 70000)",
        "presets.toml:9:10: duplicate domain `Example.com` (first preset at line 2)",
        "presets.toml:16:10: `example.com` has both IMAP and Exchange settings; a domain takes one or the other",
        "presets.toml:21:7: `ftp://mail.corp.example/EWS/Exchange.asmx` is not an Exchange URL",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
    // miette shows each offending line too.
    assert!(stderr.contains("[presets.toml:9:10]"), "{stderr}");
    assert!(stderr.ends_with("presets.toml: 6 problems\n"), "{stderr}");
}

#[test]
fn an_unknown_key_is_named_with_its_position() {
    let dir = presets_file(
        "[[exchange]]\ndomain = \"corp.example\"\nurl = \"https://mail.corp.example/\"\nuser = \"x\"\n",
    );
    let output = validate(dir.path(), "presets.toml");
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("presets.toml:4:1: unknown field `user`, expected `domain` or `url`"),
        "{stderr}"
    );
    assert!(stderr.ends_with("presets.toml: 1 problem\n"), "{stderr}");
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let output = validate(dir.path(), "absent.toml");
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("absent.toml: cannot read: "), "{stderr}");
}
