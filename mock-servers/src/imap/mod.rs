//! The mock IMAP server: its configuration, the real servers' texts it replays
//! (`personality`), what it needs of a command before imap-codec parses it (`command`), the
//! per-connection state machine (`session`), the accounts' folders and messages
//! (`mailstore`, seeded from `seed`) and the MIME view of a message (`message`).

mod args;
pub mod capability;
mod command;
pub(crate) mod mailstore;
mod message;
pub(crate) mod personality;
mod preview;
mod seed;
mod session;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use mailharness_certs::CertKind;
use serde::{Deserialize, Serialize};

pub use mailstore::Mailstore;
pub use personality::ImapPersonality;
pub(crate) use session::ImapSession;

use crate::config::{Faults, ImapRefusal, Policy, Security, TlsRefusal, TlsVersions, User};
use crate::hostile::Hostile;
use crate::session::{Listener, Protocol};
use crate::transcript::TranscriptHandle;

/// What the server sends when a client connects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImapGreeting {
    /// The personality's own greeting.
    #[default]
    Standard,
    /// Accept the connection (and TLS) and say nothing.
    None,
    /// Bytes that are not IMAP: an SSH banner, as when the port is wrong.
    Garbage,
    /// This line instead (without CRLF), e.g. `"* OK IMAP ready"` to hide the software. Its
    /// status sets the session's state: `* BYE …` closes, `* PREAUTH …` logs the client in.
    Custom(String),
}

/// How the server answers a LOGIN or AUTHENTICATE whose credentials match a user. Wrong
/// credentials always get the personality's wrong-credentials reply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImapLogin {
    /// Log in.
    #[default]
    Ok,
    /// Refuse even the right password, as for a wrong one.
    WrongCredentials,
    /// Gmail's `[ALERT] Application-specific password required` refusal.
    AppPasswordRequired,
    /// `NO [UNAVAILABLE]`: the authentication service is down.
    Unavailable,
    /// Dovecot's `nologin` passdb field with this `reason`: `NO [CONTACTADMIN] <reason>`,
    /// on real Dovecot too. Dovecot's passwd-file ends the reason at its first space, and so
    /// does the mock.
    Nologin(String),
    /// This tagged reply after the tag, e.g. `"NO [ALERT] Your account is not enabled for
    /// IMAP use."`; or an untagged `"* BYE …"`, sent instead of a tagged reply, and the
    /// connection closed.
    Custom(String),
}

/// Configuration of a mock IMAP server. Every field has a default: an IMAPS server that
/// looks like Debian's Dovecot, presents the `valid` certificate and knows one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ImapConfig {
    /// Which real server's texts to replay.
    pub personality: ImapPersonality,
    pub security: Security,
    /// The certificate kind presented in TLS.
    pub certificate: CertKind,
    pub tls_versions: TlsVersions,
    /// How a TLS listener refuses a client it shares no version with; none, as the
    /// personality's real server does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_refusal: Option<TlsRefusal>,
    pub greeting: ImapGreeting,
    /// Capabilities in place of the personality's, before and after login (STARTTLS,
    /// LOGINDISABLED for a cleartext listener and the `AUTH=` list are still added before
    /// login); only what the mock implements (see `capability`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<String>,
    /// SASL mechanisms in place of the personality's `AUTH=` list; AUTHENTICATE accepts
    /// exactly these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_mechanisms: Option<Vec<String>>,
    pub users: Vec<User>,
    pub login: ImapLogin,
    /// Simultaneous authenticated sessions allowed per user and client address (Dovecot's
    /// `mail_max_userip_connections`); the one over the limit is refused at login.
    pub max_connections_per_user: Option<u32>,
    /// Folders besides INBOX and the personality's Sent folder, as LIST shows them.
    pub folders: Vec<String>,
    pub allowlist: Option<Policy<ImapRefusal>>,
    pub faults: Faults,
    /// Hostile rules (see `hostile`): raw bytes instead of or after a reply.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostile: Vec<Hostile>,
    /// Replies in place of the personality's to given commands (`[[imap.reply]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reply: Vec<ImapReply>,
    /// Bearer tokens (XOAUTH2, OAUTHBEARER) are checked against these; without, every
    /// token is refused.
    #[serde(skip)]
    pub bearer: Option<crate::oauth::BearerCheck>,
}

impl Default for ImapConfig {
    fn default() -> Self {
        ImapConfig {
            personality: ImapPersonality::default(),
            security: Security::default(),
            certificate: CertKind::Valid,
            tls_versions: TlsVersions::default(),
            tls_refusal: None,
            greeting: ImapGreeting::default(),
            capabilities: None,
            auth_mechanisms: None,
            users: User::default_users(),
            login: ImapLogin::default(),
            max_connections_per_user: None,
            folders: Vec::new(),
            allowlist: None,
            faults: Faults::default(),
            hostile: Vec::new(),
            reply: Vec::new(),
            bearer: None,
        }
    }
}

/// What all connections of one server count together: authenticated sessions per (login,
/// client address), so the per-user limit holds across them, and the uses of each
/// `[[imap.reply]]` rule's command, so that its `nth` counts over the whole server.
#[derive(Default)]
pub(crate) struct Counts {
    pub(crate) sessions: HashMap<(String, IpAddr), u32>,
    pub(crate) replies: HashMap<usize, u32>,
}

type SessionCounts = Arc<Mutex<Counts>>;

/// A reply in place of the personality's to one command (`[[imap.reply]]`): the failures
/// that come at any command, after a good login too (RFC 5530 codes, a `* BYE`, an OK with
/// extras such as Gmail's `[THROTTLED]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImapReply {
    /// The command answered, by name in any case: `select`, `list`, `login`,
    /// `authenticate`, `uid fetch`.
    pub to: String,
    /// Only its n-th use on this server, counted from 1 over all connections; every use
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u32>,
    /// `NO …` or `BAD …`: the tagged reply, the command not run. `OK …`: the command runs
    /// and its tagged OK, if it succeeded, says this. `* BYE …`: sent untagged instead,
    /// then the connection closes.
    pub reply: String,
    /// Untagged lines sent first, e.g. `* OK [ALERT] …`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<String>,
}

impl ImapReply {
    /// Why the rule cannot be served, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        let words: Vec<&str> = self.to.split_whitespace().collect();
        let known = match words.as_slice() {
            [name] => command::KNOWN.iter().any(|k| k.eq_ignore_ascii_case(name)),
            [uid, name] => {
                uid.eq_ignore_ascii_case("UID")
                    && [
                        "FETCH", "SEARCH", "STORE", "COPY", "MOVE", "EXPUNGE", "SORT", "THREAD",
                    ]
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(name))
            }
            _ => false,
        };
        if !known {
            return Err(format!(
                "`to` is {:?}; expected an IMAP command such as \"select\", \"login\" or \"uid fetch\"",
                self.to
            ));
        }
        if self.nth == Some(0) {
            return Err("`nth` counts from 1".to_owned());
        }
        let status = self.reply.split(' ').next().unwrap_or_default();
        let bye = self.reply.starts_with("* BYE ");
        if !bye && !["OK", "NO", "BAD"].contains(&status) {
            return Err(format!(
                "`reply` is {:?}; expected \"OK …\", \"NO …\", \"BAD …\" or \"* BYE …\"",
                self.reply
            ));
        }
        for line in self.before.iter().chain(std::iter::once(&self.reply)) {
            if line.contains(['\r', '\n']) {
                return Err(format!("{line:?} holds a line break; one line per element"));
            }
        }
        if let Some(line) = self.before.iter().find(|l| !l.starts_with("* ")) {
            return Err(format!("`before` line {line:?} is not untagged (\"* …\")"));
        }
        Ok(())
    }

    /// Whether this rule is for the command `words` (the upper-case first two words after
    /// the tag).
    pub(crate) fn matches(&self, name: &str, second: &str) -> bool {
        let mut rule = self.to.split_whitespace();
        let first = rule.next().unwrap_or_default();
        match rule.next() {
            Some(sub) => first.eq_ignore_ascii_case(name) && sub.eq_ignore_ascii_case(second),
            None => first.eq_ignore_ascii_case(name),
        }
    }
}

impl ImapConfig {
    /// Creates the accounts of this server's users in `store` (those not there yet).
    pub(crate) fn provision(&self, store: &Mailstore) {
        let texts = self.personality.texts();
        store.provision(
            self.users.iter().map(|user| user.login.as_str()),
            &mailstore::Layout {
                sent: texts.sent_folder,
                folders: &self.folders,
            },
        );
    }
}

/// A running IMAP protocol: the configuration plus state shared between connections.
pub(crate) struct ImapService {
    config: Arc<ImapConfig>,
    sessions: SessionCounts,
    store: Mailstore,
}

impl ImapService {
    pub(crate) fn new(config: ImapConfig, store: Mailstore) -> Result<ImapService, crate::Error> {
        for rule in &config.hostile {
            rule.check(crate::hostile::IMAP_COMMANDS)
                .map_err(|e| crate::Error::Config(format!("hostile rule at {}: {e}", rule.at)))?;
        }
        capability::check(&config).map_err(|(_, e)| crate::Error::Config(e))?;
        for rule in &config.reply {
            rule.check()
                .map_err(|e| crate::Error::Config(format!("reply to {}: {e}", rule.to)))?;
        }
        config.provision(&store);
        Ok(ImapService {
            config: Arc::new(config),
            sessions: SessionCounts::default(),
            store,
        })
    }
}

impl Protocol for ImapService {
    type Session = ImapSession;
    const NAME: &'static str = "imap";

    fn listener(&self) -> Listener<'_> {
        Listener {
            security: self.config.security,
            certificate: self.config.certificate,
            tls_versions: self.config.tls_versions,
            tls_refusal: TlsRefusal::effective(
                self.config.tls_refusal,
                self.config.personality.tls_refusal(),
                self.config.tls_versions,
            ),
            faults: &self.config.faults,
        }
    }

    fn refuses_at_connect(&self, ip: IpAddr) -> bool {
        self.config
            .allowlist
            .as_ref()
            .is_some_and(|policy| policy.refuse_at == ImapRefusal::Connect && !policy.allows(ip))
    }

    fn open(&self, peer: SocketAddr, tls: bool, transcript: TranscriptHandle) -> ImapSession {
        ImapSession::new(
            self.config.clone(),
            peer,
            tls,
            self.sessions.clone(),
            transcript,
            self.store.clone(),
        )
    }
}
