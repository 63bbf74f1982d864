//! The scenario catalogue as tests: one test case per file under `scenarios/`, named after
//! its path (`tls::imap-expired`). Each runs the reference connector against the mock
//! servers, asserts the `[expect]` table, and snapshots class, step and detail with insta
//! (`harness/tests/snapshots/reference/`), nothing that varies between runs.

use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use mailharness::connector::reference::ReferenceConnector;
use mailharness::runner::{RunEnv, run_scenario};
use mailharness::scenario::load::{LoadedScenario, load_all};
use serde::Serialize;

/// What a snapshot holds: only what is stable between runs.
#[derive(Serialize)]
struct Snapshot<'a> {
    description: &'a str,
    class: String,
    step: Option<String>,
    detail: Option<&'a str>,
}

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn run(loaded: &LoadedScenario, env: &RunEnv) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(run_scenario(loaded, &ReferenceConnector, env, false));
    let snapshot = Snapshot {
        description: &result.description,
        class: result.outcome.class.to_string(),
        step: result.outcome.step.map(|s| s.to_string()),
        detail: result.outcome.detail.as_deref(),
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/reference");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let name = loaded.id.replace('/', "__");
    let snapshot_result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_json_snapshot!(name, snapshot));
    }));
    if let Some(mismatch) = result.mismatch {
        let transcripts: String = result.transcripts.iter().map(|t| t.to_string()).collect();
        return Err(format!(
            "{mismatch}\nserver response: {:?}\n{transcripts}",
            result.outcome.response
        )
        .into());
    }
    snapshot_result
        .map_err(|_| Failed::from("snapshot differs (see above; review with `cargo insta review`)"))
}

fn main() {
    let mut args = Arguments::from_args();
    // Scenarios mostly wait (on timeouts, on sockets), so more run at once than there are
    // cores unless --test-threads says otherwise.
    if args.test_threads.is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        args.test_threads = Some((cores * 4).max(8));
    }
    let (scenarios, errors) = load_all(&[scenarios_dir()]);
    let env = Arc::new(RunEnv::new(None).expect("certificates"));
    let mut trials: Vec<Trial> = errors
        .into_iter()
        .map(|error| {
            let name = format!("scenario-file::{}", error.location);
            Trial::test(name, move || Err(error.to_string().into()))
        })
        .collect();
    trials.extend(scenarios.into_iter().map(|loaded| {
        let env = env.clone();
        let name = loaded.id.replace('/', "::");
        Trial::test(name, move || run(&loaded, &env))
    }));
    libtest_mimic::run(&args, trials).exit();
}
