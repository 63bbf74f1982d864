use std::time::Duration;

use mailharness_mock_servers::{ImapConfig, ImapGreeting, Security};
use tokio::io::AsyncReadExt;

use crate::support::*;

#[tokio::test]
async fn starttls_login_list_logout() {
    let server = start(ImapConfig {
        security: Security::Starttls,
        folders: vec!["Archive".into()],
        ..ImapConfig::default()
    })
    .await;
    let mut client = Client::new(connect(server.addr()).await);
    let greeting = client.line().await;
    assert!(
        greeting.contains("STARTTLS LOGINDISABLED] Dovecot (Debian) ready."),
        "{greeting}"
    );
    assert_eq!(
        client.command("a1", "STARTTLS").await,
        ["a1 OK Begin TLS negotiation now."]
    );
    let mut client = Client::new(tls_handshake(client.into_inner(), modern()).await.unwrap());
    let caps = client.command("a2", "CAPABILITY").await;
    assert!(caps[0].ends_with("AUTH=PLAIN AUTH=LOGIN"), "{caps:?}");
    let login = client
        .command("a3", &format!("LOGIN \"{USER}\" \"{PASSWORD}\""))
        .await;
    // a2 asked for the capabilities: the new ones come untagged, as Dovecot sends them.
    assert!(login[0].starts_with("* CAPABILITY IMAP4rev1"), "{login:?}");
    assert_eq!(login[1], "a3 OK Logged in");
    let list = client.command("a4", "LIST \"\" *").await;
    assert_eq!(
        list,
        [
            "* LIST (\\HasNoChildren) \".\" INBOX",
            "* LIST (\\HasNoChildren \\Sent) \".\" Sent",
            "* LIST (\\HasNoChildren) \".\" Archive",
            "a4 OK List completed (0.001 + 0.000 secs).",
        ]
    );
    assert_eq!(
        client.command("a5", "LOGOUT").await,
        [
            "* BYE Logging out",
            "a5 OK Logout completed (0.001 + 0.000 secs)."
        ]
    );
    assert_eq!(
        client.try_line().await.unwrap(),
        None,
        "server closes after LOGOUT"
    );

    let transcript = &server.transcripts()[0];
    assert!(
        transcript.contains("TLS established (TLSv1.3)"),
        "{transcript}"
    );
    assert!(
        transcript.contains(&format!("a3 LOGIN \"{USER}\" <redacted>")),
        "{transcript}"
    );
    assert!(!transcript.contains(PASSWORD), "{transcript}");
}

#[tokio::test]
async fn plaintext_server_accepts_login_in_the_clear() {
    let server = start(ImapConfig {
        security: Security::Plaintext,
        ..ImapConfig::default()
    })
    .await;
    let mut client = Client::new(connect(server.addr()).await);
    let greeting = client.line().await;
    assert!(greeting.contains("AUTH=PLAIN AUTH=LOGIN]") && !greeting.contains("STARTTLS"));
    assert_eq!(
        client.command("a", "STARTTLS").await,
        ["a BAD TLS support isn't enabled."]
    );
    let login = client
        .command("b", &format!("LOGIN {USER} \"{PASSWORD}\""))
        .await;
    assert!(login[0].starts_with("b OK"), "{login:?}");
}

#[tokio::test]
async fn garbage_and_silent_greetings() {
    let server = start(ImapConfig {
        security: Security::Plaintext,
        greeting: ImapGreeting::Garbage,
        ..ImapConfig::default()
    })
    .await;
    let mut client = Client::new(connect(server.addr()).await);
    assert_eq!(
        client.line().await,
        "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
    );

    let server = start(ImapConfig {
        greeting: ImapGreeting::None,
        ..ImapConfig::default()
    })
    .await;
    let mut stream = tls_handshake(connect(server.addr()).await, modern())
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let silent = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
    assert!(silent.is_err(), "no greeting expected, got {silent:?}");
    let mut client = Client::new(stream);
    assert_eq!(client.command("a", "NOOP").await, ["a OK NOOP completed."]);
}

#[tokio::test]
async fn connection_limit_across_real_connections() {
    let server = start(ImapConfig {
        max_connections_per_user: Some(2),
        ..ImapConfig::default()
    })
    .await;
    let login = format!("LOGIN {USER} \"{PASSWORD}\"");
    let mut clients = Vec::new();
    for _ in 0..2 {
        let mut client = Client::new(
            tls_handshake(connect(server.addr()).await, modern())
                .await
                .unwrap(),
        );
        client.line().await;
        assert!(client.command("a", &login).await[0].starts_with("a OK"));
        clients.push(client);
    }
    let mut third = Client::new(
        tls_handshake(connect(server.addr()).await, modern())
            .await
            .unwrap(),
    );
    third.line().await;
    assert_eq!(
        third.command("a", &login).await,
        [
            "a NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=2)"
        ]
    );
    assert_eq!(
        third.try_line().await.unwrap(),
        None,
        "Dovecot closes after the refusal"
    );
    // A logged-out session frees its slot once the server has seen the close.
    let mut first = clients.remove(0);
    first.command("z", "LOGOUT").await;
    drop(first);
    let mut freed = false;
    for _ in 0..50 {
        let mut again = Client::new(
            tls_handshake(connect(server.addr()).await, modern())
                .await
                .unwrap(),
        );
        again.line().await;
        if again.command("r", &login).await[0].starts_with("r OK") {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed, "the slot was never freed");
}

/// COMPRESS=DEFLATE (Gmail): after the OK, both directions are raw DEFLATE on the socket.
#[tokio::test]
async fn compress_deflate_compresses_both_directions() {
    use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
    use tokio::io::AsyncWriteExt;

    let server = start(ImapConfig {
        security: Security::Plaintext,
        personality: mailharness_mock_servers::ImapPersonality::Gmail,
        ..ImapConfig::default()
    })
    .await;
    let mut client = Client::new(connect(server.addr()).await);
    client.line().await;
    let login = client
        .command("a", &format!("LOGIN {USER} \"{PASSWORD}\""))
        .await;
    assert!(login.last().unwrap().starts_with("a OK"), "{login:?}");
    assert_eq!(
        client.command("b", "COMPRESS DEFLATE").await,
        ["b OK Success"]
    );
    let mut stream = client.into_inner();
    let (mut out, mut inflate) = (
        Compress::new(Compression::default(), false),
        Decompress::new(false),
    );
    let mut wire = Vec::with_capacity(256);
    out.compress_vec(
        b"c SELECT INBOX\r\nd COMPRESS DEFLATE\r\n",
        &mut wire,
        FlushCompress::Sync,
    )
    .unwrap();
    stream.write_all(&wire).await.unwrap();
    let mut plain = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&plain).contains("\r\nd ") {
        let n = tokio::time::timeout(READ_TIMEOUT, stream.read(&mut buf))
            .await
            .expect("answer in time")
            .unwrap();
        assert!(n > 0, "closed; so far: {}", String::from_utf8_lossy(&plain));
        let mut chunk = Vec::with_capacity(64 * 1024);
        inflate
            .decompress_vec(&buf[..n], &mut chunk, FlushDecompress::Sync)
            .unwrap();
        plain.extend(chunk);
    }
    let text = String::from_utf8(plain).unwrap();
    assert!(text.contains("* 3 EXISTS\r\n"), "{text}");
    assert!(
        text.ends_with("d NO [COMPRESSIONACTIVE] DEFLATE active\r\n"),
        "{text}"
    );
    let transcript = &server.transcripts()[0];
    assert!(
        transcript.contains("c SELECT INBOX"),
        "plain text in the transcript: {transcript}"
    );
}
