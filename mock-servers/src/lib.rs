//! Scriptable mock IMAP and SMTP servers for testing inbox connectors.
//!
//! A connector under test meets these servers exactly as it would meet a real one: real
//! sockets, real TLS handshakes with certificates from [`mailharness_certs`], and replies
//! copied byte for byte from Dovecot, Courier-IMAP, Postfix, Gmail and Exchange. What the
//! server does is set by a plain serde struct ([`ImapConfig`], [`SmtpConfig`]), so a
//! scenario file can embed it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mailharness_mock_servers::Error> {
//! use std::sync::Arc;
//! use mailharness_certs::CertMatrix;
//! use mailharness_mock_servers::{ImapConfig, MockServer};
//!
//! let certs = Arc::new(CertMatrix::generate("localhost").unwrap());
//! let server = MockServer::start(ImapConfig::default(), certs, "127.0.0.1:0".parse().unwrap()).await?;
//! println!("IMAPS on {}", server.addr());
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`config`]: what both servers share in their configuration: security mode, TLS
//!   versions, address policy, network faults, users.
//! - [`imap`] and [`smtp`]: each protocol's configuration, its personalities (the real
//!   servers' texts) and its session: the protocol state machine, bytes in and actions out,
//!   with no socket in sight, so it is tested with byte literals.
//! - [`hostile`]: rules that replace a greeting or reply with raw bytes, floods and
//!   silences, for the hostile-server catalogue.
//! - [`oauth`]: the mock OAuth 2.0 authorization server (token and introspection
//!   endpoints over HTTPS) and the tokens it issued, which XOAUTH2 and OAUTHBEARER check.
//! - `sasl`: the PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER exchanges both protocols use.
//! - `lines`: CRLF framing with a length limit.
//! - `session`: the interface between a protocol state machine and the connection driver.
//! - `connection`: drives one session over one socket: TLS (implicit and STARTTLS), faults,
//!   transcript events.
//! - `tls` and `legacy_tls`: the TLS acceptors, rustls for TLS 1.2/1.3 and OpenSSL at
//!   security level 0 for TLS 1.0/1.1.
//! - [`server`]: the [`MockServer`] handle: bind, accept, stop on drop, and what the
//!   server saw ([`Transcript`]s and [`ReceivedMessage`]s).
//! - [`transcript`]: per-connection records with passwords and AUTH payloads redacted.

mod client_hello;
pub mod config;
mod connection;
mod deflate;
pub mod hostile;
pub mod imap;
mod legacy_tls;
mod lines;
pub mod oauth;
#[cfg(test)]
mod personality_docs;
// The sessions' properties: the checks of their tests and of the cargo-fuzz targets (fuzz/).
#[doc(hidden)]
pub mod properties;
mod sasl;
pub mod server;
mod session;
pub mod smtp;
mod stream;
mod tls;
pub mod transcript;

pub use config::{
    Faults, ImapRefusal, Milestone, Policy, Security, SmtpRefusal, TlsRefusal, TlsVersion,
    TlsVersions, User,
};
pub use hostile::{Hostile, HostileAt, RawBytes, Then};
pub use imap::{ImapConfig, ImapGreeting, ImapLogin, ImapPersonality, ImapReply, Mailstore};
pub use server::{MockConfig, MockServer, ReceivedMessage};
pub use smtp::{SmtpAuth, SmtpConfig, SmtpGreeting, SmtpPersonality, SmtpReplies};
pub use transcript::{Direction, Transcript, TranscriptEntry};

/// Errors starting a mock server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("invalid mock server configuration: {0}")]
    Config(String),
}
