//! Admin mode: `mailharness check` against a live IMAP and SMTP server. It tells a mail
//! administrator, before anyone connects an inbox, which error a connector would hit and
//! what to change: fourteen requirements (from the vendor's technical requirements and
//! troubleshooting articles; docs/check.md lists them), each with a verdict, the server's own words,
//! the error class a connector would report and the remedy.
//!
//! - `requirement`: the fourteen requirements, numbered in step order.
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

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use mailharness_mock_servers::TlsVersions;
use tokio::io::AsyncBufReadExt;

use crate::connector::{ConnectionSecurity, Endpoint, Secret};
use crate::detail::Detail;
pub use imap::SESSIONS_WANTED;
pub use report::{CheckReport, Row, Verdict};
pub use requirement::Requirement;
pub use tls::EXPIRY_WARNING_DAYS;

/// One server to check: where it is and how it is secured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub security: ConnectionSecurity,
}

impl Target {
    /// The security a port number implies: 993 and 465 implicit TLS, 143, 587 and 25
    /// STARTTLS; none for other ports.
    pub fn default_security(port: u16) -> Option<ConnectionSecurity> {
        match port {
            993 | 465 => Some(ConnectionSecurity::ImplicitTls),
            143 | 587 | 25 => Some(ConnectionSecurity::Starttls),
            _ => None,
        }
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint {
            host: self.host.clone(),
            port: self.port,
            security: self.security,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let security = match self.security {
            ConnectionSecurity::ImplicitTls => "implicit TLS",
            ConnectionSecurity::Starttls => "STARTTLS",
        };
        write!(f, "{}:{} ({security})", self.host, self.port)
    }
}

/// What to check, as the administrator gave it.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    pub imap: Target,
    pub smtp: Target,
    pub email: String,
    pub username: Option<String>,
    pub password: Secret,
    /// A CA to trust besides (or, without system roots, instead of) the system's.
    pub ca_file: Option<PathBuf>,
    pub system_roots: bool,
    /// Users will tick "allow insecure certificate": certificate problems warn, not fail.
    pub allow_insecure_certificate: bool,
    /// Where the test message goes; none, no message is sent.
    pub send_test_to: Option<String>,
    /// The TLS versions the connector speaks (the vendor's: 1.0–1.2).
    pub connector_tls: TlsVersions,
    /// The longest any one probe or step may take.
    pub step_timeout: Duration,
    /// What a server may send (`--max-line-bytes`, `--max-reply-bytes`).
    pub limits: crate::probe::bounded::Limits,
}

impl CheckConfig {
    /// The name to log in with.
    pub fn login(&self) -> &str {
        self.username.as_deref().unwrap_or(&self.email)
    }
}

/// The TLS versions the vendor's connector supports (its technical requirements: TLS 1.0,
/// 1.1 and 1.2).
pub fn vendor_tls() -> TlsVersions {
    "1.0-1.2".parse().expect("a valid range")
}

/// Runs every requirement against both servers (the two ports at the same time) and
/// reports. Fails only when the CA file cannot be read.
pub async fn run(config: &CheckConfig) -> Result<CheckReport, String> {
    let trust = tls::Trust::new(config.system_roots, config.ca_file.as_deref())?;
    let (imap_rows, smtp_rows) =
        tokio::join!(imap::check(config, &trust), smtp::check(config, &trust));
    let mut rows = imap_rows;
    rows.extend(smtp_rows);
    Ok(CheckReport::new(
        config.imap.to_string(),
        config.smtp.to_string(),
        config.login().to_owned(),
        rows,
    ))
}

/// Requirement 1 or 9: a TCP connection within `limit`, with the evidence line; or the
/// failed row (a connector would report `class`).
async fn reach(
    target: &Target,
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
async fn first_line(target: &Target, limit: Duration) -> Option<String> {
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
