//! The certificate matrix of mailharness.
//!
//! A connector must accept a server whose certificate chains to a CA it trusts and names the
//! host it connected to, and reject every other certificate (unless the user ticked "allow
//! insecure certificate"). To test that, the harness needs one server certificate of each
//! kind a real server may present. [`CertMatrix::generate`] makes them all at run time
//! (ECDSA P-256, a few milliseconds), for one host name:
//!
//! | kind | what it is |
//! |---|---|
//! | `valid` | leaf signed by the trusted CA; SAN and CN name the host |
//! | `valid-chain` | leaf signed by an intermediate CA; leaf and intermediate are served |
//! | `incomplete-chain` | leaf signed by the intermediate, which is not served |
//! | `expired` | validity ended 30 days ago |
//! | `not-yet-valid` | validity starts in 30 days |
//! | `self-signed` | the leaf signs itself |
//! | `unknown-ca` | signed by a CA the connector does not trust |
//! | `wrong-host` | CN and SAN name another host |
//! | `cn-only` | CN names the host, no SAN (modern clients reject it, old ones accept it) |
//! | `client-auth-only` | extended key usage clientAuth only |
//!
//! ```
//! use mailharness_certs::{CertKind, CertMatrix};
//! let matrix = CertMatrix::generate("localhost").unwrap();
//! let expired = matrix.get(CertKind::Expired);
//! assert_eq!(expired.chain_der().len(), 1);
//! assert!(matrix.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// Host name the bad `wrong-host` certificate names instead of the real one. `.invalid` is
/// reserved (RFC 2606), so it can never be a host anybody connects to.
pub const WRONG_HOST: &str = "wrong-host.invalid";

/// The kinds of server certificate in the matrix. The serialised names are stable: scenario
/// files, manifests and file names use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertKind {
    /// Leaf signed by the trusted CA; SAN and CN name the host.
    Valid,
    /// Leaf signed by an intermediate CA; the server sends leaf and intermediate.
    ValidChain,
    /// Leaf signed by the intermediate CA, but the server sends the leaf alone.
    IncompleteChain,
    /// Signed by the trusted CA, validity ended in the past.
    Expired,
    /// Signed by the trusted CA, validity starts in the future.
    NotYetValid,
    /// Signed by its own key.
    SelfSigned,
    /// Signed by a CA that the connector does not trust.
    UnknownCa,
    /// Signed by the trusted CA for another host name ([`WRONG_HOST`]).
    WrongHost,
    /// Signed by the trusted CA, the host in the CN only, no subjectAltName.
    CnOnly,
    /// Signed by the trusted CA, extended key usage clientAuth only (no serverAuth).
    ClientAuthOnly,
}

impl CertKind {
    /// Every kind, in the order of the table above.
    pub const ALL: [CertKind; 10] = [
        CertKind::Valid,
        CertKind::ValidChain,
        CertKind::IncompleteChain,
        CertKind::Expired,
        CertKind::NotYetValid,
        CertKind::SelfSigned,
        CertKind::UnknownCa,
        CertKind::WrongHost,
        CertKind::CnOnly,
        CertKind::ClientAuthOnly,
    ];

    /// The stable name (`valid`, `valid-chain`, …).
    pub fn name(self) -> &'static str {
        match self {
            CertKind::Valid => "valid",
            CertKind::ValidChain => "valid-chain",
            CertKind::IncompleteChain => "incomplete-chain",
            CertKind::Expired => "expired",
            CertKind::NotYetValid => "not-yet-valid",
            CertKind::SelfSigned => "self-signed",
            CertKind::UnknownCa => "unknown-ca",
            CertKind::WrongHost => "wrong-host",
            CertKind::CnOnly => "cn-only",
            CertKind::ClientAuthOnly => "client-auth-only",
        }
    }

    /// One line on what the certificate is, for help texts and reports.
    pub fn description(self) -> &'static str {
        match self {
            CertKind::Valid => "signed by the trusted CA; SAN and CN name the host",
            CertKind::ValidChain => {
                "signed by an intermediate CA; leaf and intermediate are served"
            }
            CertKind::IncompleteChain => "signed by the intermediate CA, which is not served",
            CertKind::Expired => "validity ended 30 days ago",
            CertKind::NotYetValid => "validity starts in 30 days",
            CertKind::SelfSigned => "the leaf signs itself",
            CertKind::UnknownCa => "signed by a CA the connector does not trust",
            CertKind::WrongHost => "CN and SAN name wrong-host.invalid instead of the host",
            CertKind::CnOnly => {
                "CN names the host, no SAN (modern clients reject it, old ones accept it)"
            }
            CertKind::ClientAuthOnly => "extended key usage clientAuth only, no serverAuth",
        }
    }

    /// Whether a client that verifies certificates strictly (rustls, webpki) accepts it.
    pub fn is_trusted(self) -> bool {
        matches!(self, CertKind::Valid | CertKind::ValidChain)
    }
}

impl fmt::Display for CertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CertKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CertKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| Error::UnknownKind(s.to_owned()))
    }
}

/// Errors of this crate. The underlying error is the [`source`](std::error::Error::source),
/// not repeated in the message, so a caller printing the chain shows each cause once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// rcgen refused the parameters or the key (e.g. a host name that is not ASCII).
    #[error("cannot generate certificate")]
    Generate(#[from] rcgen::Error),
    /// A file or the directory could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A name that is not one of [`CertKind::ALL`].
    #[error(
        "unknown certificate kind `{0}` (expected one of: valid, valid-chain, incomplete-chain, expired, not-yet-valid, self-signed, unknown-ca, wrong-host, cn-only, client-auth-only)"
    )]
    UnknownKind(String),
}

/// What a certificate says about itself, as written to the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertInfo {
    /// Subject distinguished name, e.g. `CN=localhost`.
    pub subject: String,
    /// DNS names or IP addresses in the subjectAltName extension (empty when there is none).
    pub san: Vec<String>,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
}

/// One server certificate of the matrix: the chain a server sends and its private key.
pub struct ServerCert {
    kind: CertKind,
    chain: Vec<CertificateDer<'static>>,
    chain_pem: String,
    key_pkcs8: Vec<u8>,
    key_pem: String,
    info: CertInfo,
}

impl ServerCert {
    /// Which kind this is.
    pub fn kind(&self) -> CertKind {
        self.kind
    }

    /// The certificates the server sends, leaf first.
    pub fn chain_der(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The same chain as PEM, leaf first.
    pub fn chain_pem(&self) -> &str {
        &self.chain_pem
    }

    /// The leaf's private key (PKCS#8), for a rustls server.
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }

    /// The leaf's private key as PEM (PKCS#8).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// Subject, SANs, issuer and validity of the leaf.
    pub fn info(&self) -> &CertInfo {
        &self.info
    }
}

impl fmt::Debug for ServerCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private key stays out of debug output.
        f.debug_struct("ServerCert")
            .field("kind", &self.kind)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// One entry of `manifest.json`, written by [`CertMatrix::write_to`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The kind's stable name.
    pub kind: CertKind,
    /// File with the chain the server sends (leaf first), relative to the directory.
    pub chain_file: String,
    /// File with the private key, relative to the directory (mode 0600).
    pub key_file: String,
    /// Whether a strictly verifying client trusting `ca.pem` accepts it for the host.
    pub trusted: bool,
    /// Subject, SANs, issuer and validity, flattened into the entry.
    #[serde(flatten)]
    pub info: CertInfo,
}

/// Contents of `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The host the certificates were made for.
    pub host: String,
    /// The CA a connector under test trusts.
    pub ca_file: String,
    /// The intermediate CA behind `valid-chain` and `incomplete-chain`.
    pub intermediate_file: String,
    /// One entry per kind.
    pub certificates: Vec<ManifestEntry>,
}

/// The trusted CA and one server certificate of every [`CertKind`], for one host name.
pub struct CertMatrix {
    host: String,
    ca: CertificateDer<'static>,
    ca_pem: String,
    intermediate_pem: String,
    certs: BTreeMap<CertKind, ServerCert>,
}

impl fmt::Debug for CertMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertMatrix")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl CertMatrix {
    /// Generates the CA and every kind for `host` (a DNS name or an IP address).
    pub fn generate(host: &str) -> Result<CertMatrix, Error> {
        // Whole seconds: certificates cannot hold fractions, and the manifest must show the
        // dates the certificates carry.
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("0 is a valid nanosecond");
        let ca = authority("mailharness test CA", now, None, None)?;
        let intermediate = authority("mailharness intermediate CA", now, Some(0), Some(&ca))?;
        let untrusted = authority("mailharness untrusted CA", now, None, None)?;
        let by = |ca, sent_with_leaf| Signer::By { ca, sent_with_leaf };

        let mut certs = BTreeMap::new();
        for kind in CertKind::ALL {
            let cert = match kind {
                CertKind::ValidChain => leaf(kind, host, now, by(&intermediate, true))?,
                CertKind::IncompleteChain => leaf(kind, host, now, by(&intermediate, false))?,
                CertKind::SelfSigned => leaf(kind, host, now, Signer::Itself)?,
                CertKind::UnknownCa => leaf(kind, host, now, by(&untrusted, false))?,
                CertKind::WrongHost => leaf(kind, WRONG_HOST, now, by(&ca, false))?,
                CertKind::Valid
                | CertKind::Expired
                | CertKind::NotYetValid
                | CertKind::CnOnly
                | CertKind::ClientAuthOnly => leaf(kind, host, now, by(&ca, false))?,
            };
            certs.insert(kind, cert);
        }
        Ok(CertMatrix {
            host: host.to_owned(),
            ca: ca.issuer.der().clone(),
            ca_pem: ca.issuer.pem(),
            intermediate_pem: intermediate.issuer.pem(),
            certs,
        })
    }

    /// The host name the certificates were made for.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The CA certificate a connector under test trusts (DER).
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca
    }

    /// The CA certificate a connector under test trusts (PEM).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server certificate of one kind.
    pub fn get(&self, kind: CertKind) -> &ServerCert {
        &self.certs[&kind]
    }

    /// Writes `ca.pem`, `intermediate.pem`, `KIND.pem` (the chain a server sends), `KIND.key`
    /// (mode 0600) for every kind, and `manifest.json` into `dir`, creating it if needed.
    pub fn write_to(&self, dir: &Path) -> Result<Manifest, Error> {
        let io_error = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Write { path, source }
        };
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        write_file(&dir.join("ca.pem"), self.ca_pem.as_bytes(), false)?;
        write_file(
            &dir.join("intermediate.pem"),
            self.intermediate_pem.as_bytes(),
            false,
        )?;
        let mut certificates = Vec::new();
        for cert in self.certs.values() {
            let chain_file = format!("{}.pem", cert.kind);
            let key_file = format!("{}.key", cert.kind);
            write_file(&dir.join(&chain_file), cert.chain_pem.as_bytes(), false)?;
            write_file(&dir.join(&key_file), cert.key_pem.as_bytes(), true)?;
            certificates.push(ManifestEntry {
                kind: cert.kind,
                chain_file,
                key_file,
                trusted: cert.kind.is_trusted(),
                info: cert.info.clone(),
            });
        }
        let manifest = Manifest {
            host: self.host.clone(),
            ca_file: "ca.pem".into(),
            intermediate_file: "intermediate.pem".into(),
            certificates,
        };
        let json = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
        write_file(&dir.join("manifest.json"), json.as_bytes(), false)?;
        Ok(manifest)
    }
}

/// Writes a file; private keys are created with mode 0600 so they are never readable by
/// others, not even for an instant.
fn write_file(path: &Path, contents: &[u8], private: bool) -> Result<(), Error> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = options.open(path).and_then(|mut file| {
        #[cfg(unix)]
        if private {
            // An existing file keeps its old mode on open: set it explicitly.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(contents)
    });
    result.map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

/// A CA that signs leaves: its certificate and key, and its name for the manifest.
struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
    name: String,
}

fn authority_params(name: &str, now: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject(name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3650);
    params
}

fn authority(
    name: &str,
    now: OffsetDateTime,
    path_len: Option<u8>,
    signed_by: Option<&Authority>,
) -> Result<Authority, Error> {
    let mut params = authority_params(name, now);
    if let Some(len) = path_len {
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(len));
    }
    let key = KeyPair::generate()?;
    let issuer = match signed_by {
        Some(parent) => CertifiedIssuer::signed_by(params, key, &parent.issuer)?,
        None => CertifiedIssuer::self_signed(params, key)?,
    };
    Ok(Authority {
        issuer,
        name: format!("CN={name}"),
    })
}

/// The subject of every certificate here: a CN alone, so the manifest shows it exactly.
fn subject(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Who signs a leaf, and whether the server sends that CA's certificate after the leaf.
enum Signer<'a> {
    By {
        ca: &'a Authority,
        sent_with_leaf: bool,
    },
    Itself,
}

fn leaf(
    kind: CertKind,
    host: &str,
    now: OffsetDateTime,
    signer: Signer<'_>,
) -> Result<ServerCert, Error> {
    let names = if kind == CertKind::CnOnly {
        Vec::new()
    } else {
        vec![host.to_owned()]
    };
    let mut params = CertificateParams::new(names.clone())?;
    params.distinguished_name = subject(host);
    params.use_authority_key_identifier_extension = !matches!(signer, Signer::Itself);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = if kind == CertKind::ClientAuthOnly {
        vec![ExtendedKeyUsagePurpose::ClientAuth]
    } else {
        vec![ExtendedKeyUsagePurpose::ServerAuth]
    };
    (params.not_before, params.not_after) = match kind {
        CertKind::Expired => (now - Duration::days(395), now - Duration::days(30)),
        CertKind::NotYetValid => (now + Duration::days(30), now + Duration::days(395)),
        _ => (now - Duration::days(1), now + Duration::days(365)),
    };
    let key = KeyPair::generate()?;
    let (cert, issuer, sent_ca) = match signer {
        Signer::By { ca, sent_with_leaf } => (
            params.signed_by(&key, &ca.issuer)?,
            ca.name.clone(),
            sent_with_leaf.then_some(&ca.issuer),
        ),
        Signer::Itself => (params.self_signed(&key)?, format!("CN={host}"), None),
    };
    let info = CertInfo {
        subject: format!("CN={host}"),
        san: names,
        issuer,
        not_before: rfc3339(params.not_before),
        not_after: rfc3339(params.not_after),
    };
    let mut chain = vec![cert.der().clone()];
    let mut chain_pem = cert.pem();
    if let Some(ca) = sent_ca {
        chain.push(ca.der().clone());
        chain_pem.push_str(&ca.pem());
    }
    Ok(ServerCert {
        kind,
        chain,
        chain_pem,
        key_pkcs8: key.serialize_der(),
        key_pem: key.serialize_pem(),
        info,
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("a generated validity date formats")
}
