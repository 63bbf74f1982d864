//! The client layer: every conversation mailharness has with a server, one exchange per
//! function, for the reference connector (`connector::reference`) and for `mailharness
//! check` alike. A failure is an [`Outcome`]: the class a connector would report, the step,
//! the detail and the server's own words where it said any; where the server said nothing,
//! a [`Failure`] adds what happened.
//!
//! - `net`: TCP from a source address; the class of a failed TLS handshake.
//! - `tls`: the rustls client configuration (roots, insecure mode; TLS 1.2 and 1.3).
//! - `legacy`: OpenSSL handshakes at chosen TLS versions (1.0 to 1.3), after the protocol's
//!   STARTTLS, and telling a legacy-only server from one that drops connections.
//! - `bounded`: the bounds on what a server may send.
//! - `imap`: greeting, CAPABILITY, STARTTLS, LOGIN, ID, LIST, SELECT, LOGOUT (async-imap
//!   frames and parses, the commands are ours).
//! - `smtp`: greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA (lettre).
//! - `bearer`: the XOAUTH2 and OAUTHBEARER payloads and error challenges both protocols
//!   share.
//! - `starttls`: SMTP STARTTLS with our own TLS, taking the socket back from lettre.

use std::fmt;

use crate::outcome::Outcome;

/// A failed exchange: the outcome a connector would report (class, step, detail, and the
/// server's words if it said any), and what happened in our words where the server said
/// nothing (an I/O error, a bound it went past, a handshake that failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub outcome: Outcome,
    pub why: Option<String>,
}

impl Failure {
    /// The same failure, saying why.
    pub fn because(mut self, why: impl fmt::Display) -> Failure {
        self.why = Some(why.to_string());
        self
    }
}

impl From<Outcome> for Failure {
    fn from(outcome: Outcome) -> Failure {
        Failure { outcome, why: None }
    }
}

impl From<Failure> for Outcome {
    fn from(failure: Failure) -> Outcome {
        failure.outcome
    }
}

pub mod bearer;
pub mod bounded;
pub(crate) mod imap;
pub(crate) mod legacy;
pub(crate) mod net;
pub(crate) mod smtp;
mod starttls;
pub(crate) mod tls;
