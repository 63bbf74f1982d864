//! From what a connector sees to the class it reports: the one place that maps transport
//! errors and server replies onto [`ErrorClass`](crate::outcome::ErrorClass) and a detail.
//! Pure functions over plain data, so every arm is tested without a socket.
//!
//! - `net`: TCP-level failures (refused, timeout, closed, reset).
//! - `tls`: rustls handshake errors (certificate problems, versions, a peer that is not TLS).
//! - `imap`: greetings, capabilities, ID answers and LOGIN refusals.
//! - `smtp`: AUTH and send refusals.

pub mod imap;
pub mod net;
pub mod smtp;
pub mod tls;
