//! What the test binaries share about their surroundings: the third-party tools a test
//! drives (python3, xmllint, chromium) and Docker, each with the project's rule for a
//! missing one, and the peak memory of the children a test waited for. Each binary uses
//! some of it.
#![allow(dead_code)]

use std::process::{Command, Stdio};

use mailharness::containers::docker;

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

/// Whether Docker is here; panics when it is required and missing.
pub fn docker_here(test: &str) -> bool {
    match docker::daemon() {
        Ok(_) => true,
        Err(reason) if docker::required() => {
            panic!(
                "{test}: no Docker daemon ({reason}), and {} is set",
                docker::REQUIRE_DOCKER
            )
        }
        Err(reason) => {
            eprintln!(
                "{test}: skipped, no Docker daemon ({reason}); set {}=1 to make this a failure",
                docker::REQUIRE_DOCKER
            );
            false
        }
    }
}

/// The largest resident set of the children this process waited for, in KiB: in a test
/// binary of its own, the harness's peak memory.
pub fn peak_rss_of_children_kib() -> i64 {
    // SAFETY: getrusage only fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    usage.ru_maxrss
}
