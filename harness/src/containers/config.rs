//! A real server's configuration: which image, which ports, and the rendered files of
//! `/etc/mailharness/` (templates from `containers/<server>/`, the certificate of the
//! scenario's kind, the users). One place per server decides what each setting means for
//! it; which settings a scenario asks for is `plan`'s to say.

use std::collections::BTreeMap;

use mailharness_certs::{CertKind, CertMatrix};
use mailharness_mock_servers::{Security, TlsVersion, TlsVersions};

use super::Error;
use super::images::containers_dir;
use super::render::render;
use super::server::{ContainerSpec, free_port};

/// The real servers there are images for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RealKind {
    Dovecot,
    Courier,
    Postfix,
}

impl RealKind {
    pub const ALL: [RealKind; 3] = [RealKind::Dovecot, RealKind::Courier, RealKind::Postfix];

    /// The name of its image and of its directory under `containers/`.
    pub const fn name(self) -> &'static str {
        match self {
            RealKind::Dovecot => "dovecot",
            RealKind::Courier => "courier",
            RealKind::Postfix => "postfix",
        }
    }
}

/// Which real server and how it is set up: everything that makes two scenarios need
/// different containers, and nothing else (so equal settings share one container).
#[derive(Clone, PartialEq, Eq)]
pub struct RealServer {
    pub kind: RealKind,
    pub security: Security,
    pub certificate: CertKind,
    pub tls_versions: TlsVersions,
    pub max_connections: Option<u32>,
    /// Dovecot's `nologin` passdb field with this reason (`login = { nologin = … }`).
    pub nologin: Option<String>,
    pub offer_auth: bool,
    pub relay_denied: bool,
    /// Postfix's `message_size_limit` (its default when none).
    pub message_size_limit: Option<u64>,
    /// Postfix asks postgrey about every recipient, which defers it (`greylisting = true`).
    pub greylisting: bool,
    /// Postfix refuses every client when it connects (`greeting = "client-rejected"`).
    pub client_rejected: bool,
    /// The server also takes bearer tokens (XOAUTH2, OAUTHBEARER) for this scope: Dovecot's
    /// `oauth2` passdb asks the run's introspection endpoint about each (Postfix asks
    /// Dovecot's auth service in its own container). An `[oauth]` scenario's.
    pub bearer_scope: Option<String>,
    pub login: String,
    /// The password the server knows (never printed, see `Debug`).
    pub(crate) password: String,
}

impl RealServer {
    /// The key under which a run shares this server's container: the settings, with the
    /// password only as a digest (two servers of one run differ in it when a scenario says
    /// `server-password = "different"`).
    pub fn key(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.password.as_bytes());
        format!(
            "{self:?} password-sha256:{:02x}{:02x}{:02x}{:02x}",
            digest[0], digest[1], digest[2], digest[3]
        )
    }

    /// The name of the port placeholder the connector connects to.
    pub fn listener_port(&self) -> &'static str {
        match (self.kind, self.security) {
            (RealKind::Postfix, Security::ImplicitTls) => "SMTPS_PORT",
            (RealKind::Postfix, Security::Plaintext) => "PLAIN_PORT",
            (RealKind::Postfix, _) => "SUBMISSION_PORT",
            (RealKind::Dovecot | RealKind::Courier, Security::ImplicitTls) => "IMAPS_PORT",
            (RealKind::Dovecot | RealKind::Courier, _) => "IMAP_PORT",
        }
    }

    /// Picks ports and renders the configuration directory. `introspection` is the URL of
    /// the run's token introspection endpoint, which a server taking bearer tokens asks.
    pub fn spec(
        &self,
        certs: &CertMatrix,
        introspection: Option<&str>,
    ) -> Result<(ContainerSpec, BTreeMap<String, u16>), Error> {
        let cert = certs.get(self.certificate);
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        files.insert("cert.pem".into(), cert.chain_pem().as_bytes().to_vec());
        files.insert("key.pem".into(), cert.key_pem().as_bytes().to_vec());
        files.insert(
            "combined.pem".into(),
            format!("{}{}", cert.key_pem(), cert.chain_pem()).into_bytes(),
        );
        files.insert(
            "users".into(),
            format!("{}:{}\n", self.login, self.password).into_bytes(),
        );
        if let Some(reason) = &self.nologin {
            files.insert("nologin".into(), format!("{reason}\n").into_bytes());
        }
        let port = free_port()?;
        let mut ports = BTreeMap::new();
        ports.insert(self.listener_port().to_owned(), port);
        let mut values: BTreeMap<&str, String> = BTreeMap::new();
        let on = |name: &str| {
            if self.listener_port() == name {
                port.to_string()
            } else {
                "0".into()
            }
        };
        let templates: &[&str] = match self.kind {
            RealKind::Dovecot => {
                values.insert("IMAP_PORT", on("IMAP_PORT"));
                values.insert("IMAPS_PORT", on("IMAPS_PORT"));
                let tls = self.security != Security::Plaintext;
                values.insert("SSL", if tls { "yes" } else { "no" }.into());
                values.insert(
                    "DISABLE_PLAINTEXT_AUTH",
                    if tls { "yes" } else { "no" }.into(),
                );
                values.insert(
                    "SSL_MIN_PROTOCOL",
                    openssl_name(self.tls_versions.min).into(),
                );
                values.insert(
                    "SSL_MAX_PROTOCOL",
                    openssl_name(self.tls_versions.max).into(),
                );
                values.insert("SSL_CIPHER_LIST", openssl_ciphers(self.tls_versions).into());
                values.insert(
                    "MAX_USERIP_CONNECTIONS",
                    self.max_connections.unwrap_or(10).to_string(),
                );
                match &self.bearer_scope {
                    None => &["dovecot.conf", "openssl.cnf"],
                    Some(scope) => {
                        bearer_values(&mut values, &mut files, certs, scope, introspection)?;
                        &[
                            "dovecot.conf",
                            "openssl.cnf",
                            "oauth2.conf",
                            "oauth2.conf.ext",
                        ]
                    }
                }
            }
            RealKind::Courier => {
                values.insert("IMAP_PORT", on("IMAP_PORT"));
                values.insert("IMAPS_PORT", on("IMAPS_PORT"));
                let starttls = self.security == Security::Starttls;
                values.insert("IMAP_STARTTLS", if starttls { "YES" } else { "NO" }.into());
                values.insert("IMAP_TLS_REQUIRED", if starttls { "1" } else { "0" }.into());
                values.insert("TLS_PRIORITY", gnutls_priority(self.tls_versions));
                &["imapd", "imapd-ssl"]
            }
            RealKind::Postfix => {
                values.insert("SUBMISSION_PORT", on("SUBMISSION_PORT"));
                values.insert("SMTPS_PORT", on("SMTPS_PORT"));
                values.insert("PLAIN_PORT", on("PLAIN_PORT"));
                values.insert("TLS_PROTOCOLS", postfix_protocols(self.tls_versions));
                values.insert("TLS_CIPHERLIST", openssl_ciphers(self.tls_versions).into());
                values.insert(
                    "SASL_AUTH_ENABLE",
                    if self.offer_auth { "yes" } else { "no" }.into(),
                );
                values.insert(
                    "RELAY_RESTRICTIONS",
                    if self.relay_denied {
                        "reject_unauth_destination"
                    } else {
                        "permit_sasl_authenticated, reject_unauth_destination"
                    }
                    .into(),
                );
                let (restrictions, delay) = if self.client_rejected {
                    ("reject", "no")
                } else {
                    ("", "yes")
                };
                values.insert("CLIENT_RESTRICTIONS", restrictions.into());
                values.insert(
                    "MESSAGE_SIZE_LIMIT",
                    self.message_size_limit.unwrap_or(10_240_000).to_string(),
                );
                values.insert("DELAY_REJECT", delay.into());
                let recipient = if self.greylisting {
                    "check_policy_service unix:private/postgrey"
                } else {
                    ""
                };
                values.insert("RECIPIENT_RESTRICTIONS", recipient.into());
                match &self.bearer_scope {
                    None => {
                        values.insert("SASL_TYPE", "cyrus".into());
                        values.insert("SASL_PATH", "smtpd".into());
                        &["main.cf", "master.cf"]
                    }
                    Some(scope) => {
                        values.insert("SASL_TYPE", "dovecot".into());
                        values.insert("SASL_PATH", "private/auth".into());
                        bearer_values(&mut values, &mut files, certs, scope, introspection)?;
                        &[
                            "main.cf",
                            "master.cf",
                            "dovecot-auth.conf",
                            "oauth2.conf.ext",
                        ]
                    }
                }
            }
        };
        for name in templates {
            let path = containers_dir()?
                .join(self.kind.name())
                .join(format!("{name}.tmpl"));
            let template = std::fs::read_to_string(&path)
                .map_err(|e| Error::Files(format!("cannot read {}: {e}", path.display())))?;
            let rendered = render(&template, &values)
                .map_err(|e| Error::Files(format!("{}: {e}", path.display())))?;
            files.insert((*name).to_owned(), rendered.into_bytes());
        }
        Ok((
            ContainerSpec {
                server: self.kind.name(),
                files,
            },
            ports,
        ))
    }
}

impl std::fmt::Debug for RealServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password stays out of debug output (and so out of logs and messages).
        f.debug_struct("RealServer")
            .field("server", &self.kind.name())
            .field("security", &self.security)
            .field("certificate", &self.certificate)
            .field("tls_versions", &self.tls_versions)
            .field("max_connections", &self.max_connections)
            .field("nologin", &self.nologin)
            .field("offer_auth", &self.offer_auth)
            .field("relay_denied", &self.relay_denied)
            .field("message_size_limit", &self.message_size_limit)
            .field("greylisting", &self.greylisting)
            .field("client_rejected", &self.client_rejected)
            .field("bearer_scope", &self.bearer_scope)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// What Dovecot's `oauth2` passdb needs (in the Dovecot image, and in the Postfix image as
/// its SASL server): where to introspect tokens, the scope they must have, the CA the
/// introspection endpoint's certificate chains to.
fn bearer_values(
    values: &mut BTreeMap<&str, String>,
    files: &mut BTreeMap<String, Vec<u8>>,
    certs: &CertMatrix,
    scope: &str,
    introspection: Option<&str>,
) -> Result<(), Error> {
    let url = introspection.ok_or_else(|| {
        Error::Start("a server taking bearer tokens needs the run's introspection endpoint".into())
    })?;
    values.insert("INTROSPECTION_URL", url.to_owned());
    values.insert("SCOPE", scope.to_owned());
    files.insert("ca.pem".into(), certs.ca_pem().as_bytes().to_vec());
    Ok(())
}

fn openssl_name(version: TlsVersion) -> &'static str {
    match version {
        TlsVersion::Tls10 => "TLSv1",
        TlsVersion::Tls11 => "TLSv1.1",
        TlsVersion::Tls12 => "TLSv1.2",
        TlsVersion::Tls13 => "TLSv1.3",
    }
}

/// Debian's OpenSSL 3 negotiates TLS 1.0/1.1 only at security level 0.
fn openssl_ciphers(versions: TlsVersions) -> &'static str {
    if versions.needs_legacy_backend() {
        "DEFAULT:@SECLEVEL=0"
    } else {
        "DEFAULT"
    }
}

/// Postfix's protocol list: `>=TLSv1.2, <=TLSv1.3`.
fn postfix_protocols(versions: TlsVersions) -> String {
    format!(
        ">={}, <={}",
        openssl_name(versions.min),
        openssl_name(versions.max)
    )
}

/// A GnuTLS priority string allowing exactly `versions` (Courier's TLS is GnuTLS).
fn gnutls_priority(versions: TlsVersions) -> String {
    let all = [
        TlsVersion::Tls10,
        TlsVersion::Tls11,
        TlsVersion::Tls12,
        TlsVersion::Tls13,
    ];
    let mut priority = String::from("NORMAL:-VERS-ALL");
    for version in all {
        if versions.min <= version && version <= versions.max {
            priority.push_str(&format!(":+VERS-TLS{}", version.number()));
        }
    }
    if versions.needs_legacy_backend() {
        priority.push_str(":%COMPAT");
    }
    priority
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_images_check_tokens_with_the_same_passdb_settings() {
        // Each image's templates are in its own build context, so the Postfix image has a
        // copy of the Dovecot image's oauth2 passdb settings: the same file.
        let dir = containers_dir().unwrap();
        let read = |server: &str| {
            std::fs::read_to_string(dir.join(server).join("oauth2.conf.ext.tmpl")).unwrap()
        };
        assert_eq!(read("dovecot"), read("postfix"));
    }

    #[test]
    fn version_settings_for_each_library() {
        let legacy: TlsVersions = "1.0".parse().unwrap();
        assert_eq!(postfix_protocols(legacy), ">=TLSv1, <=TLSv1");
        assert_eq!(openssl_ciphers(legacy), "DEFAULT:@SECLEVEL=0");
        assert_eq!(
            gnutls_priority(legacy),
            "NORMAL:-VERS-ALL:+VERS-TLS1.0:%COMPAT"
        );
        let modern = TlsVersions::default();
        assert_eq!(postfix_protocols(modern), ">=TLSv1.2, <=TLSv1.3");
        assert_eq!(
            gnutls_priority(modern),
            "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3"
        );
        assert_eq!(openssl_ciphers(modern), "DEFAULT");
    }
}
