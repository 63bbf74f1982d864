//! Admin mode: `mailharness check` against a live IMAP and SMTP server. It tells a mail
//! administrator, before anyone connects an inbox, which error a connector would hit and
//! what to change: one row per requirement (from the vendor's technical requirements and
//! troubleshooting articles; docs/check.md lists them), each with a verdict, the server's own words,
//! the error class a connector would report and the remedy.
//!
//! - `requirement`: the requirements, numbered in step order.
//! - `report`: rows, summary and their renderings.
//! - `tls`: TLS versions and certificates, for either port.
//! - `imap`, `smtp`: the rows of each port.
//! - `remedy`: the advice for each failure.

mod imap;
pub mod remedy;
pub mod report;
pub mod requirement;
mod smtp;
mod tls;

use std::time::Duration;

use mailharness_mock_servers::TlsVersions;
use tokio::io::AsyncBufReadExt;

use crate::connector::{Endpoint, Settings};
use crate::detail::Detail;
pub use imap::SESSIONS_WANTED;
pub use report::{CheckReport, Row, Verdict};
pub use requirement::Requirement;
pub use tls::EXPIRY_WARNING_DAYS;

/// What to check, as the administrator gave it.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// The servers and the account, as a connector is given them. The CA file is trusted
    /// besides (or, without `trust_system_roots`, instead of) the system's roots;
    /// `allow_insecure_certificate` is the box users tick, which turns certificate
    /// failures into warnings; `step_timeout` bounds any one probe or step; `bcc` and
    /// `source_address` are not used.
    pub account: Settings,
    /// Where the test message goes; none, no message is sent.
    pub send_test_to: Option<String>,
    /// The TLS versions the connector speaks (the vendor's: 1.0–1.2).
    pub connector_tls: TlsVersions,
}

/// The TLS versions the vendor's connector supports (its technical requirements: TLS 1.0,
/// 1.1 and 1.2).
pub fn vendor_tls() -> TlsVersions {
    "1.0-1.2".parse().expect("a valid range")
}

/// Why a check could not run at all (a server's failures are rows, never this).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The CA file to trust cannot be read, or holds no certificate: the administrator's
    /// input, a usage error.
    #[error("cannot read CA file {}: {why}", path.display())]
    CaFile {
        path: std::path::PathBuf,
        why: String,
    },
}

/// Runs every requirement against both servers (the two ports at the same time) and
/// reports. Fails only when the CA file cannot be read.
pub async fn run(config: &CheckConfig) -> Result<CheckReport, Error> {
    let trust = tls::Trust::new(
        config.account.trust_system_roots,
        config.account.ca_file.as_deref(),
    )?;
    let (imap_rows, smtp_rows) =
        tokio::join!(imap::check(config, &trust), smtp::check(config, &trust));
    let mut rows = imap_rows;
    rows.extend(smtp_rows);
    Ok(CheckReport::new(
        config.account.imap.to_string(),
        config.account.smtp.to_string(),
        config.account.login().to_owned(),
        rows,
    ))
}

/// Requirement 1 or 9: a TCP connection within `limit`, with the evidence line; or the
/// failed row (a connector would report `class`).
async fn reach(
    target: &Endpoint,
    limit: Duration,
    requirement: Requirement,
    class: crate::outcome::ErrorClass,
) -> Result<(tokio::net::TcpStream, String), Row> {
    let started = std::time::Instant::now();
    let connect = tokio::net::TcpStream::connect((target.host.as_str(), target.port));
    match tokio::time::timeout(limit, connect).await {
        Ok(Ok(tcp)) => {
            let evidence = format!(
                "TCP connection to {}:{} ({}) accepted in {} ms",
                target.host,
                target.port,
                tcp.peer_addr()
                    .map_or_else(|_| "?".into(), |a| a.ip().to_string()),
                started.elapsed().as_millis()
            );
            Ok((tcp, evidence))
        }
        Ok(Err(error)) => Err(Row::fail(
            requirement,
            class,
            crate::classify::net::io_detail(&error),
            format!("TCP connection to {target}: {error}"),
        )),
        Err(_) => Err(Row::fail(
            requirement,
            class,
            Detail::Timeout,
            format!("TCP connection to {target}: no answer within {limit:?}"),
        )),
    }
}

/// The first line a server sends unasked, if it sends one quickly: how an implicit-TLS
/// port that speaks plaintext is recognised.
async fn first_line(target: &Endpoint, limit: Duration) -> Option<String> {
    let wait = limit.min(Duration::from_secs(3));
    let read = async {
        let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
            .await
            .ok()?;
        // One short line is all this looks for: a server that never ends it is cut off.
        let mut reader = tokio::io::BufReader::new(tokio::io::AsyncReadExt::take(tcp, 4096));
        let mut line = String::new();
        reader.read_line(&mut line).await.ok()?;
        let line = line.trim_end().to_owned();
        (!line.is_empty() && line.is_ascii()).then_some(line)
    };
    tokio::time::timeout(wait, read).await.ok().flatten()
}
