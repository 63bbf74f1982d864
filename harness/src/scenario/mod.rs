//! Scenario files: what a QA person writes (one TOML file per scenario). What a scenario
//! means for its servers and the connector's settings is `plan`'s to say.
//!
//! ```toml
//! description = "IMAPS server presents an expired certificate"
//! tags = ["tls", "imap"]
//!
//! [imap]
//! server = "mock"            # mock | closed (nothing listens)
//! security = "implicit-tls"  # implicit-tls | starttls | starttls-stripped | plaintext
//! certificate = "expired"
//!
//! [smtp]
//! security = "starttls"
//!
//! [account]
//! password = "correct"       # correct | wrong
//!
//! [expect]
//! class = "unauthorized_untrusted_certificate"
//! step = "imap-connect"
//! detail = "certificate-expired"
//! ```
//!
//! - `load`: reading files and directories, with errors that name path, line and column.
//! - `spans`: where a key sits in a file, for errors found after deserialising.

pub mod load;
pub mod spans;

use std::net::IpAddr;

use mailharness_certs::CertKind;
use mailharness_mock_servers::{
    Faults, Hostile, ImapGreeting, ImapLogin, ImapPersonality, ImapRefusal, ImapReply, Policy,
    Security, SmtpAuth, SmtpGreeting, SmtpPersonality, SmtpRefusal, SmtpReplies, TlsRefusal,
    TlsVersions,
};
use serde::{Deserialize, Serialize};

use crate::connector::ConnectionSecurity;
use crate::outcome::{ErrorClass, Step};

/// One scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scenario {
    /// One sentence: what the servers do.
    pub description: String,
    /// For `--tag` selection.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The connector's per-step timeout for this scenario (default 10 s).
    #[serde(default)]
    pub step_timeout_ms: Option<u64>,
    #[serde(default)]
    pub imap: ImapSection,
    #[serde(default)]
    pub smtp: SmtpSection,
    #[serde(default)]
    pub account: Account,
    /// The account signs in with OAuth 2.0 bearer tokens from a mock authorization server
    /// instead of a password.
    #[serde(default)]
    pub oauth: Option<OAuthSection>,
    pub expect: toml::Spanned<Expect>,
    /// The id of the mock scenario this real-server scenario mirrors (`tls/imap-expired`):
    /// the two must end in the same class and detail.
    #[serde(default)]
    pub twin: Option<toml::Spanned<String>>,
}

/// Which server answers on the IMAP leg.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImapServerKind {
    /// A mock server from `mailharness-mock-servers`.
    #[default]
    Mock,
    /// Nothing listens on the port: connections are refused.
    Closed,
    /// Debian's Dovecot in a container.
    Dovecot,
    /// Debian's Courier-IMAP in a container.
    Courier,
}

/// Which server answers on the SMTP leg.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpServerKind {
    #[default]
    Mock,
    Closed,
    /// Debian's Postfix in a container.
    Postfix,
}

/// The `[imap]` table: the server, and how the connector is told to reach it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImapSection {
    #[serde(default)]
    pub server: ImapServerKind,
    #[serde(default)]
    pub personality: ImapPersonality,
    #[serde(default)]
    pub security: Security,
    #[serde(default = "valid")]
    pub certificate: CertKind,
    #[serde(default)]
    pub tls_versions: TlsVersions,
    /// How the TLS listener refuses a client it shares no version with (`alert` or
    /// `close`); by default as the personality's real server does.
    #[serde(default)]
    pub tls_refusal: Option<TlsRefusal>,
    #[serde(default)]
    pub greeting: ImapGreeting,
    /// The capability list in place of the personality's (only what the mock implements).
    #[serde(default)]
    pub capabilities: Option<String>,
    /// The SASL mechanisms in place of the personality's `AUTH=` list (PLAIN, LOGIN).
    #[serde(default)]
    pub auth_mechanisms: Option<Vec<String>>,
    #[serde(default)]
    pub login: ImapLogin,
    #[serde(default)]
    pub max_connections_per_user: Option<u32>,
    #[serde(default)]
    pub folders: Vec<String>,
    #[serde(default)]
    pub allowlist: Option<Policy<ImapRefusal>>,
    #[serde(default)]
    pub faults: Faults,
    /// Hostile rules: raw bytes, floods and silences instead of or after a reply
    /// (`[[imap.hostile]]`, see `mailharness_mock_servers::hostile`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostile: Vec<Hostile>,
    /// Replies in place of the personality's to given commands, at their n-th use
    /// (`[[imap.reply]]`, see `mailharness_mock_servers::ImapReply`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reply: Vec<ImapReply>,
    /// How the connector connects; by default implicit TLS for an implicit-TLS server and
    /// STARTTLS for any other.
    #[serde(default)]
    pub connector_security: Option<ConnectionSecurity>,
    /// Whether this server knows the account's password or a different one.
    #[serde(default)]
    pub server_password: ServerPassword,
}

/// The `[smtp]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SmtpSection {
    #[serde(default)]
    pub server: SmtpServerKind,
    #[serde(default)]
    pub personality: SmtpPersonality,
    #[serde(default)]
    pub security: Security,
    #[serde(default = "valid")]
    pub certificate: CertKind,
    #[serde(default)]
    pub tls_versions: TlsVersions,
    /// How the TLS listener refuses a client it shares no version with (`alert` or
    /// `close`); by default as the personality's real server does.
    #[serde(default)]
    pub tls_refusal: Option<TlsRefusal>,
    #[serde(default)]
    pub greeting: SmtpGreeting,
    #[serde(default)]
    pub auth: SmtpAuth,
    #[serde(default = "yes")]
    pub require_auth: bool,
    /// Whether the server offers AUTH at all.
    #[serde(default = "yes")]
    pub offer_auth: bool,
    /// Refuse every recipient with `Relay access denied`, even for authenticated clients.
    #[serde(default)]
    pub relay_denied: bool,
    /// Postfix's `message_size_limit` in bytes: the EHLO `SIZE` value, and a larger
    /// message is refused (on real Postfix too).
    #[serde(default)]
    pub message_size_limit: Option<u64>,
    /// Greylisting: every recipient is deferred, as postgrey does a sender it has not seen
    /// (on real Postfix, postgrey itself).
    #[serde(default)]
    pub greylisting: bool,
    #[serde(default)]
    pub replies: SmtpReplies,
    #[serde(default)]
    pub allowlist: Option<Policy<SmtpRefusal>>,
    #[serde(default)]
    pub faults: Faults,
    /// Hostile rules, as `[[imap.hostile]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostile: Vec<Hostile>,
    #[serde(default)]
    pub connector_security: Option<ConnectionSecurity>,
    #[serde(default)]
    pub server_password: ServerPassword,
}

/// The password a server knows, relative to the account's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerPassword {
    /// The account's password.
    #[default]
    Same,
    /// Another one: this server refuses the account's credentials.
    Different,
}

impl ServerPassword {
    /// The password the server is given, from the run's password.
    pub fn apply(self, password: &str) -> String {
        match self {
            ServerPassword::Same => password.to_owned(),
            ServerPassword::Different => format!("other-{password}"),
        }
    }
}

fn valid() -> CertKind {
    CertKind::Valid
}

fn yes() -> bool {
    true
}

impl Default for ImapSection {
    fn default() -> Self {
        toml::from_str("").expect("an empty [imap] table is valid")
    }
}

impl Default for SmtpSection {
    fn default() -> Self {
        toml::from_str("").expect("an empty [smtp] table is valid")
    }
}

/// Which password the connector is given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PasswordChoice {
    /// The one the servers know.
    #[default]
    Correct,
    /// Another one.
    Wrong,
}

/// The `[account]` table: the inbox as the user enters it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Account {
    #[serde(default = "default_email")]
    pub email: String,
    /// A login name that differs from the email; the servers know this name.
    #[serde(default)]
    pub username: Option<String>,
    /// The login name the servers know, when it differs from what the connector sends
    /// (e.g. the server knows `alice` but the user left the username empty).
    #[serde(default)]
    pub server_login: Option<String>,
    #[serde(default)]
    pub password: PasswordChoice,
    #[serde(default)]
    pub allow_insecure_certificate: bool,
    #[serde(default = "default_bcc")]
    pub bcc: String,
    /// The address the connector connects from (127.0.0.0/8 on one machine).
    #[serde(default)]
    pub source_address: Option<IpAddr>,
}

fn default_email() -> String {
    "alice@example.com".into()
}

fn default_bcc() -> String {
    "bcc@crm.example".into()
}

impl Default for Account {
    fn default() -> Self {
        toml::from_str("").expect("an empty [account] table is valid")
    }
}

/// The `[oauth]` table: a mock authorization server runs beside the mail servers, the mail
/// mocks take bearer tokens (XOAUTH2, OAUTHBEARER) it issued for the scope they require, and
/// the connector is given OAuth settings (token endpoint, client, refresh token, scope)
/// instead of a password. Each key says what differs from a working OAuth account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OAuthSection {
    /// How the connector gets tokens: with the refresh token the user granted, or as the
    /// client itself (a service account).
    #[serde(default)]
    pub grant: OAuthGrant,
    /// The scope the mail servers require (both, unless `smtp-scope` says otherwise), and
    /// the connector asks for.
    #[serde(default = "gmail_scope")]
    pub scope: String,
    /// The scope the SMTP server requires when it is another than the IMAP server's
    /// (Office 365: `IMAP.AccessAsUser.All` and `SMTP.Send`); the connector asks for both.
    #[serde(default)]
    pub smtp_scope: Option<String>,
    /// What the connector asks for instead (the authorization server grants it when the
    /// client may have it, see `client-scopes`).
    #[serde(default)]
    pub requested_scope: Option<String>,
    /// Scopes the client may ask for besides `scope`.
    #[serde(default)]
    pub client_scopes: Vec<String>,
    /// The user the tokens are for, when not the account's address.
    #[serde(default)]
    pub token_user: Option<String>,
    /// An access token the connector holds from before: none, a valid one, or an expired
    /// one (the connector must refresh and try again).
    #[serde(default)]
    pub stored_token: StoredToken,
    /// The user revoked the grant: the refresh token gets `invalid_grant`.
    #[serde(default)]
    pub revoked: bool,
    /// The connector is given another client secret than the registered one:
    /// `invalid_client`.
    #[serde(default)]
    pub wrong_client_secret: bool,
    /// How long an access token lives, in seconds.
    #[serde(default = "hour")]
    pub token_lifetime_s: u64,
    /// What the token endpoint does.
    #[serde(default)]
    pub endpoint: TokenEndpoint,
    /// The token endpoint's certificate.
    #[serde(default = "valid")]
    pub certificate: CertKind,
}

fn gmail_scope() -> String {
    "https://mail.google.com/".into()
}

fn hour() -> u64 {
    3600
}

/// How the connector gets its tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OAuthGrant {
    /// With the refresh token the user granted (RFC 6749 §6).
    #[default]
    RefreshToken,
    /// As the client itself, with its id and secret (RFC 6749 §4.4).
    ClientCredentials,
}

/// An access token the connector already holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoredToken {
    #[default]
    None,
    Valid,
    /// Its lifetime is over: the mail servers refuse it.
    Expired,
}

/// What the token endpoint does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenEndpoint {
    /// It answers.
    #[default]
    Ok,
    /// Nothing listens on its port.
    Down,
    /// It answers after the step timeout (and 5 s more).
    Slow,
    /// It answers `503 {"error": "temporarily_unavailable"}`.
    Unavailable,
}

/// The `[expect]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Expect {
    pub class: ErrorClass,
    #[serde(default)]
    pub step: Option<Step>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// As an outcome reads: `unauthorized at imap-login (wrong-credentials)`.
impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::outcome::Outcome {
            class: self.class,
            step: self.step,
            detail: self.detail.clone(),
            response: None,
        }
        .fmt(f)
    }
}

/// The keys of `(is set, key)` pairs that are set.
fn keys_set(pairs: &[(bool, &'static str)]) -> Vec<&'static str> {
    pairs
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, key)| *key)
        .collect()
}

impl ImapSection {
    /// Keys set to something only a mock server can do, when the server is a real one.
    pub fn mock_only_keys(&self) -> Vec<&'static str> {
        if matches!(self.server, ImapServerKind::Mock | ImapServerKind::Closed) {
            return Vec::new();
        }
        keys_set(&[
            (
                self.personality != ImapPersonality::default(),
                "personality",
            ),
            (
                self.security == Security::StarttlsStripped,
                "security = \"starttls-stripped\"",
            ),
            (self.tls_refusal.is_some(), "tls-refusal"),
            (self.greeting != ImapGreeting::default(), "greeting"),
            (self.capabilities.is_some(), "capabilities"),
            (self.auth_mechanisms.is_some(), "auth-mechanisms"),
            // `nologin` is a passdb field real Dovecot has too.
            (
                self.login != ImapLogin::default()
                    && !(self.server == ImapServerKind::Dovecot
                        && matches!(self.login, ImapLogin::Nologin(_))),
                "login",
            ),
            (!self.folders.is_empty(), "folders"),
            (self.allowlist.is_some(), "allowlist"),
            (self.faults != Faults::default(), "faults"),
            (!self.hostile.is_empty(), "hostile"),
            (!self.reply.is_empty(), "reply"),
        ])
    }
}

impl SmtpSection {
    /// Keys set to something only a mock server can do, when the server is a real one.
    pub fn mock_only_keys(&self) -> Vec<&'static str> {
        if matches!(self.server, SmtpServerKind::Mock | SmtpServerKind::Closed) {
            return Vec::new();
        }
        keys_set(&[
            (
                self.personality != SmtpPersonality::default(),
                "personality",
            ),
            (
                self.security == Security::StarttlsStripped,
                "security = \"starttls-stripped\"",
            ),
            (self.tls_refusal.is_some(), "tls-refusal"),
            (
                !matches!(
                    self.greeting,
                    SmtpGreeting::Standard | SmtpGreeting::ClientRejected
                ),
                "greeting",
            ),
            (self.auth != SmtpAuth::default(), "auth"),
            (!self.require_auth, "require-auth = false"),
            (self.replies != SmtpReplies::default(), "replies"),
            (self.allowlist.is_some(), "allowlist"),
            (self.faults != Faults::default(), "faults"),
            (!self.hostile.is_empty(), "hostile"),
        ])
    }
}

impl Scenario {
    /// Whether any leg runs in a container.
    pub fn needs_containers(&self) -> bool {
        matches!(
            self.imap.server,
            ImapServerKind::Dovecot | ImapServerKind::Courier
        ) || self.smtp.server == SmtpServerKind::Postfix
    }

    /// The login the servers know.
    pub fn server_login(&self) -> &str {
        self.account
            .server_login
            .as_deref()
            .or(self.account.username.as_deref())
            .unwrap_or(&self.account.email)
    }

    /// Whether the scenario carries `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}
