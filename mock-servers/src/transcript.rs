//! What happened on each connection, for tests and for people reading a failed run.
//!
//! Sessions record client lines after redaction: a LOGIN password, an AUTH PLAIN/LOGIN
//! payload and every SASL response line are replaced by [`REDACTED`] before they are stored,
//! so no transcript ever holds a password, in clear or in base64.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// What replaces a secret in a transcript.
pub const REDACTED: &str = "<redacted>";

/// Who a transcript line is from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Sent by the client (`C:`).
    Client,
    /// Sent by the server (`S:`).
    Server,
    /// Something that is not a line of the protocol: TLS established, a fault, a close (`*:`).
    Event,
}

/// One line of a transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TranscriptEntry {
    pub direction: Direction,
    pub text: String,
}

/// Everything one connection saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transcript {
    /// The client's address.
    pub peer: SocketAddr,
    pub entries: Vec<TranscriptEntry>,
}

impl Transcript {
    /// Whether any line contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.entries.iter().any(|entry| entry.text.contains(needle))
    }

    /// The lines one side sent.
    pub fn lines(&self, direction: Direction) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(move |entry| entry.direction == direction)
            .map(|entry| entry.text.as_str())
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "connection from {}", self.peer)?;
        for entry in &self.entries {
            let prefix = match entry.direction {
                Direction::Client => "C",
                Direction::Server => "S",
                Direction::Event => "*",
            };
            writeln!(f, "{prefix}: {}", entry.text)?;
        }
        Ok(())
    }
}

/// A shared, growing transcript: the session writes protocol lines, the connection driver
/// writes events, and the server handle reads it while the connection still runs.
#[derive(Clone, Debug)]
pub(crate) struct TranscriptHandle(Arc<Mutex<Transcript>>);

impl TranscriptHandle {
    pub(crate) fn new(peer: SocketAddr) -> TranscriptHandle {
        TranscriptHandle(Arc::new(Mutex::new(Transcript {
            peer,
            entries: Vec::new(),
        })))
    }

    fn push(&self, direction: Direction, text: String) {
        self.0
            .lock()
            .expect("transcript lock")
            .entries
            .push(TranscriptEntry { direction, text });
    }

    /// A client line, already redacted by the caller.
    pub(crate) fn client(&self, line: impl AsRef<[u8]>) {
        self.push(
            Direction::Client,
            String::from_utf8_lossy(line.as_ref()).into_owned(),
        );
    }

    /// Bytes the server sent, one entry per line.
    pub(crate) fn server(&self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        for line in text.split_terminator('\n') {
            self.push(Direction::Server, line.trim_end_matches('\r').to_owned());
        }
    }

    pub(crate) fn event(&self, text: impl Into<String>) {
        self.push(Direction::Event, text.into());
    }

    pub(crate) fn snapshot(&self) -> Transcript {
        self.0.lock().expect("transcript lock").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_lines_by_direction_and_prints_them() {
        let handle = TranscriptHandle::new("127.0.0.1:4000".parse().unwrap());
        handle.server(b"* OK ready\r\n* BYE\r\n");
        handle.client(b"a LOGOUT");
        handle.event("closed");
        let transcript = handle.snapshot();
        assert_eq!(
            transcript.lines(Direction::Server).collect::<Vec<_>>(),
            ["* OK ready", "* BYE"]
        );
        assert_eq!(
            transcript.to_string(),
            "connection from 127.0.0.1:4000\nS: * OK ready\nS: * BYE\nC: a LOGOUT\n*: closed\n"
        );
    }
}
