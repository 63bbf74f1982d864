//! A connector that floods its output neither grows the harness nor hides its outcome: the
//! harness keeps the last `MAX_KEPT_OUTPUT` bytes of each stream
//! (`harness/src/connector/external.rs`). The harness's peak memory is measured on its own
//! process (`output_with_peak_rss`).

use std::process::Command;

use crate::support::tools::output_with_peak_rss;

#[test]
fn a_flooding_connector_is_bounded_in_memory_and_time() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flood.toml"),
        "description = \"wrong password\"\nstep-timeout-ms = 200\n[account]\npassword = \"wrong\"\n[expect]\nclass = \"unauthorized\"\nstep = \"imap-login\"\ndetail = \"wrong-credentials\"\n",
    )
    .unwrap();
    let run = |connector: &str| {
        output_with_peak_rss(
            Command::new(env!("CARGO_BIN_EXE_mailharness"))
                .current_dir(dir.path())
                .env("NO_COLOR", "1")
                .args(["run", "flood.toml", "--connector", connector]),
        )
    };
    // Endless output: a connector error when its time is up (six step timeouts).
    let started = std::time::Instant::now();
    let (output, first) = run("exec:yes");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("connector error: exec did not finish within"),
        "{stdout}"
    );
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    // 50 MB of output, then the outcome: found, and the scenario passes.
    let (output, second) = run(concat!(
        "exec:head -c 50000000 /dev/zero | tr '\\0' x; echo; ",
        "echo '{\"class\": \"unauthorized\", \"step\": \"imap-login\", \"detail\": \"wrong-credentials\"}'"
    ));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    // Kept output is 1 MiB a stream; the harness itself needs some tens of MiB.
    let peak = first.max(second);
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
}
