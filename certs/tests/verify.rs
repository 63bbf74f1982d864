//! The matrix checked by a strict, modern client: rustls' webpki verifier (ring provider, the
//! only one in the tree), trusting the matrix CA alone. Every kind must fail with the exact
//! error that names what is wrong with it, so a connector test that sees another error knows
//! the certificate is not the cause. Also: what `write_to` leaves on disk.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use mailharness_certs::{CertKind, CertMatrix, Manifest, WRONG_HOST};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{ServerName, UnixTime};
use rustls::{CertificateError, Error, ExtendedKeyPurpose, RootCertStore};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Verifies the chain `kind` serves (leaf first, then whatever intermediates the server
/// sends) for `host`, trusting only the matrix CA.
fn verify(matrix: &CertMatrix, kind: CertKind, host: &str) -> Result<(), Error> {
    let mut roots = RootCertStore::empty();
    roots
        .add(matrix.ca_der().clone())
        .expect("the matrix CA is a usable trust anchor");
    let verifier = WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .expect("verifier builds");
    let chain = matrix.get(kind).chain_der();
    let (leaf, intermediates) = chain.split_first().expect("a chain has a leaf");
    let name = ServerName::try_from(host.to_owned()).expect("host is a valid server name");
    verifier
        .verify_server_cert(leaf, intermediates, &name, &[], UnixTime::now())
        .map(|_| ())
}

/// The certificate error of a failed verification; panics on success or on another error.
fn cert_error(matrix: &CertMatrix, kind: CertKind, host: &str) -> CertificateError {
    match verify(matrix, kind, host) {
        Err(Error::InvalidCertificate(error)) => error,
        other => panic!("{kind} for {host}: expected a certificate error, got {other:?}"),
    }
}

/// A validity date as the manifest writes it.
fn rfc3339(time: UnixTime) -> String {
    let secs = i64::try_from(time.as_secs()).expect("date fits in i64");
    OffsetDateTime::from_unix_timestamp(secs)
        .expect("date in range")
        .format(&Rfc3339)
        .expect("date formats")
}

/// Checks every kind of a matrix made for `host` against rustls.
fn check_matrix(host: &str) {
    let matrix = CertMatrix::generate(host).expect("matrix generates");
    let expected_name = ServerName::try_from(host.to_owned()).unwrap();
    for kind in CertKind::ALL {
        let info = matrix.get(kind).info();
        match kind {
            CertKind::Valid | CertKind::ValidChain => {
                assert!(kind.is_trusted());
                verify(&matrix, kind, host)
                    .unwrap_or_else(|e| panic!("{kind} for {host} must verify: {e}"));
            }
            CertKind::Expired => match cert_error(&matrix, kind, host) {
                CertificateError::ExpiredContext { time, not_after } => {
                    assert!(not_after.as_secs() < time.as_secs());
                    // The manifest shows the date the certificate carries, to the second.
                    assert_eq!(rfc3339(not_after), info.not_after);
                }
                other => panic!("{kind} for {host}: expected ExpiredContext, got {other:?}"),
            },
            CertKind::NotYetValid => match cert_error(&matrix, kind, host) {
                CertificateError::NotValidYetContext { time, not_before } => {
                    assert!(not_before.as_secs() > time.as_secs());
                    assert_eq!(rfc3339(not_before), info.not_before);
                }
                other => panic!("{kind} for {host}: expected NotValidYetContext, got {other:?}"),
            },
            CertKind::IncompleteChain | CertKind::SelfSigned | CertKind::UnknownCa => {
                let error = cert_error(&matrix, kind, host);
                assert_eq!(error, CertificateError::UnknownIssuer, "{kind} for {host}");
            }
            CertKind::WrongHost => match cert_error(&matrix, kind, host) {
                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } => {
                    assert_eq!(expected, expected_name);
                    assert_eq!(presented.len(), 1, "{presented:?}");
                    assert!(presented[0].contains(WRONG_HOST), "{presented:?}");
                }
                other => {
                    panic!("{kind} for {host}: expected NotValidForNameContext, got {other:?}")
                }
            },
            CertKind::CnOnly => match cert_error(&matrix, kind, host) {
                // webpki ignores the CN: without a SAN the certificate names no host at all.
                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } => {
                    assert_eq!(expected, expected_name);
                    assert!(presented.is_empty(), "{presented:?}");
                }
                other => {
                    panic!("{kind} for {host}: expected NotValidForNameContext, got {other:?}")
                }
            },
            CertKind::ClientAuthOnly => match cert_error(&matrix, kind, host) {
                CertificateError::InvalidPurposeContext {
                    required,
                    presented,
                } => {
                    assert_eq!(required, ExtendedKeyPurpose::ServerAuth);
                    assert_eq!(presented, vec![ExtendedKeyPurpose::ClientAuth]);
                }
                other => {
                    panic!("{kind} for {host}: expected InvalidPurposeContext, got {other:?}")
                }
            },
        }
    }
}

#[test]
fn every_kind_verifies_or_fails_as_named_for_a_dns_host() {
    check_matrix("localhost");
}

#[test]
fn every_kind_verifies_or_fails_as_named_for_an_ip_host() {
    check_matrix("127.0.0.1");
}

#[test]
fn chains_have_the_documented_length() {
    let matrix = CertMatrix::generate("localhost").unwrap();
    for kind in CertKind::ALL {
        let expected = if kind == CertKind::ValidChain { 2 } else { 1 };
        let cert = matrix.get(kind);
        assert_eq!(cert.chain_der().len(), expected, "{kind}");
        assert_eq!(
            cert.chain_pem()
                .matches("-----BEGIN CERTIFICATE-----")
                .count(),
            expected,
            "{kind}"
        );
        assert_eq!(cert.kind(), kind);
    }
}

#[test]
fn kind_names_round_trip() {
    for kind in CertKind::ALL {
        assert_eq!(kind.name().parse::<CertKind>().unwrap(), kind);
        assert_eq!(
            serde_json::to_string(&kind).unwrap(),
            format!("\"{}\"", kind.name())
        );
    }
    assert!("valid_chain".parse::<CertKind>().is_err());
}

#[test]
fn write_to_writes_files_keys_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    // A directory that does not exist yet: write_to creates it.
    let dir = tmp.path().join("certs");
    let matrix = CertMatrix::generate("localhost").unwrap();
    let returned = matrix.write_to(&dir).unwrap();

    for file in ["ca.pem", "intermediate.pem", "manifest.json"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    assert_eq!(
        fs::read_to_string(dir.join("ca.pem")).unwrap(),
        matrix.ca_pem()
    );

    let manifest: Manifest =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest, returned);
    assert_eq!(manifest.host, "localhost");
    assert_eq!(manifest.ca_file, "ca.pem");
    assert_eq!(manifest.intermediate_file, "intermediate.pem");
    let kinds: Vec<CertKind> = manifest.certificates.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, CertKind::ALL);

    for entry in &manifest.certificates {
        let kind = entry.kind;
        assert_eq!(entry.chain_file, format!("{kind}.pem"));
        assert_eq!(entry.key_file, format!("{kind}.key"));
        assert_eq!(entry.trusted, kind.is_trusted());
        assert_eq!(&entry.info, matrix.get(kind).info());
        assert_eq!(
            fs::read_to_string(dir.join(&entry.chain_file)).unwrap(),
            matrix.get(kind).chain_pem()
        );
        let key = fs::read_to_string(dir.join(&entry.key_file)).unwrap();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{kind}");
        assert_key_private(&dir.join(&entry.key_file));

        let (subject, san) = match kind {
            CertKind::CnOnly => ("CN=localhost", vec![]),
            CertKind::WrongHost => ("CN=wrong-host.invalid", vec![WRONG_HOST.to_owned()]),
            _ => ("CN=localhost", vec!["localhost".to_owned()]),
        };
        assert_eq!(entry.info.subject, subject, "{kind}");
        assert_eq!(entry.info.san, san, "{kind}");

        let issuer = match kind {
            CertKind::ValidChain | CertKind::IncompleteChain => "CN=mailharness intermediate CA",
            CertKind::SelfSigned => "CN=localhost",
            CertKind::UnknownCa => "CN=mailharness untrusted CA",
            _ => "CN=mailharness test CA",
        };
        assert_eq!(entry.info.issuer, issuer, "{kind}");
        // Whole seconds, as in the certificate.
        assert!(
            !entry.info.not_after.contains('.'),
            "{}",
            entry.info.not_after
        );
    }
}

#[test]
fn write_to_makes_existing_key_files_private() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("valid.key");
    fs::write(&key, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    }
    CertMatrix::generate("localhost")
        .unwrap()
        .write_to(dir.path())
        .unwrap();
    assert_key_private(&key);
    assert!(fs::read_to_string(&key).unwrap().contains("PRIVATE KEY"));
}

#[test]
fn ip_host_puts_the_address_in_the_san() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = CertMatrix::generate("127.0.0.1")
        .unwrap()
        .write_to(dir.path())
        .unwrap();
    assert_eq!(manifest.host, "127.0.0.1");
    let valid = &manifest.certificates[0];
    assert_eq!(valid.kind, CertKind::Valid);
    assert_eq!(valid.info.subject, "CN=127.0.0.1");
    assert_eq!(valid.info.san, ["127.0.0.1"]);
}

#[cfg(unix)]
fn assert_key_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
}

#[cfg(not(unix))]
fn assert_key_private(_: &Path) {}
