use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mailharness_mock_servers::{Security, SmtpConfig};

use crate::support::*;

#[tokio::test]
async fn a_test_message_over_smtps_is_received_with_its_envelope() {
    let server = start(SmtpConfig::default()).await;
    let mut client = Client::new(
        tls_handshake(connect(server.addr()).await, modern())
            .await
            .unwrap(),
    );
    assert_eq!(
        client.line().await,
        "220 localhost ESMTP Postfix (Debian/GNU)"
    );
    client.smtp("EHLO client.example").await;
    let auth = STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    assert_eq!(
        client.smtp(&format!("AUTH PLAIN {auth}")).await,
        ["235 2.7.0 Authentication successful"]
    );
    assert_eq!(
        client.smtp(&format!("MAIL FROM:<{USER}>")).await,
        ["250 2.1.0 Ok"]
    );
    assert_eq!(
        client.smtp("RCPT TO:<bcc@crm.example>").await,
        ["250 2.1.5 Ok"]
    );
    assert_eq!(
        client.smtp("DATA").await,
        ["354 End data with <CR><LF>.<CR><LF>"]
    );
    let reply = client
        .smtp("From: <alice@example.com>\r\nTo: <bcc@crm.example>\r\nSubject: mailharness test\r\n\r\nHello.\r\n.")
        .await;
    assert!(
        reply[0].starts_with("250 2.0.0 Ok: queued as "),
        "{reply:?}"
    );
    assert_eq!(client.smtp("QUIT").await, ["221 2.0.0 Bye"]);

    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].mail_from, USER);
    assert_eq!(messages[0].rcpt_to, ["bcc@crm.example"]);
    assert_eq!(messages[0].header("Subject"), Some("mailharness test"));
    assert_eq!(messages[0].authenticated_as.as_deref(), Some(USER));
    let transcript = &server.transcripts()[0];
    assert!(
        !transcript.contains(&auth) && !transcript.contains(PASSWORD),
        "{transcript}"
    );
}

#[tokio::test]
async fn commands_pipelined_behind_starttls_are_discarded() {
    let server = start(SmtpConfig {
        security: Security::Starttls,
        ..SmtpConfig::default()
    })
    .await;
    let mut client = Client::new(connect(server.addr()).await);
    client.line().await;
    client.smtp("EHLO client.example").await;
    // The classic injection: a command in the same packet as STARTTLS.
    client
        .send("STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n")
        .await;
    assert_eq!(client.smtp_reply().await, ["220 2.0.0 Ready to start TLS"]);
    let mut client = Client::new(tls_handshake(client.into_inner(), modern()).await.unwrap());
    // Had the injected MAIL been read, this EHLO would not be the first command over TLS and
    // a later MAIL would be "nested".
    let ehlo = client.smtp("EHLO client.example").await;
    assert!(
        ehlo.contains(&"250-AUTH PLAIN LOGIN".to_owned()),
        "{ehlo:?}"
    );
    let transcript = &server.transcripts()[0];
    assert!(
        transcript.contains("discarded 35 bytes sent in the clear after STARTTLS"),
        "{transcript}"
    );
    assert!(
        !transcript
            .lines(mailharness_mock_servers::Direction::Client)
            .any(|l| l.contains("injected"))
    );
}
