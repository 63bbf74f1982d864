//! `mailharness presets validate`: checks a domain presets file and reports every problem.

use std::path::PathBuf;

use mailharness::presets;

use super::{EXIT_OK, EXIT_USAGE};

/// Arguments of `mailharness presets`.
#[derive(Debug, clap::Args)]
#[command(about = "Check domain presets: per email domain, IMAP settings or an Exchange URL")]
pub struct PresetsArgs {
    #[command(subcommand)]
    action: PresetsAction,
}

#[derive(Debug, clap::Subcommand)]
enum PresetsAction {
    /// Check a presets file and report every problem with its line and column
    #[command(
        long_about = "Check a presets file and report every problem in it, each with \
        its line and column: an unknown key, a missing one, a duplicate domain, a domain with \
        both IMAP and Exchange settings, a domain or host that is not one, a port outside \
        1–65535, an Exchange URL that is not https:// or http:// with a host. Domains are \
        compared case-insensitively. Exits 0 when the file is valid, 2 otherwise.

The file holds [[imap]] and [[exchange]] tables, one per domain:

  [[imap]]
  domain = \"example.com\"
  imap-host = \"imap.example.com\"
  imap-port = 993
  smtp-host = \"smtp.example.com\"
  smtp-port = 587
  allow-insecure-certificate = false   # optional, default false

  [[exchange]]
  domain = \"corp.example\"
  url = \"https://mail.corp.example/EWS/Exchange.asmx\""
    )]
    Validate {
        /// The presets file (TOML)
        file: PathBuf,
    },
}

pub fn run(args: &PresetsArgs) -> anyhow::Result<u8> {
    match &args.action {
        PresetsAction::Validate { file } => validate(file),
    }
}

/// Prints the tally of a valid file to stdout, or every problem to stderr; the exit code.
fn validate(file: &std::path::Path) -> anyhow::Result<u8> {
    match presets::load(file) {
        Ok(presets) => {
            let (imap, exchange) = (presets.imap.len(), presets.exchange.len());
            let total = imap + exchange;
            outln!(
                "{}: {total} {} ({imap} IMAP, {exchange} Exchange), valid",
                file.display(),
                plural(total, "preset", "presets"),
            )?;
            Ok(EXIT_OK)
        }
        Err(errors) => {
            let count = errors.len();
            for error in errors {
                errln!("{:?}", miette::Report::new(error));
            }
            errln!(
                "{}: {count} {}",
                file.display(),
                plural(count, "problem", "problems")
            );
            Ok(EXIT_USAGE)
        }
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
