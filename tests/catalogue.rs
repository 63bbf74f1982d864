//! The scenario catalogue as tests: one test case per file under `scenarios/`, named after
//! its path (`tls::imap-expired`). Each runs the reference connector against the scenario's
//! servers, asserts the `[expect]` table, and snapshots class, step and detail with insta
//! (`tests/snapshots/reference/`), nothing that varies between runs.
//!
//! The connectors shipped under `connectors/` run the same catalogue, each with its own
//! snapshot set (`snapshots/<connector>/`, test names `<connector>::tls::…`): their
//! snapshots record what each client does, `[expect]` is the reference connector's; a
//! connector that hangs or prints no outcome (on a hostile server, say) is snapshotted as
//! class `connector-error`, detail `hung` or `no-outcome`. A
//! connector whose tools are missing is ignored with a note, unless
//! `MAILHARNESS_REQUIRE_CONNECTORS=1` makes that a failure.
//!
//! A real-server scenario's mock twin runs too, with the same connector, and the two must
//! end in the same class and detail (for every connector, not only the reference one).
//!
//! Scenarios with real servers need Docker: without a daemon they are ignored with a
//! message, unless `MAILHARNESS_REQUIRE_DOCKER=1` makes that a failure. Missing images are
//! built first (`mailharness images build` does the same by hand).

#[path = "provider_replies_served.rs"]
mod provider_replies_served;

use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use mailharness::connector::{Connector, ResolveError};
use mailharness::containers::docker;
use mailharness::outcome::Outcome;
use mailharness::runner::{RunEnv, run_scenario};
use mailharness::scenario::load::{LoadedScenario, load_all};
use provider_replies_served::Served;
use serde::Serialize;
use tokio::runtime::Runtime;

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

/// A real-server scenario and its mock twin must end in the same class and detail, for
/// every connector: the mocks are to behave as the real servers do for any client, not
/// only for the reference connector (the twin runs again with `connector`).
fn check_parity(
    loaded: &LoadedScenario,
    outcome: &Outcome,
    connector: &dyn Connector,
    env: &RunEnv,
    runtime: &Runtime,
) -> Result<(), Failed> {
    let Some(twin) = loaded.load_twin() else {
        return Ok(());
    };
    let twin = twin.map_err(|e| format!("twin: {e}"))?;
    let result = runtime.block_on(run_scenario(&twin, connector, env, false));
    let twin_outcome = result
        .outcome
        .ok_or_else(|| format!("twin {} did not run", twin.id))?;
    if !mailharness::runner::parity(outcome, &twin_outcome) {
        return Err(format!(
            "parity: for {}, the real server gives {outcome}, its mock twin {} gives {twin_outcome}",
            connector.name(),
            twin.id
        )
        .into());
    }
    Ok(())
}

fn run(
    loaded: &LoadedScenario,
    connector: &dyn Connector,
    env: &RunEnv,
    runtime: &Runtime,
    served: Option<&Served>,
) -> Result<(), Failed> {
    let reference = connector.name() == "reference";
    let mut report = served.map(|served| served.start(loaded));
    let result = runtime.block_on(run_scenario(loaded, connector, env, report.is_some()));
    if let Some(report) = &mut report {
        report.record(&result.transcripts);
    }
    let snapshot = match (&result.outcome, &result.connector_error) {
        (Some(outcome), _) => {
            check_parity(loaded, outcome, connector, env, runtime)?;
            Snapshot {
                description: &result.description,
                class: outcome.class.to_string(),
                step: outcome.step.map(|s| s.to_string()),
                detail: outcome.detail.as_deref(),
            }
        }
        // A shipped connector that hangs or crashes on a hostile server: that is what the
        // client does, snapshotted as such (never for the built-in one).
        (None, Some(error)) if !reference => Snapshot {
            description: &result.description,
            class: "connector-error".into(),
            step: None,
            detail: Some(if error.contains("did not finish within") {
                "hung"
            } else {
                "no-outcome"
            }),
        },
        // A shipped connector without OAuth skips an OAuth account's scenario: snapshotted,
        // so that the day it signs in with OAuth shows.
        (None, None) if !reference && result.skipped.is_some() => Snapshot {
            description: &result.description,
            class: "skipped".into(),
            step: None,
            detail: Some("no-oauth"),
        },
        (None, _) => {
            return Err(result
                .mismatch
                .unwrap_or_else(|| "the scenario did not run".into())
                .into());
        }
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(format!("snapshots/{}", connector.name()));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let name = loaded.id.replace('/', "__");
    let snapshot_result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_json_snapshot!(name, snapshot));
    }));
    if let (true, Some(mismatch)) = (reference, result.mismatch) {
        let transcripts: String = result.transcripts.iter().map(|t| t.to_string()).collect();
        let response = result.outcome.as_ref().map(|o| &o.response);
        return Err(format!("{mismatch}\nserver response: {response:?}\n{transcripts}").into());
    }
    snapshot_result
        .map_err(|_| Failed::from("snapshot differs (see above; review with `cargo insta review`)"))
}

/// A connector by name, or why it cannot run here.
type Resolved = Result<Arc<dyn Connector>, ResolveError>;

/// The connectors to run: the reference one and every one shipped in this repository's
/// `connectors/` whose tools are here.
fn connectors() -> Vec<(String, Resolved)> {
    let dirs = [PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../connectors")];
    let mut all = vec![(
        "reference".to_owned(),
        mailharness::connector::resolve("reference"),
    )];
    for name in mailharness::connector::shipped_in(&dirs) {
        let connector = mailharness::connector::resolve_in(&name, &dirs);
        // Only a missing tool is the machine's; a broken connector.toml always fails.
        if let Err(why @ ResolveError::Unavailable { .. }) = &connector {
            let required = std::env::var("MAILHARNESS_REQUIRE_CONNECTORS").is_ok_and(|v| v == "1");
            if !required {
                eprintln!(
                    "note: {why}: its test cases are ignored (set MAILHARNESS_REQUIRE_CONNECTORS=1 to fail instead)"
                );
            }
        }
        all.push((name, connector));
    }
    all
}

/// Whether the real-server scenarios can run: `Ok(true)` yes, `Ok(false)` skip them,
/// `Err` they must run and cannot (the run's own check, images built if missing).
fn containers_ready(needed: bool, env: &RunEnv) -> Result<bool, String> {
    if !needed {
        return Ok(false);
    }
    match env
        .containers_ready()
        .map_err(|reason| docker::Unavailable::because(&reason))
    {
        Ok(()) => Ok(true),
        Err(docker::Unavailable::Fail(why)) => Err(why),
        Err(docker::Unavailable::Skip(why)) => {
            eprintln!("note: {why}");
            Ok(false)
        }
    }
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
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime"),
    );
    let needed = !args.list && scenarios.iter().any(|s| s.scenario.needs_containers());
    let ready = containers_ready(needed, &env);
    let mut trials: Vec<Trial> = errors
        .into_iter()
        .map(|error| {
            let name = format!("scenario-file::{}", error.location);
            Trial::test(name, move || Err(error.to_string().into()))
        })
        .collect();
    let required = std::env::var("MAILHARNESS_REQUIRE_CONNECTORS").is_ok_and(|v| v == "1");
    // Whether this run is the whole catalogue, so that the page check can wait for it.
    let whole = args.filter.is_none() && args.skip.is_empty() && !args.ignored && !args.list;
    let served = Arc::new(Served::new());
    for (connector_name, connector) in connectors() {
        for loaded in &scenarios {
            let env = env.clone();
            let runtime = runtime.clone();
            let loaded = loaded.clone();
            let id = loaded.id.replace('/', "::");
            let name = if connector_name == "reference" {
                id
            } else {
                format!("{connector_name}::{id}")
            };
            let real = loaded.scenario.needs_containers();
            let trial = match (&connector, &ready, real) {
                (Err(ResolveError::Unavailable { .. }), _, _) if !required => {
                    Trial::test(name, || Ok(())).with_ignored_flag(true)
                }
                (Err(why), _, _) => {
                    let why = why.to_string();
                    Trial::test(name, move || Err(why.into()))
                }
                (_, Err(reason), true) => {
                    let reason = reason.clone();
                    Trial::test(name, move || Err(reason.into()))
                }
                (_, Ok(false), true) => Trial::test(name, || Ok(())).with_ignored_flag(true),
                (Ok(connector), _, _) => {
                    let connector = connector.clone();
                    // Mock runs tell the page check what their servers sent.
                    let served = (whole && !real).then(|| {
                        served.expect_one();
                        served.clone()
                    });
                    Trial::test(name, move || {
                        run(
                            &loaded,
                            connector.as_ref(),
                            &env,
                            &runtime,
                            served.as_deref(),
                        )
                    })
                }
            };
            trials.push(trial);
        }
    }
    trials.push(Trial::test("docs::provider-replies-matching", || {
        provider_replies_served::check_matching().map_err(Failed::from)
    }));
    // Last, so that with one test thread it runs after the runs it waits for.
    if whole {
        trials.push(Trial::test("docs::provider-replies-served", move || {
            let page = std::fs::read_to_string(scenarios_dir().join("../docs/provider-replies.md"))
                .map_err(|e| format!("docs/provider-replies.md: {e}"))?;
            served.check(&page).map_err(Failed::from)
        }));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    runtime.block_on(env.shutdown());
    conclusion.exit();
}
