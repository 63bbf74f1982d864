//! The seam between a protocol state machine (IMAP or SMTP session) and the connection
//! driver that owns the socket. A session takes bytes and answers with [`Action`]s; it never
//! touches I/O, so the same logic is tested with byte literals and run over TCP or TLS.

use std::net::{IpAddr, SocketAddr};

use crate::config::{Faults, Milestone, Security, TlsRefusal, TlsVersions};
use crate::transcript::TranscriptHandle;
use mailharness_certs::CertKind;

/// What a session asks its driver to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Write these bytes `times` times, or until the client goes away (a hostile server,
    /// see `hostile`); never held in memory as a whole.
    Flood { bytes: Vec<u8>, times: Option<u64> },
    /// Everything before this has been sent: now run the server side of a TLS handshake
    /// and report back with [`Session::tls_started`]. The session reads no input until then.
    StartTls,
    /// Everything before this has been sent: from now on both directions are raw DEFLATE
    /// (COMPRESS=DEFLATE, see `deflate`). The session keeps reading and writing plain text.
    Compress,
    /// Close the connection (after everything before it has been sent).
    Close,
    /// The connection reached a point a fault may be tied to.
    Reached(Milestone),
    /// A login is about to be refused: the driver waits `faults.delay-failed-login-ms`
    /// first.
    LoginRefused,
}

/// A protocol state machine for one connection.
pub(crate) trait Session: Send + 'static {
    /// The connection is ready for the protocol (after an implicit TLS handshake): greet.
    fn start(&mut self);
    /// Bytes from the client.
    fn feed(&mut self, bytes: &[u8]);
    /// The next thing to do; `None` when the session needs more input.
    fn next_action(&mut self) -> Option<Action>;
    /// Bytes fed but not consumed. Called at STARTTLS: whatever the client sent in the clear
    /// behind the command must not be read as if it had come over TLS.
    fn take_unread(&mut self) -> Vec<u8>;
    /// A STARTTLS handshake completed.
    fn tls_started(&mut self);
    /// A receiver that fires when something outside the connection changed what the
    /// session may have to tell the client (new mail in the shared store); the driver then
    /// calls [`Session::refresh`]. `None` for a session that watches nothing.
    fn watch(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
    /// The watched state changed: queue what the client should hear now (an idling IMAP
    /// client's `EXISTS`).
    fn refresh(&mut self) {}
}

/// The listener settings the driver needs, the same for both protocols.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Listener<'a> {
    pub security: Security,
    pub certificate: CertKind,
    pub tls_versions: TlsVersions,
    pub tls_refusal: TlsRefusal,
    pub faults: &'a Faults,
}

/// A protocol a mock server speaks: it makes one [`Session`] per connection.
pub(crate) trait Protocol: Send + Sync + 'static {
    type Session: Session;
    /// `imap` or `smtp`, for logs.
    const NAME: &'static str;
    fn listener(&self) -> Listener<'_>;
    /// Whether a connection from `ip` is dropped before the greeting (allowlist).
    fn refuses_at_connect(&self, ip: IpAddr) -> bool;
    /// A session for a new connection; `tls` tells whether it already runs over TLS.
    fn open(&self, peer: SocketAddr, tls: bool, transcript: TranscriptHandle) -> Self::Session;
}
