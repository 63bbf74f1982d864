//! `mailharness scenarios export DIR`: the scenario catalogue inside the binary written out,
//! to read, to edit, or to start a catalogue of one's own from.

use std::path::PathBuf;

use anyhow::Context as _;
use mailharness::builtin::{self, Tree};

use super::UsageError;

/// Arguments of `mailharness scenarios`.
#[derive(Debug, clap::Args)]
#[command(
    about = "The built-in scenario catalogue",
    long_about = "The scenario catalogue is inside the binary: `mailharness run` uses it when \
        no path is given and there is no ./scenarios directory, and `builtin`, \
        `builtin:TOPIC` (e.g. builtin:tls) or `builtin:ID` name it, or part of it, beside \
        scenario directories of your own."
)]
pub struct ScenariosArgs {
    #[command(subcommand)]
    command: ScenariosCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ScenariosCommand {
    /// Write the built-in catalogue out under DIR (one directory per topic), for reading or
    /// editing; `mailharness run DIR` then runs the copy. Existing files are never
    /// overwritten: if one is in the way, nothing is written
    #[command(
        after_help = "Exit codes: 0 written, 1 cannot write, 2 a file is in the way.\n\n\
            Example:\n  mailharness scenarios export my-scenarios && mailharness run my-scenarios"
    )]
    Export {
        /// Where to write (made if missing)
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

pub fn run(args: &ScenariosArgs) -> anyhow::Result<u8> {
    match &args.command {
        ScenariosCommand::Export { dir } => {
            let written = match builtin::export(Tree::Scenarios, dir) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(UsageError(e.to_string()).into());
                }
                result => result
                    .with_context(|| format!("cannot write the scenarios to {}", dir.display()))?,
            };
            errln!("{written} scenario files written to {}", dir.display());
            Ok(0)
        }
    }
}
