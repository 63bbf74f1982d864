//! The integration tests that decide at run time whether they can run here: they need
//! Docker (real servers), python3, curl, chromium or mbsync. One binary (libtest-mimic), each test
//! reported *ignored* with the reason when what it needs is missing, and failing instead
//! under `MAILHARNESS_REQUIRE_DOCKER=1` / `MAILHARNESS_REQUIRE_CONNECTORS=1`
//! (`support/tools.rs`). Test names carry their file: `cli_run::usage_errors_exit_2`.

#[path = "../support/mod.rs"]
mod support;

mod anywhere;
mod check_real;
mod cli_run;
mod clients;
mod readings;
mod signals;

fn main() {
    support::tools::run_tests(&[
        ("anywhere", anywhere::tests()),
        ("check_real", check_real::tests()),
        ("clients", clients::tests()),
        ("cli_run", cli_run::tests()),
        ("readings", readings::tests()),
        ("signals", signals::tests()),
    ])
}
