//! The mock servers over real sockets: real TCP on 127.0.0.0/8, real TLS handshakes with the
//! generated certificates, and clients (rustls, OpenSSL, raw TCP) that check the bytes.
//! Every read has a timeout, every port is ephemeral, no test depends on another.

/// Clients, the shared certificate matrix and line-reading helpers.
mod support;

/// Source-address allowlists, with clients bound to other 127.0.0.0/8 addresses.
mod allowlist;
/// Configurations as scenario files write them (TOML), and the server handle's life.
mod config;
/// Network faults: stall, delay, reset at each milestone, close mid-handshake.
mod faults;
/// IMAP sessions end to end: STARTTLS, login, LIST, limits, greetings.
mod imap;
/// SMTP sessions end to end: a message delivered, STARTTLS command injection.
mod smtp;
/// Every certificate kind on both protocols; TLS version ranges including legacy 1.0/1.1.
mod tls;
