//! Real servers in containers: Dovecot, Courier-IMAP and Postfix from Debian's packages, one
//! image each (Courier and Dovecot conflict), configured per scenario and started through
//! testcontainers on the host network.
//!
//! - `docker`: is a daemon there, and must it be (`MAILHARNESS_REQUIRE_DOCKER`).
//! - `images`: building the images, tagged by a hash of their build context, on top of a
//!   `debian:bookworm-slim` made locally when no registry can provide it.
//! - `render`: filling the configuration templates of `containers/<server>/`.
//! - `server`: starting, sharing and removing the containers of a run.

pub mod config;
pub mod docker;
pub mod images;
pub mod render;
pub mod server;
