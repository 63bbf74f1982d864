//! mailharness: a compliance test harness for inbox connectors.
//!
//! # Layout
//! - [`outcome`]: the nine error classes, the five steps, what a connector reports.
//! - [`connector`]: the `Connector` trait, the settings it is given, the reference connector.
//! - [`classify`]: the one place that maps transport errors and server replies to classes.

pub mod classify;
pub mod connector;
pub mod outcome;
pub mod runner;
pub mod scenario;
