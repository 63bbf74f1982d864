//! Third-party tools a test drives (python3, xmllint, chromium): whether one is here, with
//! the project's rule for a missing one.

use std::process::{Command, Stdio};

/// Whether `tool` runs here. When it does not, a test that needs it fails under
/// MAILHARNESS_REQUIRE_CONNECTORS=1 (CI installs it) and otherwise says what it leaves out.
pub fn tool_present(tool: &str, why: &str) -> bool {
    let present = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    let required = std::env::var("MAILHARNESS_REQUIRE_CONNECTORS").is_ok_and(|v| v == "1");
    assert!(
        present || !required,
        "{tool} is missing and MAILHARNESS_REQUIRE_CONNECTORS=1 is set"
    );
    if !present {
        eprintln!("note: {tool} is missing: {why} is left out of this test");
    }
    present
}
