//! Running the scenario catalogue against your own connector, written in Rust.
//!
//! Implement [`Connector`] for your type: take the [`Settings`] (hosts, ports, security,
//! credentials, trusted CA, timeout), do your connector's five steps, and map what happened
//! onto an [`Outcome`]. Here the connector is the reference one behind a wrapper that
//! counts its runs; yours would call your own IMAP and SMTP code instead.
//!
//! ```text
//! cargo run -p mailharness --example own_connector -- scenarios/courier
//! ```
//!
//! It prints a line per scenario and the summary, and exits 1 when an outcome differs from
//! the scenario's `[expect]`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mailharness::connector::reference::ReferenceConnector;
use mailharness::connector::{BoxFuture, Connector, ConnectorError, Settings};
use mailharness::outcome::Outcome;
use mailharness::report::RunReport;
use mailharness::runner::{RunEnv, run_all};
use mailharness::scenario::load::load_all;

/// Your connector.
struct CountingConnector {
    inner: ReferenceConnector,
    runs: AtomicUsize,
}

impl Connector for CountingConnector {
    fn name(&self) -> &str {
        "counting"
    }

    fn run<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Outcome, ConnectorError>> {
        self.runs.fetch_add(1, Ordering::Relaxed);
        // Your five steps go here; every one bounded by `settings.step_timeout`.
        self.inner.run(settings)
    }
}

fn main() -> std::process::ExitCode {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let paths = if paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        paths
    };
    let (scenarios, errors) = load_all(&paths);
    for error in &errors {
        eprintln!("{error}");
    }
    let connector = Arc::new(CountingConnector {
        inner: ReferenceConnector,
        runs: AtomicUsize::new(0),
    });
    let env = Arc::new(RunEnv::new(None).expect("certificates"));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let results = runtime.block_on(run_all(
        scenarios,
        connector.clone(),
        env.clone(),
        4,
        false,
        |r, done, total| {
            let verdict = if r.passed { "ok" } else { "FAIL" };
            eprintln!("[{done}/{total}] {verdict} {}", r.id);
        },
    ));
    runtime.block_on(env.shutdown());
    let report = RunReport::new(
        connector.name(),
        results,
        errors.iter().map(|e| e.to_string()).collect(),
        0,
    );
    print!("{}", report.to_human(false));
    println!(
        "the connector ran {} times",
        connector.runs.load(Ordering::Relaxed)
    );
    std::process::ExitCode::from(report.exit_code())
}
