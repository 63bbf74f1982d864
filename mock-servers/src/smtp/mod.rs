//! The mock SMTP server: its configuration, the real servers' texts it replays
//! (`personality`), reply parsing (`reply`) and the per-connection state machine
//! (`session`).

pub(crate) mod personality;
mod reply;
mod session;

use crate::imap::Mailstore;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use mailharness_certs::CertKind;
use serde::{Deserialize, Serialize};

pub use personality::SmtpPersonality;
pub use reply::SmtpReply;
pub(crate) use session::SmtpSession;

use crate::Error;
use crate::config::{Faults, Policy, Security, SmtpRefusal, TlsRefusal, TlsVersions, User};
use crate::hostile::Hostile;
use crate::session::{Listener, Protocol};
use crate::transcript::TranscriptHandle;

/// What the server sends when a client connects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpGreeting {
    /// The personality's own `220` greeting.
    #[default]
    Standard,
    /// Accept the connection and say nothing.
    None,
    /// Bytes that are not SMTP: an SSH banner, as when the port is wrong.
    Garbage,
    /// This reply instead, e.g. `"554 5.3.2 Service unavailable"`.
    Custom(SmtpReply),
    /// Postfix refusing the client when it connects (`smtpd_client_restrictions = reject`
    /// with `smtpd_delay_reject = no`): its `554 5.7.1 … Client host rejected` in place of
    /// the greeting, then `503` to every command but QUIT. A real Postfix does it too.
    ClientRejected,
}

/// How the server answers an AUTH whose credentials match a user. Wrong credentials
/// always get the personality's `535` reply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpAuth {
    #[default]
    Ok,
    /// Refuse even the right password, as for a wrong one.
    WrongCredentials,
    /// Gmail's `534-5.7.9 Application-specific password required` refusal.
    AppPasswordRequired,
    /// This reply, e.g. `"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."`.
    Custom(SmtpReply),
}

/// Replies that replace the server's own answer to a command. A positive reply (2xx/3xx)
/// lets the command take effect; a negative one refuses it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SmtpReplies {
    /// The EHLO reply; over TLS too unless `ehlo_tls` is set.
    pub ehlo: Option<SmtpReply>,
    /// The EHLO reply over TLS (after STARTTLS, or on an implicit-TLS port), where it
    /// differs from the one before: real servers offer AUTH only after STARTTLS.
    pub ehlo_tls: Option<SmtpReply>,
    pub starttls: Option<SmtpReply>,
    pub mail: Option<SmtpReply>,
    pub rcpt: Option<SmtpReply>,
    /// The reply to DATA itself (normally `354`).
    pub data: Option<SmtpReply>,
    /// The reply after the message's final dot (normally `250 … queued`).
    pub message: Option<SmtpReply>,
    pub rset: Option<SmtpReply>,
    pub noop: Option<SmtpReply>,
    pub quit: Option<SmtpReply>,
}

/// Configuration of a mock SMTP server. Every field has a default: an SMTPS server that
/// looks like Debian's Postfix, presents the `valid` certificate, knows one user and relays
/// only for authenticated clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SmtpConfig {
    pub personality: SmtpPersonality,
    pub security: Security,
    pub certificate: CertKind,
    pub tls_versions: TlsVersions,
    /// How a TLS listener refuses a client it shares no version with; none, as the
    /// personality's real server does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_refusal: Option<TlsRefusal>,
    pub greeting: SmtpGreeting,
    pub users: Vec<User>,
    pub auth: SmtpAuth,
    /// Refuse recipients (`Relay access denied`) unless the client authenticated.
    pub require_auth: bool,
    /// Advertise and accept AUTH at all (Postfix with `smtpd_sasl_auth_enable = no` does not).
    pub offer_auth: bool,
    /// Refuse every recipient with `Relay access denied`, authenticated or not (a Postfix
    /// whose recipient restrictions do not permit SASL-authenticated clients).
    pub relay_denied: bool,
    /// Postfix's `message_size_limit`: the EHLO `SIZE` value and the largest message
    /// accepted; the default is Postfix's, 10240000 bytes.
    pub message_size_limit: Option<u64>,
    /// Greylisting: every recipient is deferred with Postfix's reply for postgrey's answer
    /// (`personality::GREYLISTED`), as a sender not seen before is.
    pub greylisting: bool,
    pub replies: SmtpReplies,
    pub allowlist: Option<Policy<SmtpRefusal>>,
    pub faults: Faults,
    /// Hostile rules (see `hostile`): raw bytes instead of or after a reply.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostile: Vec<Hostile>,
    /// Bearer tokens (XOAUTH2, OAUTHBEARER) are checked against these; without, every
    /// token is refused.
    #[serde(skip)]
    pub bearer: Option<crate::oauth::BearerCheck>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            personality: SmtpPersonality::default(),
            security: Security::default(),
            certificate: CertKind::Valid,
            tls_versions: TlsVersions::default(),
            tls_refusal: None,
            greeting: SmtpGreeting::default(),
            users: User::default_users(),
            auth: SmtpAuth::default(),
            require_auth: true,
            offer_auth: true,
            relay_denied: false,
            message_size_limit: None,
            greylisting: false,
            replies: SmtpReplies::default(),
            allowlist: None,
            faults: Faults::default(),
            hostile: Vec::new(),
            bearer: None,
        }
    }
}

impl SmtpReplies {
    /// Why these replies cannot be served, if they cannot: an EHLO reply's `AUTH` line may
    /// name only mechanisms the mock implements (PLAIN, LOGIN), since it accepts exactly
    /// what it advertises.
    pub fn check(&self) -> Result<(), String> {
        for (key, reply) in [("ehlo", &self.ehlo), ("ehlo-tls", &self.ehlo_tls)] {
            let Some(reply) = reply else { continue };
            let text = reply.text();
            let auth = text.lines().find(|line| {
                line.get(..5)
                    .is_some_and(|word| word.eq_ignore_ascii_case("AUTH "))
            });
            for mechanism in auth.into_iter().flat_map(|line| line.split(' ').skip(1)) {
                if !mechanism.is_empty()
                    && !crate::imap::capability::MECHANISMS
                        .iter()
                        .any(|known| known.eq_ignore_ascii_case(mechanism))
                {
                    return Err(format!(
                        "`replies.{key}` offers AUTH {mechanism}, which the mock does not implement; expected some of {}",
                        crate::imap::capability::MECHANISMS.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A message the server accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceivedMessage {
    pub peer: SocketAddr,
    /// The login the client authenticated as, if it did.
    pub authenticated_as: Option<String>,
    /// Whether the message came over TLS.
    pub tls: bool,
    /// MAIL FROM address (without angle brackets).
    pub mail_from: String,
    /// RCPT TO addresses, in order.
    pub rcpt_to: Vec<String>,
    /// Header fields in order, unfolded.
    pub headers: Vec<(String, String)>,
    /// The message as received, dot-unstuffed, CRLF line endings, without the final dot.
    pub data: Vec<u8>,
}

impl ReceivedMessage {
    /// The first header field of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A running SMTP protocol: the configuration and the accepted-message store.
pub(crate) struct SmtpService {
    config: Arc<SmtpConfig>,
    messages: Arc<Mutex<Vec<ReceivedMessage>>>,
    /// Where accepted messages for known users are delivered.
    store: Mailstore,
}

impl SmtpService {
    pub(crate) fn new(
        config: SmtpConfig,
        messages: Arc<Mutex<Vec<ReceivedMessage>>>,
        store: Mailstore,
    ) -> Result<SmtpService, Error> {
        // A refusal text is sent as an SMTP reply: refuse a malformed one now, not mid-run.
        if let Some(text) = config
            .allowlist
            .as_ref()
            .and_then(|p| p.refusal_text.as_ref())
        {
            SmtpReply::parse(text)
                .map_err(|e| Error::Config(format!("allowlist refusal-text: {e}")))?;
        }
        config.replies.check().map_err(Error::Config)?;
        for rule in &config.hostile {
            rule.check(crate::hostile::SMTP_COMMANDS)
                .map_err(|e| Error::Config(format!("hostile rule at {}: {e}", rule.at)))?;
        }
        Ok(SmtpService {
            config: Arc::new(config),
            messages,
            store,
        })
    }
}

impl Protocol for SmtpService {
    type Session = SmtpSession;
    const NAME: &'static str = "smtp";

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
            .is_some_and(|policy| policy.refuse_at == SmtpRefusal::Connect && !policy.allows(ip))
    }

    fn open(&self, peer: SocketAddr, tls: bool, transcript: TranscriptHandle) -> SmtpSession {
        SmtpSession::new(
            self.config.clone(),
            peer,
            tls,
            self.messages.clone(),
            transcript,
            self.store.clone(),
        )
    }
}
