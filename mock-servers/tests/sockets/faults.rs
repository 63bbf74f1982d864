use std::io::ErrorKind;
use std::time::{Duration, Instant};

use mailharness_mock_servers::{Faults, ImapConfig, Milestone, Security, SmtpConfig};
use tokio::io::AsyncReadExt;

use crate::support::*;

fn faults(faults: Faults) -> ImapConfig {
    ImapConfig {
        faults,
        ..ImapConfig::default()
    }
}

#[tokio::test]
async fn a_stalled_server_never_answers_not_even_tls() {
    let server = start(faults(Faults {
        stall: true,
        ..Faults::default()
    }))
    .await;
    let connector = tokio_rustls::TlsConnector::from(modern());
    let handshake = connector.connect(
        rustls::pki_types::ServerName::try_from("localhost").unwrap(),
        connect(server.addr()).await,
    );
    let result = tokio::time::timeout(Duration::from_millis(500), handshake).await;
    assert!(
        result.is_err(),
        "the handshake should hang, got {:?}",
        result.map(|r| r.is_ok())
    );
    assert!(server.transcripts()[0].contains("stalling"));
}

#[tokio::test]
async fn the_greeting_comes_after_the_delay() {
    let server = start(SmtpConfig {
        security: Security::Plaintext,
        faults: Faults {
            delay_before_greeting_ms: 400,
            ..Faults::default()
        },
        ..SmtpConfig::default()
    })
    .await;
    let started = Instant::now();
    let mut client = Client::new(connect(server.addr()).await);
    assert!(client.line().await.starts_with("220 "));
    assert!(started.elapsed() >= Duration::from_millis(400));
}

async fn expect_reset<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) {
    let mut buf = [0u8; 256];
    let result = tokio::time::timeout(READ_TIMEOUT, stream.read(&mut buf))
        .await
        .expect("read timed out");
    match result {
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("expected a connection reset, got {other:?}"),
    }
}

#[tokio::test]
async fn reset_after_greeting() {
    let server = start(ImapConfig {
        security: Security::Plaintext,
        faults: Faults {
            reset: Some(Milestone::AfterGreeting),
            ..Faults::default()
        },
        ..ImapConfig::default()
    })
    .await;
    let mut client = Client::new(connect(server.addr()).await);
    assert!(client.line().await.starts_with("* OK"));
    expect_reset(&mut client.stream).await;
    assert!(server.transcripts()[0].contains("connection reset after the greeting"));
}

#[tokio::test]
async fn reset_after_starttls() {
    let server = start(ImapConfig {
        security: Security::Starttls,
        faults: Faults {
            reset: Some(Milestone::AfterStarttls),
            ..Faults::default()
        },
        ..ImapConfig::default()
    })
    .await;
    let mut client = Client::new(connect(server.addr()).await);
    client.line().await;
    client.command("a", "STARTTLS").await;
    let mut tls = tls_handshake(client.into_inner(), modern())
        .await
        .expect("handshake");
    expect_reset(&mut tls).await;
}

#[tokio::test]
async fn reset_after_login() {
    let server = start(faults(Faults {
        reset: Some(Milestone::AfterLogin),
        ..Faults::default()
    }))
    .await;
    let mut client = Client::new(
        tls_handshake(connect(server.addr()).await, modern())
            .await
            .unwrap(),
    );
    client.line().await;
    let reply = client
        .command("a", &format!("LOGIN {USER} \"{PASSWORD}\""))
        .await;
    assert!(
        reply[0].starts_with("a OK"),
        "the login reply comes before the reset"
    );
    expect_reset(&mut client.stream).await;
}

#[tokio::test]
async fn close_in_the_middle_of_the_handshake() {
    for security in [Security::ImplicitTls, Security::Starttls] {
        let server = start(ImapConfig {
            security,
            faults: Faults {
                close_mid_handshake: true,
                ..Faults::default()
            },
            ..ImapConfig::default()
        })
        .await;
        let mut tcp = connect(server.addr()).await;
        if security == Security::Starttls {
            let mut client = Client::new(tcp);
            client.line().await;
            client.command("a", "STARTTLS").await;
            tcp = client.into_inner();
        }
        let error = tls_handshake(tcp, modern())
            .await
            .expect_err("no handshake");
        assert!(
            matches!(
                error.kind(),
                ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
            ),
            "{security:?}: {error:?}"
        );
        assert!(server.transcripts()[0].contains("closed in the middle of the TLS handshake"));
    }
}
