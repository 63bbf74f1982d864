use std::pin::Pin;

use mailharness_certs::CertKind;
use mailharness_mock_servers::{
    ImapConfig, ImapPersonality, Security, SmtpConfig, TlsRefusal, TlsVersion, TlsVersions,
    transcript::Direction,
};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::X509;
use rustls::{AlertDescription, CertificateError};
use tokio_openssl::SslStream;

use crate::support::*;

/// Whether `error` is the rustls certificate error a strict client reports for `kind`.
fn is_expected_failure(kind: CertKind, error: &rustls::Error) -> bool {
    let rustls::Error::InvalidCertificate(error) = error else {
        return false;
    };
    match kind {
        CertKind::Expired => {
            matches!(
                error,
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            )
        }
        CertKind::NotYetValid => matches!(
            error,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }
        ),
        CertKind::SelfSigned | CertKind::UnknownCa | CertKind::IncompleteChain => {
            matches!(error, CertificateError::UnknownIssuer)
        }
        CertKind::WrongHost | CertKind::CnOnly => matches!(
            error,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        ),
        CertKind::ClientAuthOnly => matches!(
            error,
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. }
        ),
        CertKind::Valid | CertKind::ValidChain => false,
    }
}

/// A handshake with a bad certificate failed, with the error its kind calls for.
fn assert_refused_for_its_reason(kind: CertKind, error: Option<std::io::Error>) {
    let error = error.unwrap_or_else(|| panic!("{kind} was accepted"));
    let rustls = rustls_error(&error).unwrap_or_else(|| panic!("{kind}: {error}"));
    assert!(is_expected_failure(kind, rustls), "{kind}: {rustls:?}");
}

#[tokio::test]
async fn every_certificate_kind_over_imaps() {
    for kind in CertKind::ALL {
        let server = start(ImapConfig {
            certificate: kind,
            ..ImapConfig::default()
        })
        .await;
        let result = tls_handshake(connect(server.addr()).await, modern()).await;
        if kind.is_trusted() {
            let mut client = Client::new(result.unwrap_or_else(|e| panic!("{kind}: {e}")));
            assert!(
                client.line().await.starts_with("* OK [CAPABILITY"),
                "{kind}"
            );
        } else {
            assert_refused_for_its_reason(kind, result.err());
        }
    }
}

#[tokio::test]
async fn every_certificate_kind_over_smtp_starttls() {
    for kind in CertKind::ALL {
        let server = start(SmtpConfig {
            security: Security::Starttls,
            certificate: kind,
            ..SmtpConfig::default()
        })
        .await;
        let mut client = Client::new(connect(server.addr()).await);
        assert!(client.line().await.starts_with("220 "));
        assert!(
            client
                .smtp("EHLO client.example")
                .await
                .contains(&"250-STARTTLS".to_owned())
        );
        assert_eq!(
            client.smtp("STARTTLS").await,
            ["220 2.0.0 Ready to start TLS"]
        );
        let result = tls_handshake(client.into_inner(), modern()).await;
        if kind.is_trusted() {
            let mut client = Client::new(result.unwrap_or_else(|e| panic!("{kind}: {e}")));
            let ehlo = client.smtp("EHLO client.example").await;
            assert!(
                ehlo.contains(&"250-AUTH PLAIN LOGIN".to_owned()),
                "{kind}: {ehlo:?}"
            );
        } else {
            assert_refused_for_its_reason(kind, result.err());
        }
    }
}

#[tokio::test]
async fn version_ranges_served_by_rustls() {
    let tls12 = &[&rustls::version::TLS12][..];
    let tls13 = &[&rustls::version::TLS13][..];
    let cases = [
        (TlsVersion::Tls12, tls12, true),
        (TlsVersion::Tls12, tls13, false),
        (TlsVersion::Tls13, tls13, true),
        (TlsVersion::Tls13, tls12, false),
    ];
    for (server_version, client_versions, succeeds) in cases {
        let server = start(ImapConfig {
            tls_versions: TlsVersions::only(server_version),
            ..ImapConfig::default()
        })
        .await;
        let result =
            tls_handshake(connect(server.addr()).await, client_config(client_versions)).await;
        match result {
            Ok(stream) => {
                assert!(
                    succeeds,
                    "{server_version} server accepted {client_versions:?}"
                );
                let negotiated = stream.get_ref().1.protocol_version().unwrap();
                assert_eq!(
                    format!("{negotiated:?}").replace('_', "."),
                    server_version.to_string()
                );
            }
            Err(error) => {
                assert!(!succeeds, "{server_version}: {error}");
                let rustls = rustls_error(&error).expect("a rustls error");
                assert!(
                    matches!(
                        rustls,
                        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)
                            | rustls::Error::PeerIncompatible(_)
                    ),
                    "{server_version}: {rustls:?}"
                );
            }
        }
    }
    // The default range negotiates the newest.
    let server = start(ImapConfig::default()).await;
    let stream = tls_handshake(connect(server.addr()).await, modern())
        .await
        .unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
}

/// An OpenSSL client trusting the matrix CA, at security level 0 so that it can speak TLS
/// 1.0/1.1 at all, capped at `max`.
async fn openssl_connect(
    addr: std::net::SocketAddr,
    max: SslVersion,
) -> Result<SslStream<tokio::net::TcpStream>, String> {
    let mut builder = SslConnector::builder(SslMethod::tls_client()).unwrap();
    builder.set_security_level(0);
    builder.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
    builder
        .set_min_proto_version(Some(SslVersion::TLS1))
        .unwrap();
    builder.set_max_proto_version(Some(max)).unwrap();
    builder
        .cert_store_mut()
        .add_cert(X509::from_pem(certs().ca_pem().as_bytes()).unwrap())
        .unwrap();
    builder.set_verify(SslVerifyMode::PEER);
    let ssl = builder
        .build()
        .configure()
        .unwrap()
        .into_ssl("localhost")
        .unwrap();
    let mut stream = SslStream::new(ssl, connect(addr).await).unwrap();
    tokio::time::timeout(READ_TIMEOUT, Pin::new(&mut stream).connect())
        .await
        .expect("OpenSSL handshake timed out")
        .map_err(|e| e.to_string())?;
    Ok(stream)
}

#[tokio::test]
async fn legacy_only_listeners_admit_legacy_clients_and_refuse_rustls() {
    for (version, ssl_version, name) in [
        (TlsVersion::Tls10, SslVersion::TLS1, "TLSv1"),
        (TlsVersion::Tls11, SslVersion::TLS1_1, "TLSv1.1"),
    ] {
        let server = start(ImapConfig {
            tls_versions: TlsVersions::only(version),
            ..ImapConfig::default()
        })
        .await;
        let stream = openssl_connect(server.addr(), ssl_version)
            .await
            .unwrap_or_else(|e| panic!("{version} client: {e}"));
        assert_eq!(stream.ssl().version_str(), name);
        let mut client = Client::new(stream);
        assert!(client.line().await.contains("Dovecot (Debian) ready."));
        assert!(
            client
                .command("a", "LOGOUT")
                .await
                .last()
                .unwrap()
                .starts_with("a OK")
        );

        // As Dovecot (the personality's default): the ClientHello is read, and the
        // connection closed without a word.
        let error = tls_handshake(connect(server.addr()).await, modern())
            .await
            .expect_err("rustls speaks no legacy TLS");
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::UnexpectedEof,
            "{version}: {error}"
        );
        assert!(
            rustls_error(&error).is_none(),
            "{version}: no alert, {error:?}"
        );
        let transcripts = server.transcripts();
        assert!(transcripts[0].contains(&format!("TLS established ({name})")));
        assert!(
            transcripts[1].contains("closed on a ClientHello offering TLS 1.3, 1.2 only"),
            "{}",
            transcripts[1]
        );
    }
}

#[tokio::test]
async fn a_legacy_only_listener_told_to_alert_sends_a_protocol_version_alert() {
    for personality in [ImapPersonality::Dovecot, ImapPersonality::Gmail] {
        let refusal = match personality {
            ImapPersonality::Gmail => None,
            _ => Some(TlsRefusal::Alert),
        };
        let server = start(ImapConfig {
            personality,
            tls_versions: TlsVersions::only(TlsVersion::Tls10),
            tls_refusal: refusal,
            ..ImapConfig::default()
        })
        .await;
        let error = tls_handshake(connect(server.addr()).await, modern())
            .await
            .expect_err("rustls speaks no legacy TLS");
        let rustls = rustls_error(&error).expect("a rustls error");
        assert!(
            matches!(
                rustls,
                rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)
                    | rustls::Error::PeerIncompatible(_)
            ),
            "{personality:?}: {rustls:?}"
        );
        assert!(server.transcripts()[0].contains("TLS handshake failed"));
    }
}

#[tokio::test]
async fn modern_listeners_refuse_legacy_clients_and_legacy_ranges_include_tls12() {
    let server = start(ImapConfig::default()).await;
    assert!(
        openssl_connect(server.addr(), SslVersion::TLS1)
            .await
            .is_err()
    );
    // The vendor's documented range, 1.0-1.2, is served by OpenSSL and admits rustls at 1.2.
    let server = start(SmtpConfig {
        tls_versions: "1.0-1.2".parse().unwrap(),
        ..SmtpConfig::default()
    })
    .await;
    let mut client = Client::new(
        tls_handshake(connect(server.addr()).await, modern())
            .await
            .unwrap(),
    );
    assert!(
        client
            .line()
            .await
            .starts_with("220 localhost ESMTP Postfix")
    );
    let stream = openssl_connect(server.addr(), SslVersion::TLS1)
        .await
        .unwrap();
    assert_eq!(stream.ssl().version_str(), "TLSv1");
    let transcript = &server.transcripts()[0];
    assert!(transcript.contains("TLS established (TLSv1.2)"));
    assert_eq!(transcript.lines(Direction::Server).count(), 1);
}

/// Real Dovecot sends TLS 1.3 session tickets, and a client resumes with them; so does the
/// mock: the second connection of one client is a resumed handshake.
#[tokio::test]
async fn tls13_sessions_are_resumed_with_the_server_s_tickets() {
    let server = start(ImapConfig::default()).await;
    let config = client_config(&[&rustls::version::TLS13]);
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let tls = tls_handshake(connect(server.addr()).await, config.clone())
            .await
            .unwrap();
        kinds.push(tls.get_ref().1.handshake_kind());
        let mut client = Client::new(tls);
        // The tickets come after the handshake, before the greeting.
        assert!(client.line().await.starts_with("* OK"));
        client.command("a", "LOGOUT").await;
    }
    assert_eq!(
        kinds,
        [
            Some(rustls::HandshakeKind::Full),
            Some(rustls::HandshakeKind::Resumed)
        ]
    );
}
