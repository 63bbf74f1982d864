//! The TLS requirements of one port: which versions it accepts, each probed alone with
//! OpenSSL (rustls speaks neither 1.0 nor 1.1), and whether its certificate would be
//! accepted — judged as the reference connector judges it (rustls), with the facts behind
//! the judgement (names, dates, the chain the server sent) read with OpenSSL and webpki.

use std::sync::Arc;
use std::time::Duration;

use mailharness_mock_servers::{TlsVersion, TlsVersions};
use openssl::asn1::Asn1Time;
use openssl::nid::Nid;
use openssl::x509::{X509, X509VerifyResult};
use rustls::RootCertStore;
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::Error;
use super::report::Row;
use super::requirement::Requirement;
use crate::classify;
use crate::connector::Endpoint;
use crate::outcome::{Detail, ErrorClass};
use crate::probe::legacy::{self, Protocol};

/// Certificates expiring within this many days are a warning.
pub const EXPIRY_WARNING_DAYS: i32 = 30;

/// The roots a certificate is judged against: the system's (unless switched off) and the
/// CA file's.
pub struct Trust {
    pub roots: Arc<RootCertStore>,
    /// The same roots, for finding the issuer of a certificate the server did not send.
    anchors: Vec<X509>,
}

impl Trust {
    pub fn new(system_roots: bool, ca_file: Option<&std::path::Path>) -> Result<Trust, Error> {
        let mut ders: Vec<CertificateDer<'static>> = Vec::new();
        if system_roots {
            ders.extend(rustls_native_certs::load_native_certs().certs);
        }
        if let Some(path) = ca_file {
            use rustls_pki_types::pem::PemObject;
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| Error::CaFile {
                    path: path.to_owned(),
                    why: e.to_string(),
                })?;
            if certs.is_empty() {
                return Err(Error::CaFile {
                    path: path.to_owned(),
                    why: "no certificate in it".into(),
                });
            }
            ders.extend(certs);
        }
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(ders.iter().cloned());
        let anchors = ders
            .iter()
            .filter_map(|der| X509::from_der(der).ok())
            .collect();
        Ok(Trust {
            roots: Arc::new(roots),
            anchors,
        })
    }
}

/// The result of one version's handshake: the certificate chain the server sent, or why
/// the handshake failed.
pub type Probe = Result<Vec<Vec<u8>>, String>;

pub const VERSIONS: [TlsVersion; 4] = [
    TlsVersion::Tls10,
    TlsVersion::Tls11,
    TlsVersion::Tls12,
    TlsVersion::Tls13,
];

/// Probes each of TLS 1.0–1.3 on its own connection, all at once, each bounded by `limit`.
pub async fn probe_versions(
    target: &Endpoint,
    protocol: Protocol,
    limit: Duration,
) -> Vec<(TlsVersion, Probe)> {
    let probes = VERSIONS.map(|version| async move {
        let handshake = legacy::handshake(
            &target.host,
            target.port,
            target.security,
            protocol,
            None,
            version.openssl(),
            version.openssl(),
        );
        let result = match tokio::time::timeout(limit, handshake).await {
            Ok(Ok(stream)) => Ok(stream
                .ssl()
                .peer_cert_chain()
                .map(|chain| chain.iter().filter_map(|c| c.to_der().ok()).collect())
                .unwrap_or_default()),
            Ok(Err(why)) => Err(why),
            Err(_) => Err("timeout".to_owned()),
        };
        (version, result)
    });
    futures::future::join_all(probes).await
}

/// The versions that completed a handshake.
pub fn accepted(probes: &[(TlsVersion, Probe)]) -> Vec<TlsVersion> {
    probes
        .iter()
        .filter(|(_, probe)| probe.is_ok())
        .map(|(version, _)| *version)
        .collect()
}

/// Why each refused version was refused, a line each.
pub fn refusals(probes: &[(TlsVersion, Probe)]) -> String {
    probes
        .iter()
        .filter_map(|(v, p)| p.as_ref().err().map(|e| format!("TLS {}: {e}", v.number())))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The chain sent on the newest version the server accepts.
pub fn chain(probes: &[(TlsVersion, Probe)]) -> Option<&Vec<Vec<u8>>> {
    probes
        .iter()
        .rev()
        .find_map(|(_, probe)| probe.as_ref().ok())
        .filter(|chain| !chain.is_empty())
}

/// `ImapTlsVersions` or `SmtpTlsVersions`: the versions accepted, compared with the connector's range.
pub fn versions_row(
    requirement: Requirement,
    class: ErrorClass,
    probes: &[(TlsVersion, Probe)],
    connector: TlsVersions,
) -> Row {
    let lines: Vec<String> = probes
        .iter()
        .map(|(version, probe)| match probe {
            Ok(_) => format!("TLS {}: accepted", version.number()),
            Err(why) => format!("TLS {}: refused ({why})", version.number()),
        })
        .collect();
    let accepted = accepted(probes);
    let usable: Vec<TlsVersion> = accepted
        .iter()
        .copied()
        .filter(|v| (connector.min..=connector.max).contains(v))
        .collect();
    let mut evidence = lines.join("\n");
    match usable.last() {
        Some(best) => {
            evidence.push_str(&format!(
                "\nconnector range {connector}: it would use TLS {}",
                best.number()
            ));
            Row::pass(requirement, evidence)
        }
        None if accepted.is_empty() => {
            Row::fail(requirement, class, Detail::TlsHandshakeFailed, evidence)
        }
        None => {
            evidence.push_str(&format!(
                "\nnone of these is in the connector's range {connector} (--connector-tls)"
            ));
            Row::fail(requirement, class, Detail::TlsVersion, evidence)
        }
    }
}

/// What the certificate chain says about itself, for the evidence.
struct Facts {
    subject: String,
    names: Vec<String>,
    issuer: String,
    validity: String,
    days_left: i32,
    not_yet_valid: bool,
    chain: String,
}

fn common_name(name: &openssl::x509::X509NameRef) -> String {
    name.entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|entry| entry.data().to_string().ok())
        .map(|cn| format!("CN={cn}"))
        .unwrap_or_else(|| "(no CN)".to_owned())
}

fn facts(chain: &[X509], trust: &Trust) -> Facts {
    let leaf = &chain[0];
    let now = Asn1Time::days_from_now(0).expect("the current time is representable");
    let days_left = now.diff(leaf.not_after()).map_or(0, |diff| diff.days);
    let not_yet_valid = leaf.not_before() > now;
    let names = leaf
        .subject_alt_names()
        .map(|names| {
            names
                .iter()
                .filter_map(|name| {
                    name.dnsname().map(|dns| format!("DNS:{dns}")).or_else(|| {
                        name.ipaddress().map(|ip| match ip.len() {
                            4 => format!(
                                "IP:{}",
                                std::net::Ipv4Addr::from(<[u8; 4]>::try_from(ip).unwrap())
                            ),
                            16 => format!(
                                "IP:{}",
                                std::net::Ipv6Addr::from(<[u8; 16]>::try_from(ip).unwrap())
                            ),
                            _ => "IP:?".to_owned(),
                        })
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Facts {
        subject: common_name(leaf.subject_name()),
        names,
        issuer: common_name(leaf.issuer_name()),
        validity: format!("{} to {}", leaf.not_before(), leaf.not_after()),
        days_left,
        not_yet_valid,
        chain: chain_walk(chain, trust),
    }
}

/// Follows the chain the server sent from the leaf up, and says where it ends: at a trusted
/// root (complete), at a root the server sent itself, or at an issuer that is neither sent
/// nor trusted (a missing intermediate or an unknown CA; the two look alike from here).
fn chain_walk(chain: &[X509], trust: &Trust) -> String {
    let issued = |issuer: &X509, subject: &X509| issuer.issued(subject) == X509VerifyResult::OK;
    let mut current = &chain[0];
    let mut path = vec![common_name(current.subject_name())];
    for _ in 0..chain.len() {
        if trust.anchors.iter().any(|root| issued(root, current)) {
            return format!(
                "{} sent; {} <- trusted root: complete",
                chain.len(),
                path.join(" <- ")
            );
        }
        let self_issued =
            current.subject_name().to_der().ok() == current.issuer_name().to_der().ok();
        if self_issued {
            return format!(
                "{} sent; {}: ends at a self-signed certificate that is not trusted",
                chain.len(),
                path.join(" <- ")
            );
        }
        match chain.iter().find(|cert| issued(cert, current)) {
            Some(next) => {
                current = next;
                path.push(common_name(current.subject_name()));
            }
            None => break,
        }
    }
    format!(
        "{} sent; {}: the issuer {} was neither sent nor is it trusted (a missing \
         intermediate, or an unknown CA)",
        chain.len(),
        path.join(" <- "),
        common_name(current.issuer_name())
    )
}

/// Whether the leaf names `host` in its subject alternative names (what TLS clients check
/// today), and failing that whether its CN does (what old clients fall back to).
fn name_check(leaf_der: &[u8], leaf: &X509, host: &str) -> Result<(), String> {
    let der = CertificateDer::from(leaf_der.to_vec());
    let matches_san = ServerName::try_from(host.to_owned())
        .ok()
        .zip(webpki::EndEntityCert::try_from(&der).ok())
        .is_some_and(|(name, cert)| cert.verify_is_valid_for_subject_name(&name).is_ok());
    if matches_san {
        return Ok(());
    }
    let cn_matches = leaf
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .filter_map(|entry| entry.data().to_string().ok())
        .any(|cn| cn.eq_ignore_ascii_case(host));
    Err(if cn_matches {
        format!(
            "`{host}` is only in the CN, not in the subject alternative names: current TLS clients ignore the CN"
        )
    } else {
        format!("`{host}` is not among the certificate's names")
    })
}

/// `ImapCertificate` or `SmtpCertificate`: the certificate the version probes saw, judged for `endpoint` as a
/// connector would (see [`certificate_row`]); skipped when no handshake showed one.
pub fn certificate_of(
    requirement: Requirement,
    probes: &[(TlsVersion, Probe)],
    endpoint: &Endpoint,
    trust: &Trust,
    allow_insecure: bool,
) -> Row {
    match chain(probes) {
        Some(chain) => certificate_row(requirement, chain, &endpoint.host, trust, allow_insecure),
        None => Row::skipped(requirement, "not checked: the server sent no certificate"),
    }
}

/// `ImapCertificate` or `SmtpCertificate`: the certificate, as a connector would judge it.
pub fn certificate_row(
    requirement: Requirement,
    chain_der: &[Vec<u8>],
    host: &str,
    trust: &Trust,
    allow_insecure: bool,
) -> Row {
    let chain: Vec<X509> = chain_der
        .iter()
        .filter_map(|der| X509::from_der(der).ok())
        .collect();
    if chain.is_empty() || chain.len() != chain_der.len() {
        return Row::fail(
            requirement,
            ErrorClass::UnauthorizedUntrustedCertificate,
            Detail::CertificateMalformed,
            "the server's certificate could not be parsed",
        );
    }
    let facts = facts(&chain, trust);
    let name = name_check(&chain_der[0], &chain[0], host);
    let verdict = verify(chain_der, host, trust);
    let mut evidence = vec![
        format!(
            "subject {}; names {}",
            facts.subject,
            if facts.names.is_empty() {
                "(none)".to_owned()
            } else {
                facts.names.join(", ")
            }
        ),
        format!("issuer {}", facts.issuer),
        format!("valid {} ({} days left)", facts.validity, facts.days_left),
        format!("chain: {}", facts.chain),
        match &name {
            Ok(()) => format!("name: `{host}` matches"),
            Err(why) => format!("name: {why}"),
        },
    ];
    if facts.not_yet_valid {
        evidence.push("not valid yet: its start date is in the future".to_owned());
    }
    match verdict {
        Ok(()) => {
            evidence.push("verification: trusted".to_owned());
            let evidence = evidence.join("\n");
            if facts.days_left < EXPIRY_WARNING_DAYS {
                Row::warn(
                    requirement,
                    evidence,
                    &format!(
                        "The certificate expires in {} days: renew it before connectors start \
                         refusing it.",
                        facts.days_left
                    ),
                )
            } else {
                Row::pass(requirement, evidence)
            }
        }
        Err(detail) => {
            evidence.push(format!("verification: {detail}"));
            if allow_insecure {
                evidence.push(
                    "accepted only because insecure certificates are allowed \
                     (--allow-insecure-certificate)"
                        .to_owned(),
                );
                let advice = super::remedy::remedy(
                    requirement,
                    ErrorClass::UnauthorizedUntrustedCertificate,
                    detail.as_str(),
                );
                Row::warn(requirement, evidence.join("\n"), &advice)
            } else {
                Row::fail(
                    requirement,
                    ErrorClass::UnauthorizedUntrustedCertificate,
                    detail,
                    evidence.join("\n"),
                )
            }
        }
    }
}

/// rustls's verdict, as the reference connector would get it: the outcome detail of the
/// first problem found, or none.
fn verify(chain: &[Vec<u8>], host: &str, trust: &Trust) -> Result<(), Detail> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = match rustls::client::WebPkiServerVerifier::builder_with_provider(
        trust.roots.clone(),
        provider,
    )
    .build()
    {
        Ok(verifier) => verifier,
        // No roots at all: nothing can be trusted.
        Err(_) => return Err(Detail::CertificateUnknownAuthority),
    };
    let leaf = CertificateDer::from(chain[0].clone());
    let intermediates: Vec<CertificateDer<'_>> = chain[1..]
        .iter()
        .map(|der| CertificateDer::from(der.clone()))
        .collect();
    let name = ServerName::try_from(host.to_owned()).map_err(|_| Detail::InvalidHost)?;
    verifier
        .verify_server_cert(&leaf, &intermediates, &name, &[], UnixTime::now())
        .map(drop)
        .map_err(|error| classify::tls::classify(&error).detail())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    use time::{Duration, OffsetDateTime};

    /// A CA file and a chain whose leaf for `localhost` expires in `days` days.
    fn chain_expiring_in(days: i64) -> (tempfile::NamedTempFile, Vec<Vec<u8>>) {
        let now = OffsetDateTime::now_utc();
        let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "expiry test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.not_before = now - Duration::days(300);
        params.not_after = now + Duration::days(days) + Duration::hours(1);
        let leaf = params
            .signed_by(&KeyPair::generate().unwrap(), &ca)
            .unwrap();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), ca.pem()).unwrap();
        (file, vec![leaf.der().to_vec()])
    }

    #[test]
    fn a_certificate_expiring_within_thirty_days_warns_with_the_days_left() {
        let (ca, chain) = chain_expiring_in(10);
        let trust = Trust::new(false, Some(ca.path())).unwrap();
        let row = certificate_row(
            Requirement::ImapCertificate,
            &chain,
            "localhost",
            &trust,
            false,
        );
        assert_eq!(row.verdict, super::super::Verdict::Warn, "{}", row.evidence);
        assert!(row.evidence.contains("(10 days left)"), "{}", row.evidence);
        assert!(row.remedy.unwrap().contains("expires in 10 days"));
        assert_eq!(row.class, None);

        let (ca, chain) = chain_expiring_in(90);
        let trust = Trust::new(false, Some(ca.path())).unwrap();
        let row = certificate_row(
            Requirement::ImapCertificate,
            &chain,
            "localhost",
            &trust,
            false,
        );
        assert_eq!(row.verdict, super::super::Verdict::Pass, "{}", row.evidence);
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_an_error() {
        assert!(Trust::new(false, Some(std::path::Path::new("/nonexistent/ca.pem"))).is_err());
        let empty = tempfile::NamedTempFile::new().unwrap();
        assert!(Trust::new(false, Some(empty.path())).is_err());
    }
}
