//! The command line: the clap types, the dispatch to one module per subcommand, and the
//! mapping from errors to exit codes.
//!
//! Layout:
//! - `run`: `mailharness run`, the scenario suite against the connector.
//! - `list`: `mailharness list`, the scenarios and what they expect.
//! - `serve`: `mailharness serve`, one scenario's servers kept up for manual poking.
//! - `output`: stdout and stderr, quiet when the reader went away.
//! - `certs`: `mailharness certs`, writes the certificate matrix.
//! - `images`: `mailharness images build`, the real servers' container images.
//! - `check`: `mailharness check`, the requirements against a live server (admin mode).
//! - `presets`: `mailharness presets validate`, checks a domain presets file.
//! - `scenarios`: `mailharness scenarios export`, the built-in catalogue written out.

#[macro_use]
mod output;

mod certs;
mod check;
mod images;
mod list;
mod presets;
mod run;
mod scenarios;
mod serve;

use std::path::{Path, PathBuf};

use mailharness::builtin;
use mailharness::partition::Partition;
use mailharness::probe::bounded::Limits;
use mailharness::scenario::load::{LoadedScenario, ScenarioError, load_all_rooted, with_root};

use std::fmt;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The bounds on what a server may send the built-in connector and `check`, shared by
/// `run` and `check` (see `mailharness::probe::bounded`).
#[derive(clap::Args, Debug, Clone)]
pub struct LimitArgs {
    /// The longest line a server may send the built-in connector; a longer one ends the
    /// step as reply-too-long
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().line_bytes as u64,
          value_parser = clap::value_parser!(u64).range(512..=1 << 30))]
    max_line_bytes: u64,

    /// The most a server may send the built-in connector between two of its commands
    /// (one reply, however many lines); more ends the step as reply-too-long
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().reply_bytes as u64,
          value_parser = clap::value_parser!(u64).range(4096..=1 << 32))]
    max_reply_bytes: u64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            line_bytes: self.max_line_bytes as usize,
            reply_bytes: self.max_reply_bytes as usize,
        }
    }
}

/// Exit code for success.
const EXIT_OK: u8 = 0;
/// Exit code for a failure while doing what was asked (I/O, generation, …).
const EXIT_FAILURE: u8 = 1;
/// Exit code for a usage or input error. clap uses the same code for its own usage errors.
const EXIT_USAGE: u8 = 2;

/// The top-level command line.
#[derive(Debug, Parser)]
#[command(
    name = "mailharness",
    version,
    about = "Compliance test harness for IMAP/SMTP inbox connectors",
    long_about = "Compliance test harness for IMAP/SMTP inbox connectors: mock and real \
        IMAP/SMTP servers with generated certificates, against which a connector's \
        behaviour is checked.",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage or input error."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands; each one's arguments and code live in its own module.
#[derive(Debug, Subcommand)]
enum Command {
    Run(run::RunArgs),
    List(list::ListArgs),
    Serve(serve::ServeArgs),
    Certs(certs::CertsArgs),
    Images(images::ImagesArgs),
    Check(check::CheckArgs),
    Presets(presets::PresetsArgs),
    Scenarios(scenarios::ScenariosArgs),
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A summary table for people
    Human,
    /// One JSON document for programs (an array of reports with several connectors)
    Json,
    /// Scenario x connector as a Markdown table, mismatches against [expect] marked
    Matrix,
}

/// The directory `run`, `list` and friends read when no path is given; without it, the
/// catalogue inside the binary.
const DEFAULT_SCENARIOS: &str = "scenarios";

/// Loads the scenarios under `paths` that carry any of `tags` (all when none is given), and
/// the errors of files that do not load. No path means `./scenarios` when there is one, else
/// the built-in catalogue; `builtin` and `builtin:TOPIC` name (parts of) the built-in one.
pub fn select_scenarios(
    paths: &[PathBuf],
    tags: &[String],
    partition: Option<Partition>,
) -> anyhow::Result<(Vec<LoadedScenario>, Vec<ScenarioError>)> {
    let defaults;
    let paths = if paths.is_empty() {
        defaults = [PathBuf::from(if Path::new(DEFAULT_SCENARIOS).is_dir() {
            DEFAULT_SCENARIOS
        } else {
            builtin::PREFIX
        })];
        &defaults[..]
    } else {
        paths
    };
    let mut rooted = Vec::new();
    for path in paths {
        rooted.push(match builtin::scenario_path(path) {
            Some(found) => found.map_err(UsageError)?,
            None => with_root(path),
        });
    }
    let (mut scenarios, errors) = load_all_rooted(&rooted);
    if !tags.is_empty() {
        scenarios.retain(|loaded| tags.iter().any(|tag| loaded.scenario.has_tag(tag)));
    }
    if let Some(partition) = partition {
        scenarios = partition.apply(scenarios, |loaded| loaded.id.as_str());
    }
    Ok((scenarios, errors))
}

/// An error in what the user asked for, found after clap accepted the arguments (e.g. an
/// output path that is a file). Returned inside `anyhow::Error`; `main` exits 2 for it.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Parses the command line, runs the subcommand and turns the outcome into an exit code.
/// clap exits by itself for `--help`, `--version` (0) and usage errors (2).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            report(&error);
            if error.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

/// Runs the subcommand; `Ok` carries the exit code of a command that ran to its end.
fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::List(args) => list::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Certs(args) => certs::run(&args).map(|()| EXIT_OK),
        Command::Images(args) => images::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Presets(args) => presets::run(&args),
        Command::Scenarios(args) => scenarios::run(&args),
    }
}

/// Prints `error: …` and each cause on its own line to stderr.
fn report(error: &anyhow::Error) {
    errln!("error: {error}");
    for cause in error.chain().skip(1) {
        errln!("  caused by: {cause}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
