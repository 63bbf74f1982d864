//! Real servers in containers: Dovecot, Courier-IMAP and Postfix from Debian's packages, one
//! image each (Courier and Dovecot conflict), configured per scenario and started through
//! testcontainers on the host network.
//!
//! - `docker`: is a daemon there, and must it be (`MAILHARNESS_REQUIRE_DOCKER`).
//! - `images`: building the images, tagged by a hash of their build context, on top of a
//!   `debian:bookworm-slim` made locally when no registry can provide it.
//! - `render`: filling the configuration templates of `containers/<server>/`.
//! - `server`: starting, sharing and removing the containers of a run.

/// What can go wrong with the real servers, by what a caller can do about it: without a
/// daemon, real-server scenarios are skipped or fail (`docker::Unavailable`); the other
/// kinds say which part failed, with the details in words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No Docker daemon answers, or `docker` cannot run at all.
    #[error("no Docker daemon is reachable ({0})")]
    NoDaemon(String),
    /// A docker command failed or took too long.
    #[error("{0}")]
    Docker(String),
    /// The build contexts or a configuration template (`containers/`) could not be read or
    /// filled.
    #[error("{0}")]
    Files(String),
    /// An image is missing or could not be built.
    #[error("{0}")]
    Image(String),
    /// A container did not start: no free port, a failed start, the run stopping.
    #[error("{0}")]
    Start(String),
}

pub mod config;
pub mod docker;
pub mod images;
pub mod render;
pub mod server;
