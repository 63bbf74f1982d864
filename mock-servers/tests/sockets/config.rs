use std::time::Duration;

use mailharness_certs::CertKind;
use mailharness_mock_servers::{
    ImapConfig, ImapGreeting, ImapLogin, ImapPersonality, ImapRefusal, Milestone, Security,
    SmtpAuth, SmtpConfig, TlsVersion, TlsVersions,
};

use crate::support::*;

#[test]
fn imap_configuration_as_a_scenario_writes_it() {
    let config: ImapConfig = toml::from_str(
        r#"
        personality = "courier"
        security = "starttls"
        certificate = "wrong-host"
        tls-versions = "1.0"
        greeting = { custom = "* OK IMAP ready" }
        login = "app-password-required"
        max-connections-per-user = 3
        folders = ["Archive"]
        users = [{ login = "alice", password = "pw" }]
        allowlist = { sources = ["127.0.0.2/32"], refuse-at = "login" }
        faults = { reset = "after-login", delay-before-greeting-ms = 10 }
        "#,
    )
    .unwrap();
    assert_eq!(config.personality, ImapPersonality::Courier);
    assert_eq!(config.security, Security::Starttls);
    assert_eq!(config.certificate, CertKind::WrongHost);
    assert_eq!(config.tls_versions, TlsVersions::only(TlsVersion::Tls10));
    assert_eq!(
        config.greeting,
        ImapGreeting::Custom("* OK IMAP ready".into())
    );
    assert_eq!(config.login, ImapLogin::AppPasswordRequired);
    assert_eq!(config.max_connections_per_user, Some(3));
    assert_eq!(config.allowlist.unwrap().refuse_at, ImapRefusal::Login);
    assert_eq!(config.faults.reset, Some(Milestone::AfterLogin));
    // Every key may be left out.
    assert_eq!(
        toml::from_str::<ImapConfig>("").unwrap(),
        ImapConfig::default()
    );
}

#[test]
fn smtp_configuration_with_reply_overrides() {
    let config: SmtpConfig = toml::from_str(
        r#"
        personality = "gmail"
        auth = { custom = "535 5.7.139 Authentication unsuccessful" }
        replies = { rcpt = "554 5.7.1 <bcc@crm.example>: Relay access denied", message = "550-5.7.26 Blocked.\n550 5.7.26 More." }
        "#,
    )
    .unwrap();
    assert!(matches!(config.auth, SmtpAuth::Custom(ref r) if r.code() == 535));
    assert_eq!(config.replies.rcpt.unwrap().code(), 554);
    assert_eq!(
        config.replies.message.unwrap().to_string(),
        "550-5.7.26 Blocked.\r\n550 5.7.26 More.\r\n"
    );
}

#[test]
fn mistakes_are_refused_with_a_position_and_what_was_expected() {
    let error = toml::from_str::<ImapConfig>("securty = \"starttls\"").unwrap_err();
    assert!(
        error.to_string().contains("unknown field `securty`"),
        "{error}"
    );
    assert!(error.span().is_some());
    let error = toml::from_str::<ImapConfig>("certificate = \"expird\"").unwrap_err();
    assert!(error.to_string().contains("expired"), "{error}");
    let error =
        toml::from_str::<SmtpConfig>("\n\nreplies = { rcpt = \"Relay denied\" }").unwrap_err();
    assert!(error.to_string().contains("three-digit code"), "{error}");
    assert!(error.to_string().contains("line 3"), "{error}");
    let error = toml::from_str::<ImapConfig>("tls-versions = \"1.4\"").unwrap_err();
    assert!(
        error.to_string().contains("expected 1.0, 1.1, 1.2 or 1.3"),
        "{error}"
    );
    let error = toml::from_str::<ImapConfig>(
        "allowlist = { sources = [\"300.0.0.1/8\"], refuse-at = \"login\" }",
    )
    .unwrap_err();
    assert!(error.to_string().contains("allowlist"), "{error}");
    let error = toml::from_str::<ImapConfig>("allowlist = { sources = [], refuse-at = \"send\" }")
        .unwrap_err();
    assert!(error.to_string().contains("connect"), "{error}");
}

#[tokio::test]
async fn a_malformed_refusal_text_is_refused_at_start() {
    let config: SmtpConfig = toml::from_str(
        "allowlist = { sources = [\"127.0.0.2/32\"], refuse-at = \"login\", refusal-text = \"no\" }",
    )
    .unwrap();
    let error = mailharness_mock_servers::MockServer::start(
        config,
        certs(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("refusal-text"), "{error}");
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server_and_its_connections() {
    let server = start(ImapConfig {
        security: Security::Plaintext,
        ..ImapConfig::default()
    })
    .await;
    let addr = server.addr();
    let mut open = Client::new(connect(addr).await);
    open.line().await;
    drop(server);
    assert_eq!(
        open.try_line().await.ok().flatten(),
        None,
        "open connections are closed"
    );
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "the port still accepts connections");
}
