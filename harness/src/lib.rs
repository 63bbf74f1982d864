//! mailharness: a compliance test harness for inbox connectors.
//!
//! # Layout
//! - [`outcome`]: the nine error classes, the five steps, what a connector reports.
//! - [`connector`]: the `Connector` trait, the settings it is given, the reference connector.
//! - [`probe`]: the client layer: each exchange with a server (TCP, TLS, IMAP, SMTP), for
//!   the reference connector and `check` alike.
//! - [`classify`]: the one place that maps transport errors and server replies to classes.
//! - [`scenario`]: scenario files, their loading, and their mapping onto server
//!   configurations.
//! - [`plan`]: one mapping from a scenario to its servers and the connector's way to them.
//! - [`runner`]: starting a scenario's servers, running the connector, comparing.
//! - [`partition`]: one shard of a run (`hash:M/N`, `count:M/N`) for several CI machines.
//! - [`report`]: the human and JSON reports of a run.
//! - [`baseline`]: known deviations, so that CI gates a connector on changes.
//! - [`junit`]: the JUnit XML of a run, for CI systems.
//! - [`github`]: GitHub Actions annotations and job summary of a run.
//! - [`html`]: the self-contained HTML pages of a run and of a check.
//! - [`check`]: admin mode, the requirement checks against a live server.
//! - [`file_error`]: a problem in a file a user wrote, with its path, line and column.
//! - [`builtin`]: the catalogue, shipped connectors and build contexts inside the binary.
//! - [`presets`]: per-domain IMAP or Exchange settings (`presets.toml`), read and checked.
//!
//! The `mailharness` binary (`src/main.rs`, `src/cli/`) is the command line over these.

pub mod baseline;
pub mod builtin;
pub mod check;
pub mod classify;
pub mod connector;
pub mod containers;
pub mod detail;
#[cfg(test)]
mod doc_examples;
pub mod file_error;
#[cfg(test)]
mod generated_docs;
pub mod github;
pub mod html;
pub mod junit;
pub mod outcome;
pub mod partition;
pub mod plan;
pub mod presets;
pub mod probe;
pub mod report;
pub mod runner;
pub mod scenario;
