//! What the test binaries share, once: `check` (a scenario's servers and a `CheckConfig`
//! for them), `no_secret` (no password in any output), `tools` (the machine's tools and
//! Docker, and the rule for a test that needs what is missing).
#![allow(dead_code)]

pub mod check;
pub mod no_secret;
pub mod tools;
