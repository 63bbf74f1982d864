//! The integration tests that need nothing but the binary and the library: the CLI's
//! commands (`certs`, `check` on mock servers, `presets`), a closed pipe, floods from a
//! connector and from a server, every `check` row on mock servers, the property tests, and
//! the figures the docs state. One binary (libtest's harness); what needs Docker, python3,
//! curl or chromium is in `tests/tools/`, the scenario catalogue in `tests/catalogue.rs`.

#[path = "../support/mod.rs"]
mod support;

mod certs_cli;
mod check_cli;
mod check_mocks;
mod closed_pipe;
mod connector_flood;
mod docs;
mod oauth_cli;
mod presets_cli;
mod properties;
mod server_flood;
