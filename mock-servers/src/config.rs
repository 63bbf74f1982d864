//! Configuration shared by the IMAP and SMTP mock servers.
//!
//! Everything here deserialises from the kebab-case TOML that scenario files use, with
//! unknown keys refused, so a typo in a scenario is an error and never a silent default.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a TLS listener answers a ClientHello that offers no version it speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsRefusal {
    /// A protocol-version alert, then the close: what OpenSSL and rustls do on their own,
    /// and what Postfix and the big providers send.
    Alert,
    /// The connection closed without a word once the ClientHello is read: what real
    /// Dovecot does when it speaks only TLS 1.0/1.1 and a client offers only 1.2/1.3 (see
    /// `client_hello`).
    Close,
    /// What real Courier-IMAP (GnuTLS) does: a ServerHello at the listener's own highest
    /// version when the client offers a suite usable there, which the client then refuses
    /// itself (`openssl s_client -min_protocol TLSv1.2` against it reads a 92-byte TLS 1.0
    /// ServerHello and answers with a protocol-version alert); a bare close_notify and the
    /// close when it offers none (Python's and rustls's AEAD-only suites).
    LegacyHello,
}

impl TlsRefusal {
    /// What a listener does: `explicit` when the configuration says, else the real
    /// server's way (`personality`) where the real servers were seen refusing, on a
    /// legacy-only range; an alert otherwise (what the TLS libraries do).
    pub fn effective(
        explicit: Option<TlsRefusal>,
        personality: TlsRefusal,
        versions: TlsVersions,
    ) -> TlsRefusal {
        explicit.unwrap_or(if versions.max < TlsVersion::Tls12 {
            personality
        } else {
            TlsRefusal::Alert
        })
    }
}

/// How a listener protects its traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    #[default]
    ImplicitTls,
    /// Plaintext with STARTTLS advertised; login is refused until TLS is up (143, 587).
    Starttls,
    /// A TLS-requiring server behind a middlebox that strips STARTTLS: the capability is
    /// not advertised and the command is refused, while login stays refused without TLS.
    StarttlsStripped,
    /// No TLS at all; login is accepted in the clear.
    Plaintext,
}

impl Security {
    /// Whether the server upgrades to TLS on a STARTTLS command.
    pub(crate) fn offers_starttls(self) -> bool {
        self == Security::Starttls
    }

    /// Whether the server refuses to authenticate a client that is not on TLS.
    pub(crate) fn requires_tls_for_login(self) -> bool {
        matches!(self, Security::Starttls | Security::StarttlsStripped)
    }
}

/// A TLS protocol version a listener can speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// `1.0`, `1.1`, `1.2` or `1.3`.
    pub fn number(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "1.0",
            TlsVersion::Tls11 => "1.1",
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLSv{}", self.number())
    }
}

impl FromStr for TlsVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().trim_start_matches("TLSv") {
            "1.0" => Ok(TlsVersion::Tls10),
            "1.1" => Ok(TlsVersion::Tls11),
            "1.2" => Ok(TlsVersion::Tls12),
            "1.3" => Ok(TlsVersion::Tls13),
            other => Err(format!(
                "unknown TLS version `{other}` (expected 1.0, 1.1, 1.2 or 1.3)"
            )),
        }
    }
}

/// The range of TLS versions a listener accepts, written `"1.2"` (one version) or
/// `"1.0-1.2"` (a range). The default, `1.2-1.3`, is what a current server offers. Ranges
/// reaching below 1.2 are served by OpenSSL at security level 0, the rest by rustls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TlsVersions {
    pub min: TlsVersion,
    pub max: TlsVersion,
}

impl TlsVersions {
    /// Exactly one version.
    pub fn only(version: TlsVersion) -> TlsVersions {
        TlsVersions {
            min: version,
            max: version,
        }
    }

    /// Whether the range reaches below TLS 1.2: rustls cannot serve it (it speaks 1.2 and
    /// 1.3 only), and OpenSSL needs security level 0 for it.
    pub fn needs_legacy_backend(self) -> bool {
        self.min < TlsVersion::Tls12
    }
}

impl Default for TlsVersions {
    fn default() -> Self {
        TlsVersions {
            min: TlsVersion::Tls12,
            max: TlsVersion::Tls13,
        }
    }
}

impl fmt::Display for TlsVersions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            f.write_str(self.min.number())
        } else {
            write!(f, "{}-{}", self.min.number(), self.max.number())
        }
    }
}

impl FromStr for TlsVersions {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (min, max) = match s.split_once('-') {
            Some((min, max)) => (min.parse()?, max.parse()?),
            None => {
                let only = s.parse()?;
                (only, only)
            }
        };
        if min > max {
            return Err(format!("TLS version range `{s}` runs backwards"));
        }
        Ok(TlsVersions { min, max })
    }
}

impl Serialize for TlsVersions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TlsVersions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A mailbox user: the login name (which may differ from the email address, for the
/// connector's "custom username") and the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub login: String,
    pub password: String,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Passwords never reach logs, not even through a debug print of a configuration.
        f.debug_struct("User")
            .field("login", &self.login)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl User {
    /// The user every default configuration knows.
    pub fn default_users() -> Vec<User> {
        vec![User {
            login: "alice@example.com".into(),
            password: "correct horse battery staple".into(),
        }]
    }
}

/// The egress-address allowlist of the vendor's documentation: only `sources` may use the
/// server; a stranger is refused at `refuse-at`. Sources across 127.0.0.0/8 let one machine
/// play several egress addresses. `R` is the protocol's set of refusal points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy<R> {
    /// Allowed source networks, e.g. `["127.0.0.2/32", "127.0.1.0/24"]`.
    pub sources: Vec<IpNet>,
    /// Where a source outside the list is refused.
    pub refuse_at: R,
    /// The refusal text, replacing the server's usual one.
    #[serde(default)]
    pub refusal_text: Option<String>,
}

impl<R> Policy<R> {
    /// Whether a connection from `ip` is on the list.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        self.sources.iter().any(|net| net.contains(&ip))
    }
}

/// Where an IMAP server refuses a source that is not on its allowlist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImapRefusal {
    /// Close the connection before the greeting, as a firewall would.
    Connect,
    /// Greet, then refuse every login.
    Login,
}

/// Where an SMTP server refuses a source that is not on its allowlist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpRefusal {
    /// Close the connection before the greeting, as a firewall would.
    Connect,
    /// Refuse AUTH.
    Login,
    /// Accept AUTH, refuse the recipient as Postfix's client restrictions do.
    Send,
}

/// A point in a connection's life that a fault can be tied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Milestone {
    /// The greeting has been sent.
    AfterGreeting,
    /// A STARTTLS upgrade has completed.
    AfterStarttls,
    /// A login or AUTH has succeeded (and its reply has been sent).
    AfterLogin,
}

/// Network faults: what a broken server, a firewall or a flaky link does to a connection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Faults {
    /// Wait this long before sending the greeting.
    #[serde(default)]
    pub delay_before_greeting_ms: u64,
    /// Accept the connection and never send a byte, not even a TLS handshake.
    #[serde(default)]
    pub stall: bool,
    /// Reset the connection (TCP RST) at this point.
    #[serde(default)]
    pub reset: Option<Milestone>,
    /// Read the client's first TLS handshake message, then close without answering.
    #[serde(default)]
    pub close_mid_handshake: bool,
    /// Send everything at this many bytes a second (at least 1), as a server behind a
    /// saturated link or a tarpit does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trickle_bytes_per_second: Option<u32>,
    /// Wait this long before refusing a login (IMAP LOGIN/AUTHENTICATE, SMTP AUTH), as real
    /// servers slow down password guessing: Dovecot's `auth_failure_delay` is 2 s.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_failed_login_ms: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_versions_parse_single_and_range() {
        assert_eq!(
            "1.0".parse::<TlsVersions>().unwrap(),
            TlsVersions::only(TlsVersion::Tls10)
        );
        let range: TlsVersions = "1.0-1.2".parse().unwrap();
        assert_eq!(
            (range.min, range.max),
            (TlsVersion::Tls10, TlsVersion::Tls12)
        );
        assert!(range.needs_legacy_backend());
        assert!(!TlsVersions::default().needs_legacy_backend());
        assert_eq!(TlsVersions::default().to_string(), "1.2-1.3");
        assert!("1.3-1.2".parse::<TlsVersions>().is_err());
        assert!(
            "2.0"
                .parse::<TlsVersions>()
                .unwrap_err()
                .contains("expected 1.0")
        );
    }

    #[test]
    fn policy_matches_networks_and_mapped_addresses() {
        let policy = Policy {
            sources: vec![
                "127.0.0.2/32".parse().unwrap(),
                "127.0.1.0/24".parse().unwrap(),
            ],
            refuse_at: ImapRefusal::Login,
            refusal_text: None,
        };
        assert!(policy.allows("127.0.0.2".parse().unwrap()));
        assert!(policy.allows("127.0.1.77".parse().unwrap()));
        assert!(policy.allows("::ffff:127.0.0.2".parse().unwrap()));
        assert!(!policy.allows("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn user_debug_hides_the_password() {
        let user = &User::default_users()[0];
        assert!(!format!("{user:?}").contains("horse"));
    }
}
