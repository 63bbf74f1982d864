//! `mailharness run`: the scenario suite against a connector, with progress, a summary and
//! an exit code CI can gate on.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use mailharness::baseline::Baseline;
use mailharness::connector::Connector;
use mailharness::report::{RunReport, table};
use mailharness::runner::{self, Concurrency, RunEnv, ScenarioResult};
use mailharness::scenario::load::LoadedScenario;

use super::{Format, UsageError, select_scenarios};

/// Arguments of `mailharness run`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Run scenarios against the connector and check every outcome",
    long_about = "Run scenarios against the connector: start the servers each scenario \
        describes (mock servers on ephemeral loopback ports, with real TLS and generated \
        certificates), run the connector's five steps (imap-connect, imap-login, \
        smtp-connect, smtp-login, test-send) and compare the class it reports with the \
        scenario's [expect] table.\n\n\
        Scenario files that do not parse are reported with path, line and column; the \
        others still run.",
    after_help = "Exit codes: 0 every scenario as expected (or as the baseline records), 1 a \
        mismatch, 2 a usage error, a bad scenario file or a bad baseline; 130, 143 or 129 \
        stopped by SIGINT (Ctrl-C), SIGTERM or SIGHUP, after removing the run's containers, \
        connector processes and temporary files."
)]
pub struct RunArgs {
    /// Scenario files or directories (searched for *.toml), or builtin[:TOPIC|:ID] for the
    /// catalogue inside the binary (e.g. builtin:tls) [default: ./scenarios if there is one,
    /// else builtin]
    #[arg(value_name = "PATHS")]
    paths: Vec<PathBuf>,

    /// Run only scenarios carrying this tag (repeatable: any of them)
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,

    /// Keep only shard M of N of the selection, for running over several CI machines:
    /// hash:M/N (by scenario id: a scenario stays in its shard as others are added) or
    /// count:M/N (dealt in turn: even shards). The N shards together are the selection.
    #[arg(long, value_name = "SCHEME:M/N")]
    partition: Option<mailharness::partition::Partition>,

    /// Threads for the harness's own work (servers, the built-in connector): the CPU a run
    /// uses [default: the number of cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,

    /// Scenarios in progress at once, most of them waiting on a socket or a timeout
    /// [default: 32 per job for the built-in connector, 4 per job for an external one,
    /// which is a process of its own]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    in_flight: Option<u16>,

    /// Output format of the report on stdout
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Known deviations (TOML, or JSON for *.json): a scenario listed for the connector
    /// passes when it gives exactly the recorded outcome and fails on any change, better or
    /// worse; the rest are judged by [expect]. A bad file exits 2
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Update the --baseline FILE from this run: each mismatch of the scenarios it ran becomes
    /// a known deviation; entries for other connectors and scenarios are kept
    #[arg(long, requires = "baseline")]
    update_baseline: bool,

    /// Also write JUnit XML to FILE (any --format): a test suite per connector, a test case
    /// per scenario, mismatches as failures, connector errors as errors
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,

    /// Also write an HTML page to FILE (any --format), self-contained (it fetches nothing):
    /// the tally per class, the scenario × connector matrix, each mismatch with its
    /// transcripts (passwords redacted) behind a click, filters by tag and connector
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,

    /// Log what the servers and the connector do (to stderr) and keep every scenario's
    /// server transcripts in the JSON report and the HTML page. Passwords are never shown.
    #[arg(long, short)]
    verbose: bool,

    /// The connector to test: `reference` (built in), a shipped one (python-stdlib, curl,
    /// python-aio: from ./connectors, else the binary's copy), a path to a directory with a
    /// connector.toml, or exec:'COMMAND' (any program speaking the JSON protocol).
    /// Repeatable: each runs the whole selection [default: reference]
    #[arg(long = "connector", value_name = "CONNECTOR")]
    connectors: Vec<String>,

    /// Also run the mock twin of every real-server scenario and print the parity table:
    /// real and mock server must end in the same class and detail (a difference exits 1)
    #[arg(long)]
    parity: bool,

    #[command(flatten)]
    limits: super::LimitArgs,
}

/// The variable a test may set to fix the servers' password, so that it can search the
/// output for it. Normally every run makes up its own.
const PASSWORD_VARIABLE: &str = "MAILHARNESS_PASSWORD";

pub fn run(args: &RunArgs) -> anyhow::Result<u8> {
    if args.verbose {
        init_logging();
    }
    // Read before anything runs: a bad baseline is an input error (exit 2).
    // --update-baseline starts from the file when there is one (and keeps what this run does
    // not cover); a file that is there but bad is not overwritten.
    let baseline = match &args.baseline {
        Some(path) if !args.update_baseline || path.exists() => {
            Some(Baseline::load(path).map_err(|error| {
                errln!("{:?}", miette::Report::new(error.clone()));
                UsageError(format!("bad baseline file {}", error.location))
            })?)
        }
        _ => None,
    };
    let (mut scenarios, errors) = select_scenarios(&args.paths, &args.tags, args.partition)?;
    let mut file_errors: Vec<String> = errors
        .into_iter()
        .map(|error| {
            errln!("{:?}", miette::Report::new(error.clone()));
            error.to_string()
        })
        .collect();
    let mut pairs = Vec::new();
    if args.parity {
        for (real, twin) in twins(&scenarios) {
            match twin {
                Ok(twin) => {
                    pairs.push((real, twin.id.clone()));
                    if !scenarios.iter().any(|s| s.id == twin.id) {
                        scenarios.push(twin);
                    }
                }
                Err(error) => file_errors.push(format!("twin of {real}: {error}")),
            }
        }
    }
    // A shard may be empty when there are fewer scenarios than shards; the rest may not.
    if scenarios.is_empty() && file_errors.is_empty() && args.partition.is_none() {
        return Err(UsageError("no scenario matches (check PATHS and --tag)".into()).into());
    }
    let names = if args.connectors.is_empty() {
        vec!["reference".to_owned()]
    } else {
        args.connectors.clone()
    };
    let mut connectors: Vec<Arc<dyn Connector>> = Vec::new();
    for name in &names {
        connectors
            .push(mailharness::connector::resolve(name).map_err(|e| UsageError(e.to_string()))?);
    }
    let concurrency = |connector: &dyn Connector| {
        Concurrency::new(
            args.jobs.map(usize::from),
            args.in_flight.map(usize::from),
            connector.in_process(),
        )
    };
    let runtime = concurrency(connectors[0].as_ref())
        .runtime()
        .context("cannot start the async runtime")?;
    // Caught before the run makes anything to clean up (its temporary directory first).
    let mut signals = StopSignals::catch(&runtime).context("cannot catch signals")?;
    let leftovers = mailharness::containers::server::remove_leftovers_in_background();
    let mut env = RunEnv::new(std::env::var(PASSWORD_VARIABLE).ok())
        .map_err(|e| anyhow::anyhow!("cannot make certificates: {e}"))?;
    env.limits = args.limits.limits();
    let env = Arc::new(env);
    let work = async {
        let mut reports = Vec::new();
        for connector in &connectors {
            let started = Instant::now();
            let mut progress = Progress::new(args.format);
            if connectors.len() > 1 {
                progress.announce(connector.name());
            }
            let results = runner::run_all(
                scenarios.clone(),
                connector.clone(),
                env.clone(),
                concurrency(connector.as_ref()).in_flight,
                args.verbose,
                |result, done, total| progress.show(result, done, total),
            )
            .await;
            progress.finish();
            let mut report = RunReport::new(
                connector.name(),
                results,
                file_errors.clone(),
                started.elapsed().as_millis(),
            );
            if let (Some(baseline), false) = (&baseline, args.update_baseline) {
                baseline.apply(&mut report);
            }
            reports.push(report);
        }
        reports
    };
    let finished = runtime.block_on(async {
        tokio::select! {
            biased;
            stop = signals.next() => Err(stop),
            reports = work => Ok(reports),
        }
    });
    let mut reports = match finished {
        Ok(reports) => reports,
        Err(stop) => return Ok(stopped(stop, runtime, &env, leftovers)),
    };
    runtime.block_on(env.shutdown());
    let _ = leftovers.join();
    if let (Some(path), true) = (&args.baseline, args.update_baseline) {
        let recorded = baseline.unwrap_or_default().updated(&reports);
        std::fs::write(path, recorded.to_text(path))
            .with_context(|| format!("cannot write the baseline {}", path.display()))?;
        errln!(
            "baseline: {} known deviations written to {}",
            recorded.known.len(),
            path.display()
        );
        for report in &mut reports {
            recorded.apply(report);
        }
    }
    let parities: Vec<Parity> = reports.iter().map(|r| parity_table(r, &pairs)).collect();
    let differences: usize = parities.iter().map(|p| p.differences).sum();
    let text = match args.format {
        Format::Json if reports.len() == 1 => reports[0].to_json() + "\n",
        Format::Json => serde_json::to_string_pretty(&reports).expect("reports serialise") + "\n",
        Format::Matrix => mailharness::report::matrix(&reports),
        Format::Human => {
            let colour = colour_wanted(std::io::stdout().is_terminal());
            let mut text = String::new();
            for (report, parity) in reports.iter().zip(&parities) {
                text.push_str(&report.to_human(colour));
                if !pairs.is_empty() {
                    text.push_str(&parity.text);
                }
            }
            text
        }
    };
    if mailharness::github::active() {
        github(&reports, &scenarios)?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, mailharness::junit::render(&reports))
            .with_context(|| format!("cannot write the JUnit report to {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, mailharness::html::run_page(&reports))
            .with_context(|| format!("cannot write the HTML report to {}", path.display()))?;
    }
    out!("{text}").context("cannot write the report")?;
    let worst = reports.iter().map(RunReport::exit_code).max().unwrap_or(0);
    Ok(worst.max(u8::from(differences > 0)))
}

/// Ends a run that `stop` interrupted: its scenarios are dropped already (no new one
/// starts); kills the connectors still running, removes the containers (those still
/// starting too) and the temporary directory, and gives the exit code a shell gives a
/// process the signal killed. Nothing here relies on destructors after an exit.
fn stopped(
    stop: Stop,
    runtime: tokio::runtime::Runtime,
    env: &RunEnv,
    leftovers: std::thread::JoinHandle<usize>,
) -> u8 {
    // Not eprintln!: after SIGHUP the terminal may be gone, and a failed write must not
    // panic before the cleanup.
    let _ = writeln!(
        std::io::stderr(),
        "\nstopped by {}: removing the run's connectors, containers and temporary files",
        stop.name()
    );
    mailharness::connector::external::stop_all();
    runtime.block_on(env.shutdown());
    // The dropped scenarios' tasks go now; a blocking task (an image build) is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let _ = leftovers.join();
    stop.exit_code()
}

/// A signal that stops a run (or `serve`): SIGINT (Ctrl-C), SIGTERM (what CI runners send
/// on cancel) or SIGHUP (the terminal closed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stop {
    Interrupt,
    Terminate,
    Hangup,
}

impl Stop {
    /// 128 + the signal's number, as a shell reports a process that signal killed.
    pub(super) fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 130,
            Stop::Terminate => 143,
            Stop::Hangup => 129,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
            Stop::Hangup => "SIGHUP",
        }
    }
}

/// The three stopping signals, caught: from [`StopSignals::catch`] on they no longer end
/// the process; the run ends itself when it sees one.
pub(super) struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl StopSignals {
    pub(super) fn catch(runtime: &tokio::runtime::Runtime) -> std::io::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        let _inside = runtime.enter();
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// The next of them to arrive (one that came before this call counts).
    pub(super) async fn next(&mut self) -> Stop {
        tokio::select! {
            _ = self.interrupt.recv() => Stop::Interrupt,
            _ = self.terminate.recv() => Stop::Terminate,
            _ = self.hangup.recv() => Stop::Hangup,
        }
    }
}

/// On GitHub Actions: annotations for the first mismatches (on stderr, so that stdout
/// holds only the report) and the human summary appended to the job's summary page.
fn github(reports: &[RunReport], scenarios: &[LoadedScenario]) -> anyhow::Result<()> {
    let files = scenarios
        .iter()
        .map(|s| (s.id.clone(), s.path.clone()))
        .collect();
    let _ =
        std::io::stderr().write_all(mailharness::github::annotations(reports, &files).as_bytes());
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        let human: String = reports.iter().map(|r| r.to_human(false)).collect();
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| {
                file.write_all(mailharness::github::step_summary(&human).as_bytes())
            })
            .with_context(|| {
                format!("cannot append to GITHUB_STEP_SUMMARY ({})", path.display())
            })?;
    }
    Ok(())
}

/// Each real-server scenario with a twin, and the twin loaded from the same root.
fn twins(scenarios: &[LoadedScenario]) -> Vec<(String, Result<LoadedScenario, String>)> {
    scenarios
        .iter()
        .filter_map(|s| Some((s.id.clone(), s.load_twin()?.map_err(|e| e.to_string()))))
        .collect()
}

struct Parity {
    text: String,
    differences: usize,
}

/// The parity table: real scenario, twin, both outcomes (class and detail), same or not.
fn parity_table(report: &RunReport, pairs: &[(String, String)]) -> Parity {
    let outcome = |id: &str| {
        report
            .scenarios
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.outcome.as_ref())
    };
    let show = |o: Option<&mailharness::outcome::Outcome>| match o {
        Some(outcome) => match &outcome.detail {
            Some(detail) => format!("{} ({detail})", outcome.class),
            None => outcome.class.to_string(),
        },
        None => "did not run".into(),
    };
    let mut differences = 0;
    let rows: Vec<[String; 4]> = pairs
        .iter()
        .map(|(real, twin)| {
            let (a, b) = (outcome(real), outcome(twin));
            let same = matches!((a, b), (Some(a), Some(b)) if mailharness::runner::parity(a, b));
            if !same && a.is_some() {
                differences += 1;
            }
            [
                real.clone(),
                show(a),
                show(b),
                if same { "same" } else { "DIFFERENT" }.into(),
            ]
        })
        .collect();
    let same = rows.iter().filter(|r| r[3] == "same").count();
    let text = format!(
        "\nParity of real servers and their mock twins\n{}{} pairs, {same} the same, {differences} different\n",
        table(
            &["real-server scenario", "real server", "mock twin", "parity"],
            &rows
        ),
        rows.len()
    );
    Parity { text, differences }
}

/// Colours only on a terminal, and never with NO_COLOR set.
pub fn colour_wanted(terminal: bool) -> bool {
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("debug"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour_wanted(std::io::stderr().is_terminal()))
        .try_init();
}

/// Progress on stderr: one rewritten line on a terminal, a line per scenario otherwise.
struct Progress {
    terminal: bool,
    quiet: bool,
}

impl Progress {
    fn new(format: Format) -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            // JSON goes to programs; they get no progress chatter unless stderr is a terminal.
            quiet: format == Format::Json && !std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, result: &ScenarioResult, done: usize, total: usize) {
        if self.quiet {
            return;
        }
        let mut stderr = std::io::stderr().lock();
        let verdict = if result.passed {
            "ok  "
        } else if result.skipped.is_some() {
            "skip"
        } else {
            "FAIL"
        };
        // Each line is formatted first and written in one go: stderr is unbuffered.
        let line = if self.terminal {
            let mut line = format!("\r\x1b[2K[{done:>3}/{total}] {verdict} {}", result.id);
            if !result.passed {
                line.push_str(&format!(
                    "  {}\n",
                    result.mismatch.as_deref().unwrap_or_default()
                ));
            }
            line
        } else {
            format!(
                "[{done:>3}/{total}] {verdict} {} ({} ms){}\n",
                result.id,
                result.duration_ms,
                result
                    .mismatch
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )
        };
        let _ = stderr.write_all(line.as_bytes());
    }

    /// Says which connector the following lines are about.
    fn announce(&self, connector: &str) {
        if !self.quiet {
            errln!("connector {connector}:");
        }
    }

    fn finish(&self) {
        if self.terminal && !self.quiet {
            errln!();
        }
    }
}
