use mailharness_mock_servers::{
    ImapConfig, ImapRefusal, Policy, Security, SmtpConfig, SmtpRefusal,
};

use crate::support::*;

fn policy<R>(refuse_at: R) -> Option<Policy<R>> {
    Some(Policy {
        sources: vec!["127.0.0.2/32".parse().unwrap()],
        refuse_at,
        refusal_text: None,
    })
}

#[tokio::test]
async fn strangers_are_dropped_at_connect() {
    let server = start(ImapConfig {
        security: Security::Plaintext,
        allowlist: policy(ImapRefusal::Connect),
        ..ImapConfig::default()
    })
    .await;
    let mut allowed = Client::new(connect_from("127.0.0.2", server.addr()).await);
    assert!(allowed.line().await.starts_with("* OK"));
    let mut stranger = Client::new(connect_from("127.0.0.3", server.addr()).await);
    let result = stranger.try_line().await;
    assert!(
        matches!(result, Ok(None) | Err(_)),
        "expected no greeting, got {result:?}"
    );
    let transcripts = server.transcripts();
    let dropped = transcripts
        .iter()
        .find(|t| t.peer.ip().to_string() == "127.0.0.3")
        .unwrap();
    assert!(dropped.contains("dropped at connect"));
}

#[tokio::test]
async fn strangers_are_refused_at_login_by_source_address() {
    let server = start(ImapConfig {
        allowlist: policy(ImapRefusal::Login),
        ..ImapConfig::default()
    })
    .await;
    let login = format!("LOGIN {USER} \"{PASSWORD}\"");
    for (source, expected) in [
        ("127.0.0.2", "a OK [CAPABILITY"),
        (
            "127.0.0.3",
            "a NO [CONTACTADMIN] Login from this address is not allowed.",
        ),
    ] {
        let tcp = connect_from(source, server.addr()).await;
        let mut client = Client::new(tls_handshake(tcp, modern()).await.unwrap());
        client.line().await;
        let reply = client.command("a", &login).await;
        assert!(reply[0].starts_with(expected), "{source}: {reply:?}");
    }
}

#[tokio::test]
async fn strangers_are_refused_at_send() {
    let server = start(SmtpConfig {
        security: Security::Plaintext,
        require_auth: false,
        allowlist: policy(SmtpRefusal::Send),
        ..SmtpConfig::default()
    })
    .await;
    let mut client = Client::new(connect_from("127.0.0.4", server.addr()).await);
    client.line().await;
    client.smtp("EHLO client.example").await;
    client.smtp("MAIL FROM:<alice@example.com>").await;
    assert_eq!(
        client.smtp("RCPT TO:<bcc@crm.example>").await,
        ["554 5.7.1 <unknown[127.0.0.4]>: Client host rejected: Access denied"]
    );
}
