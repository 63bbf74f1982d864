//! `mailharness`, the command line of the compliance test harness for IMAP/SMTP inbox
//! connectors. Everything lives in [`cli`]; this file only hands over.
//!
//! Exit codes: 0 success, 1 failure, 2 usage or input error (bad flags, bad values).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
