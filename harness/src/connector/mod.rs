//! The connector under test: the [`Connector`] trait, the [`Settings`] a user would type
//! into it, and the built-in reference connector.
//!
//! A connector takes the settings, runs the five steps of the specification (IMAP connect,
//! IMAP login, SMTP connect, SMTP login, test send) and reports one [`Outcome`]. Each
//! connector gets its own snapshot set; a new connector is added by implementing this
//! trait.

pub mod external;
pub mod reference;

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outcome::Outcome;

/// How the connector secures a connection, as a user chooses it in the settings form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionSecurity {
    /// TLS from the first byte (993, 465).
    ImplicitTls,
    /// Plaintext, upgraded with STARTTLS before anything else (143, 587).
    Starttls,
}

/// Where one protocol's server is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: ConnectionSecurity,
}

impl Endpoint {
    /// The security a port number implies: 993 and 465 implicit TLS, 143, 587 and 25
    /// STARTTLS; none for other ports.
    pub fn default_security(port: u16) -> Option<ConnectionSecurity> {
        match port {
            993 | 465 => Some(ConnectionSecurity::ImplicitTls),
            143 | 587 | 25 => Some(ConnectionSecurity::Starttls),
            _ => None,
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let security = match self.security {
            ConnectionSecurity::ImplicitTls => "implicit TLS",
            ConnectionSecurity::Starttls => "STARTTLS",
        };
        write!(f, "{}:{} ({security})", self.host, self.port)
    }
}

/// A password: it never prints, in debug output or anywhere else.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The password itself, for the one place that sends it to a server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How a connector signs in with OAuth 2.0 instead of the password: the app an
/// administrator registered (client id and secret), the grant a user gave it (a refresh
/// token), and where to get access tokens.
#[derive(Clone, Debug)]
pub struct OAuthSettings {
    /// The token endpoint (`https://…/token`).
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// The refresh token the user granted; none: the client-credentials grant.
    pub refresh_token: Option<Secret>,
    /// An access token held from before, tried first.
    pub access_token: Option<Secret>,
    /// The scope to ask for.
    pub scope: String,
}

/// Everything a connector is given: the settings of an inbox, as a user enters them, plus
/// what the harness controls (trusted CA, timeout, source address).
#[derive(Clone, Debug)]
pub struct Settings {
    pub imap: Endpoint,
    pub smtp: Endpoint,
    /// The inbox's address: the login name unless `username` is set, and the test
    /// message's sender.
    pub email: String,
    /// A login name that differs from the email address.
    pub username: Option<String>,
    /// The password; unused (empty) when `oauth` is set.
    pub password: Secret,
    /// Sign in with OAuth 2.0 bearer tokens instead of the password.
    pub oauth: Option<OAuthSettings>,
    /// The user ticked "allow insecure certificate": bad certificates pass.
    pub allow_insecure_certificate: bool,
    /// Where the test message goes.
    pub bcc: String,
    /// PEM file of the CA to trust besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Whether the system's roots are trusted too. The harness switches them off, so that
    /// a run depends on its own CA only and not on what a machine has installed (a
    /// snakeoil `CN=localhost` certificate, say).
    pub trust_system_roots: bool,
    /// The longest any one step may take.
    pub step_timeout: Duration,
    /// The local address to connect from (the vendor's egress addresses).
    pub source_address: Option<IpAddr>,
    /// What a server may send the built-in connector (see `probe::bounded`); external
    /// connectors have their own.
    pub limits: crate::probe::bounded::Limits,
}

impl Settings {
    /// The name to log in with.
    pub fn login(&self) -> &str {
        self.username.as_deref().unwrap_or(&self.email)
    }
}

/// A future a connector returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A connector that failed to report an outcome at all (it crashed, hung, printed no JSON
/// or a class that does not exist): a problem of the connector, never one of the nine
/// classes, so never counted as a pass or an ordinary mismatch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectorError {
    /// What went wrong, in one line.
    pub problem: String,
    /// An excerpt of what the connector printed (stdout and stderr), for diagnosis.
    pub excerpt: String,
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connector error: {}", self.problem)?;
        if !self.excerpt.is_empty() {
            write!(f, "\n{}", self.excerpt)?;
        }
        Ok(())
    }
}

/// A connector under test.
pub trait Connector: Send + Sync {
    /// A short stable name, used for snapshot sets and reports (`reference`, …).
    fn name(&self) -> &str;
    /// Runs the five steps against the servers in `settings`. Must come back within five
    /// step timeouts, whatever the servers do.
    fn run<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Outcome, ConnectorError>>;
    /// Whether the connector runs inside the harness's async runtime (its CPU is bounded by
    /// the runtime's worker threads) rather than as a process of its own.
    fn in_process(&self) -> bool {
        false
    }
    /// Whether the connector signs in with OAuth ([`Settings::oauth`]); scenarios of an
    /// OAuth account are skipped for one that does not.
    fn signs_in_with_oauth(&self) -> bool {
        false
    }
}

/// The directories shipped connectors are looked up in, first match winning:
/// `MAILHARNESS_CONNECTORS` alone when it is set; else `./connectors` when there is one (a
/// checkout of this repository, or a user's own connectors), then the copy inside the binary
/// (`crate::builtin`), written out on first use.
pub fn connector_dirs() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("MAILHARNESS_CONNECTORS") {
        return vec![PathBuf::from(dir)];
    }
    let mut dirs = Vec::new();
    let here = PathBuf::from("connectors");
    if here.is_dir() {
        dirs.push(here);
    }
    match crate::builtin::dir(crate::builtin::Tree::Connectors) {
        Ok(dir) => dirs.push(dir),
        Err(why) => tracing::warn!("the built-in connectors are not available: {why}"),
    }
    dirs
}

/// The connectors shipped in `dirs`, by directory name, each once.
pub fn shipped_in(dirs: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = dirs
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten())
        .filter_map(Result::ok)
        .filter(|e| e.path().join("connector.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The shipped connectors, by directory name (see [`connector_dirs`]).
pub fn shipped() -> Vec<String> {
    shipped_in(&connector_dirs())
}

/// Why a connector named on the command line cannot be had. Only `Unavailable` depends on
/// the machine (a missing tool: the tests ignore such a connector unless
/// `MAILHARNESS_REQUIRE_CONNECTORS=1`); the others are mistakes to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "unknown connector `{name}` (expected reference, exec:COMMAND, a directory with a connector.toml, or one of: {known})"
    )]
    Unknown { name: String, known: String },
    /// Its `connector.toml` cannot be read or is not valid.
    #[error("{0}")]
    Manifest(String),
    /// Its `check` command fails here: a tool it needs is missing.
    #[error("connector `{name}` cannot run here: {why}")]
    Unavailable { name: String, why: String },
}

/// A connector by name: `reference`, `exec:COMMAND`, or a shipped connector (see
/// [`connector_dirs`]).
pub fn resolve(name: &str) -> Result<std::sync::Arc<dyn Connector>, ResolveError> {
    resolve_in(name, &connector_dirs())
}

/// A connector by name: `reference`, `exec:COMMAND`, a connector directory in the first
/// of `dirs` that has it, or a path (with a `/`) to a directory with a `connector.toml`.
pub fn resolve_in(
    name: &str,
    dirs: &[PathBuf],
) -> Result<std::sync::Arc<dyn Connector>, ResolveError> {
    if name == "reference" {
        return Ok(std::sync::Arc::new(reference::ReferenceConnector));
    }
    if let Some(line) = name.strip_prefix("exec:") {
        return Ok(std::sync::Arc::new(
            external::ExternalConnector::from_command_line(line),
        ));
    }
    // A path (it has a `/`) is a connector directory of the user's own.
    let found = if name.contains('/') {
        Some(PathBuf::from(name)).filter(|dir| dir.join("connector.toml").is_file())
    } else {
        dirs.iter()
            .map(|dir| dir.join(name))
            .find(|dir| !name.is_empty() && dir.join("connector.toml").is_file())
    };
    let Some(dir) = found else {
        return Err(ResolveError::Unknown {
            name: name.to_owned(),
            known: shipped_in(dirs).join(", "),
        });
    };
    let connector = external::ExternalConnector::from_dir(&dir).map_err(ResolveError::Manifest)?;
    connector
        .available()
        .map_err(|why| ResolveError::Unavailable {
            name: name.to_owned(),
            why,
        })?;
    Ok(std::sync::Arc::new(connector))
}
