//! The SMTP state machine with byte literals: no sockets.

use super::*;
use crate::config::{Policy, User};
use crate::smtp::{SmtpPersonality, SmtpReplies};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const USER: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery staple";

struct Harness {
    session: SmtpSession,
    transcript: TranscriptHandle,
    messages: Arc<Mutex<Vec<ReceivedMessage>>>,
}

fn open_from(config: SmtpConfig, tls: bool, peer: &str) -> Harness {
    let peer: SocketAddr = peer.parse().unwrap();
    let transcript = TranscriptHandle::new(peer);
    let messages = Arc::new(Mutex::new(Vec::new()));
    let mut session = SmtpSession::new(
        Arc::new(config),
        peer,
        tls,
        messages.clone(),
        transcript.clone(),
        crate::imap::Mailstore::new(),
    );
    session.start();
    Harness {
        session,
        transcript,
        messages,
    }
}

fn open(config: SmtpConfig, tls: bool) -> Harness {
    open_from(config, tls, "127.0.0.1:40000")
}

impl Harness {
    fn exchange(&mut self, input: &str) -> (String, Vec<Action>) {
        self.session.feed(input.as_bytes());
        let mut written = String::new();
        let mut others = Vec::new();
        while let Some(action) = self.session.next_action() {
            match action {
                Action::Send(bytes) => written.push_str(&String::from_utf8(bytes).unwrap()),
                other => others.push(other),
            }
        }
        (written, others)
    }

    fn say(&mut self, input: &str) -> String {
        self.exchange(input).0
    }

    fn login(&mut self) -> String {
        self.say("EHLO client.example\r\n");
        self.say(&format!("AUTH PLAIN {}\r\n", plain(USER, PASSWORD)))
    }
}

fn plain(user: &str, password: &str) -> String {
    STANDARD.encode(format!("\0{user}\0{password}"))
}

fn starttls() -> SmtpConfig {
    SmtpConfig {
        security: Security::Starttls,
        ..SmtpConfig::default()
    }
}

const POSTFIX_EHLO_TLS: &str = "250-localhost\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8\r\n";

#[test]
fn postfix_greets_and_offers_auth_only_over_tls() {
    let mut h = open(starttls(), false);
    assert_eq!(h.say(""), "220 localhost ESMTP Postfix (Debian/GNU)\r\n");
    let ehlo = h.say("EHLO client.example\r\n");
    assert!(
        ehlo.contains("250-STARTTLS\r\n") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert_eq!(
        h.say("AUTH PLAIN x\r\n"),
        "530 5.7.0 Must issue a STARTTLS command first\r\n"
    );
    assert_eq!(
        h.say("MAIL FROM:<a@b>\r\n"),
        "530 5.7.0 Must issue a STARTTLS command first\r\n"
    );
    let (written, actions) = h.exchange("STARTTLS\r\nEHLO injected\r\n");
    assert_eq!(written, "220 2.0.0 Ready to start TLS\r\n");
    assert_eq!(actions, [Action::StartTls]);
    assert_eq!(h.session.take_unread(), b"EHLO injected\r\n");
    h.session.tls_started();
    assert_eq!(
        h.say("MAIL FROM:<a@b>\r\n"),
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
    );
    assert_eq!(h.say("EHLO client.example\r\n"), POSTFIX_EHLO_TLS);
    let mut implicit = open(SmtpConfig::default(), true);
    implicit.say("");
    assert_eq!(implicit.say("EHLO client.example\r\n"), POSTFIX_EHLO_TLS);
}

#[test]
fn stripped_starttls_looks_like_a_middlebox_rewrote_it() {
    let config = SmtpConfig {
        security: Security::StarttlsStripped,
        ..SmtpConfig::default()
    };
    let mut h = open(config, false);
    h.say("");
    let ehlo = h.say("EHLO client.example\r\n");
    assert!(
        ehlo.contains("250-XXXXXXXA\r\n") && !ehlo.contains("STARTTLS") && !ehlo.contains("AUTH")
    );
    assert_eq!(
        h.say("STARTTLS\r\n"),
        "500 5.5.2 Error: command not recognized\r\n"
    );
    let plaintext = SmtpConfig {
        security: Security::Plaintext,
        ..SmtpConfig::default()
    };
    let mut h = open(plaintext, false);
    h.say("");
    assert!(h.say("EHLO c\r\n").contains("250-AUTH PLAIN LOGIN"));
    assert_eq!(
        h.say("STARTTLS\r\n"),
        "502 5.5.1 Error: command not implemented\r\n"
    );
}

#[test]
fn auth_outcomes() {
    let mut h = open(SmtpConfig::default(), true);
    h.say("");
    let (written, actions) = {
        h.say("EHLO c\r\n");
        h.exchange(&format!("AUTH PLAIN {}\r\n", plain(USER, PASSWORD)))
    };
    assert_eq!(written, "235 2.7.0 Authentication successful\r\n");
    assert_eq!(actions, [Action::Reached(Milestone::AfterLogin)]);
    assert_eq!(
        h.say("AUTH PLAIN x\r\n"),
        "503 5.5.1 Error: already authenticated\r\n"
    );

    let mut h = open(SmtpConfig::default(), true);
    h.say("EHLO c\r\n");
    assert_eq!(
        h.say(&format!("AUTH PLAIN {}\r\n", plain(USER, "wrong"))),
        "535 5.7.8 Error: authentication failed: authentication failure\r\n"
    );
    assert_eq!(
        h.say("AUTH CRAM-MD5\r\n"),
        "535 5.7.8 Error: authentication failed: Invalid authentication mechanism\r\n"
    );

    let gmail = SmtpConfig {
        personality: SmtpPersonality::Gmail,
        auth: SmtpAuth::AppPasswordRequired,
        ..SmtpConfig::default()
    };
    let mut h = open(gmail, true);
    assert_eq!(
        h.say(""),
        "220 smtp.gmail.com ESMTP g19sm112160pjl.25 - gsmtp\r\n"
    );
    assert_eq!(
        h.login(),
        "534-5.7.9 Application-specific password required. Learn more at\r\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor o13sm2119833lfg.90 - gsmtp\r\n"
    );

    let custom = SmtpConfig {
        auth: SmtpAuth::Custom(SmtpReply::parse("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.").unwrap()),
        ..SmtpConfig::default()
    };
    let mut h = open(custom, true);
    assert!(h.login().starts_with("535 5.7.139 "));
}

#[test]
fn auth_login_exchange_is_redacted() {
    let mut h = open(SmtpConfig::default(), true);
    h.say("EHLO c\r\n");
    assert_eq!(h.say("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
    assert_eq!(
        h.say(&format!("{}\r\n", STANDARD.encode(USER))),
        "334 UGFzc3dvcmQ6\r\n"
    );
    assert_eq!(
        h.say(&format!("{}\r\n", STANDARD.encode(PASSWORD))),
        "235 2.7.0 Authentication successful\r\n"
    );
    let mut h2 = open(SmtpConfig::default(), true);
    h2.login();
    for transcript in [h.transcript.snapshot(), h2.transcript.snapshot()] {
        assert!(!transcript.contains("horse"), "{transcript}");
        assert!(
            !transcript.contains(&STANDARD.encode(PASSWORD)),
            "{transcript}"
        );
        assert!(!transcript.contains(&plain(USER, PASSWORD)), "{transcript}");
    }
    assert!(
        h2.transcript
            .snapshot()
            .contains(&format!("AUTH PLAIN {REDACTED}"))
    );
}

#[test]
fn a_message_is_stored_with_its_envelope_and_headers() {
    let mut h = open(SmtpConfig::default(), true);
    h.login();
    assert_eq!(
        h.say("MAIL FROM:<alice@example.com> SIZE=120\r\n"),
        "250 2.1.0 Ok\r\n"
    );
    assert_eq!(h.say("RCPT TO:<bcc@crm.example>\r\n"), "250 2.1.5 Ok\r\n");
    assert_eq!(h.say("DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
    let reply = h.say("From: alice@example.com\r\nSubject: test\r\n  folded\r\n\r\n..dot-stuffed\r\nbody\r\n.\r\n");
    assert_eq!(reply, "250 2.0.0 Ok: queued as 4F2A1B2C3D\r\n");
    let messages = h.messages.lock().unwrap();
    let message = &messages[0];
    assert_eq!(message.mail_from, "alice@example.com");
    assert_eq!(message.rcpt_to, ["bcc@crm.example"]);
    assert_eq!(message.authenticated_as.as_deref(), Some(USER));
    assert!(message.tls);
    assert_eq!(message.header("subject"), Some("test folded"));
    assert!(message.data.ends_with(b"\r\n.dot-stuffed\r\nbody\r\n"));
}

#[test]
fn transaction_order_and_syntax_are_enforced() {
    let mut h = open(SmtpConfig::default(), true);
    assert_eq!(
        h.say("MAIL FROM:<a@b>\r\n").lines().last().unwrap(),
        "503 5.5.1 Error: send HELO/EHLO first"
    );
    h.login();
    assert_eq!(
        h.say("RCPT TO:<x@y>\r\n"),
        "503 5.5.1 Error: need MAIL command\r\n"
    );
    assert_eq!(
        h.say("MAIL FROM:a@b\r\n"),
        "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
    );
    assert_eq!(
        h.say("DATA\r\n"),
        "554 5.5.1 Error: no valid recipients\r\n"
    );
    assert_eq!(
        h.say("FROB\r\n"),
        "500 5.5.2 Error: command not recognized\r\n"
    );
    let (written, actions) = h.exchange("QUIT\r\n");
    assert_eq!(written, "221 2.0.0 Bye\r\n");
    assert_eq!(actions, [Action::Close]);
}

#[test]
fn unauthenticated_recipients_are_relay_denied() {
    let mut h = open(SmtpConfig::default(), true);
    h.say("EHLO c\r\n");
    h.say("MAIL FROM:<a@b>\r\n");
    assert_eq!(
        h.say("RCPT TO:<x@y>\r\n"),
        "554 5.7.1 <x@y>: Relay access denied\r\n"
    );
}

#[test]
fn greylisting_defers_every_recipient_and_nothing_is_delivered() {
    let config = SmtpConfig {
        greylisting: true,
        ..SmtpConfig::default()
    };
    let mut h = open(config, true);
    assert!(h.login().starts_with("235 "));
    h.say("MAIL FROM:<a@b>\r\n");
    for _ in 0..2 {
        assert_eq!(
            h.say("RCPT TO:<bcc@crm.example>\r\n"),
            "450 4.2.0 <bcc@crm.example>: Recipient address rejected: Greylisted, see \
             http://postgrey.schweikert.ch/help/crm.example.html\r\n"
        );
    }
    assert_eq!(
        h.say("DATA\r\n"),
        "554 5.5.1 Error: no valid recipients\r\n"
    );
}

#[test]
fn overridden_replies_refuse_or_accept() {
    let config = SmtpConfig {
        replies: SmtpReplies {
            rcpt: Some(
                SmtpReply::parse("554 5.7.1 <bcc@crm.example>: Relay access denied").unwrap(),
            ),
            ..SmtpReplies::default()
        },
        ..SmtpConfig::default()
    };
    let mut h = open(config, true);
    h.login();
    h.say("MAIL FROM:<a@b>\r\n");
    assert_eq!(
        h.say("RCPT TO:<bcc@crm.example>\r\n"),
        "554 5.7.1 <bcc@crm.example>: Relay access denied\r\n"
    );
    assert_eq!(
        h.say("DATA\r\n"),
        "554 5.5.1 Error: no valid recipients\r\n"
    );

    let config = SmtpConfig {
        replies: SmtpReplies {
            message: Some(
                SmtpReply::parse(
                    "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
                )
                .unwrap(),
            ),
            ..SmtpReplies::default()
        },
        ..SmtpConfig::default()
    };
    let mut h = open(config, true);
    h.login();
    h.say("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
    assert!(
        h.say("Subject: x\r\n\r\nbody\r\n.\r\n")
            .starts_with("550 5.7.60")
    );
    assert!(h.messages.lock().unwrap().is_empty());
}

#[test]
fn allowlist_refusals_at_login_and_send() {
    let policy = |refuse_at| {
        Some(Policy {
            sources: vec!["127.0.0.2/32".parse().unwrap()],
            refuse_at,
            refusal_text: None,
        })
    };
    let config = SmtpConfig {
        allowlist: policy(SmtpRefusal::Login),
        ..SmtpConfig::default()
    };
    assert!(
        open(config.clone(), true)
            .login()
            .starts_with("535 5.7.139 Authentication unsuccessful")
    );
    assert!(
        open_from(config, true, "127.0.0.2:5000")
            .login()
            .starts_with("235 ")
    );

    let config = SmtpConfig {
        allowlist: policy(SmtpRefusal::Send),
        ..SmtpConfig::default()
    };
    let mut h = open(config, true);
    h.login();
    h.say("MAIL FROM:<a@b>\r\n");
    assert_eq!(
        h.say("RCPT TO:<c@d>\r\n"),
        "554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: Access denied\r\n"
    );
}

#[test]
fn custom_users_and_refusing_greetings() {
    let config = SmtpConfig {
        users: vec![User {
            login: "alice".into(),
            password: PASSWORD.into(),
        }],
        greeting: SmtpGreeting::Custom(SmtpReply::parse("554 5.3.2 Service unavailable").unwrap()),
        ..SmtpConfig::default()
    };
    let mut h = open(config, true);
    assert_eq!(h.say(""), "554 5.3.2 Service unavailable\r\n");
    // As Postfix after refusing a client: 503 to anything but QUIT, which closes.
    assert_eq!(
        h.say("EHLO c\r\n"),
        "503 5.7.0 Error: access denied for unknown[127.0.0.1]\r\n"
    );
    assert_eq!(
        h.say("AUTH PLAIN x\r\n"),
        "503 5.7.0 Error: access denied for unknown[127.0.0.1]\r\n"
    );
    let (written, actions) = h.exchange("QUIT\r\n");
    assert_eq!(written, "221 2.0.0 Bye\r\n");
    assert_eq!(actions, [Action::Close]);
    // Postfix refusing the client at connect answers as the real one did
    // (containers/captures/postfix-client-rejected.txt), NOOP included.
    let config = SmtpConfig {
        greeting: SmtpGreeting::ClientRejected,
        ..SmtpConfig::default()
    };
    let mut h = open(config, true);
    assert_eq!(
        h.say(""),
        "554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: Access denied\r\n"
    );
    assert_eq!(
        h.say("NOOP\r\n"),
        "503 5.7.0 Error: access denied for unknown[127.0.0.1]\r\n"
    );
    // A 421 greeting closes at once.
    let config = SmtpConfig {
        greeting: SmtpGreeting::Custom(
            SmtpReply::parse("421 4.3.2 Service shutting down").unwrap(),
        ),
        ..SmtpConfig::default()
    };
    let (written, actions) = open(config, true).exchange("");
    assert_eq!(written, "421 4.3.2 Service shutting down\r\n");
    assert!(actions.contains(&Action::Close), "{actions:?}");
}

#[test]
fn oversized_lines_close_the_connection() {
    let mut h = open(SmtpConfig::default(), true);
    h.say("");
    let (written, actions) = h.exchange(&"A".repeat(MAX_LINE + 1));
    assert_eq!(written, "500 5.5.0 Error: line too long\r\n");
    assert_eq!(actions, [Action::Close]);
}

#[test]
fn auth_can_be_switched_off_and_relay_denied_for_everyone() {
    let config = SmtpConfig {
        offer_auth: false,
        ..SmtpConfig::default()
    };
    let mut h = open(config, true);
    h.say("");
    assert!(!h.say("EHLO c\r\n").contains("AUTH"));
    assert_eq!(
        h.say("AUTH PLAIN x\r\n"),
        "503 5.5.1 Error: authentication not enabled\r\n"
    );
    let config = SmtpConfig {
        relay_denied: true,
        ..SmtpConfig::default()
    };
    let mut h = open(config, true);
    assert!(h.login().starts_with("235 "));
    h.say("MAIL FROM:<a@b>\r\n");
    assert_eq!(
        h.say("RCPT TO:<bcc@crm.example>\r\n"),
        "554 5.7.1 <bcc@crm.example>: Relay access denied\r\n"
    );
}

fn hostile(rules: &str) -> SmtpConfig {
    SmtpConfig {
        hostile: crate::hostile::parse_rules(rules),
        ..SmtpConfig::default()
    }
}

#[test]
fn a_hostile_greeting_replaces_the_standard_one() {
    let mut session = open(
        hostile("[[hostile]]\nat = 'greeting'\nsend = '999 odd\\xff\\r\\n'\n"),
        true,
    );
    session.session.feed(b"");
    let mut sent = Vec::new();
    while let Some(action) = session.session.next_action() {
        if let Action::Send(bytes) = action {
            sent.extend(bytes);
        }
    }
    assert_eq!(sent, b"999 odd\xff\r\n");
    // The session goes on as after its own greeting.
    assert!(session.say("EHLO client.example\r\n").starts_with("250-"));
}

#[test]
fn the_reply_after_the_final_dot_can_be_hostile_and_the_message_is_kept() {
    let mut session = open(
        hostile("[[hostile]]\nat = 'message'\nsend = 'queued\\r\\n'\nthen = 'close'\n"),
        true,
    );
    session.say("");
    session.login();
    session.say("MAIL FROM:<alice@example.com>\r\n");
    session.say("RCPT TO:<bcc@crm.example>\r\n");
    session.say("DATA\r\n");
    let (written, others) = session.exchange("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
    assert_eq!(written, "queued\r\n");
    assert_eq!(others, vec![Action::Close]);
    assert_eq!(session.messages.lock().unwrap().len(), 1);
}

#[test]
fn postfix_answers_vrfy_etrn_and_commands_before_starttls_as_the_real_one_did() {
    // Before STARTTLS on a port that requires TLS (seen on the real-server container).
    let config = SmtpConfig {
        security: Security::Starttls,
        ..SmtpConfig::default()
    };
    let mut h = open(config, false);
    h.say("EHLO c\r\n");
    for command in ["VRFY alice", "ETRN example.com", "RSET", "MAIL FROM:<a@b>"] {
        assert_eq!(
            h.say(&format!("{command}\r\n")),
            "530 5.7.0 Must issue a STARTTLS command first\r\n",
            "{command}"
        );
    }
    assert_eq!(h.say("NOOP\r\n"), "250 2.0.0 Ok\r\n");
    // Over TLS: VRFY is a recipient check, ETRN is unavailable.
    let mut h = open(SmtpConfig::default(), true);
    h.say("EHLO c\r\n");
    assert_eq!(
        h.say("VRFY alice\r\n"),
        "554 5.7.1 <alice>: Relay access denied\r\n"
    );
    assert_eq!(
        h.say("ETRN example.com\r\n"),
        "459 <example.com>: service unavailable\r\n"
    );
    assert!(h.login().starts_with("235 "));
    assert_eq!(
        h.say("VRFY <bcc@crm.example>\r\n"),
        "252 2.0.0 <bcc@crm.example>\r\n"
    );
    // Gmail offers neither.
    let config = SmtpConfig {
        personality: SmtpPersonality::Gmail,
        ..SmtpConfig::default()
    };
    let mut h = open(config, true);
    h.say("EHLO c\r\n");
    assert!(
        h.say("ETRN example.com\r\n")
            .starts_with("502 5.5.1 Unrecognized command.")
    );
}

#[test]
fn auth_is_accepted_exactly_as_the_ehlo_reply_advertises_it() {
    let cram_only = SmtpConfig {
        replies: SmtpReplies {
            ehlo: Some(SmtpReply::parse("250-localhost\n250-AUTH CRAM-MD5\n250 8BITMIME").unwrap()),
            ..SmtpReplies::default()
        },
        ..SmtpConfig::default()
    };
    let mut h = open(cram_only, true);
    h.say("");
    h.say("EHLO c\r\n");
    let plain = STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    assert_eq!(
        h.say(&format!("AUTH PLAIN {plain}\r\n")),
        "535 5.7.8 Error: authentication failed: Invalid authentication mechanism\r\n"
    );
    let no_auth = SmtpConfig {
        replies: SmtpReplies {
            ehlo: Some(SmtpReply::parse("250-localhost\n250 8BITMIME").unwrap()),
            ..SmtpReplies::default()
        },
        ..SmtpConfig::default()
    };
    let mut h = open(no_auth, true);
    h.say("");
    h.say("EHLO c\r\n");
    assert_eq!(
        h.say(&format!("AUTH PLAIN {plain}\r\n")),
        "503 5.5.1 Error: authentication not enabled\r\n"
    );
}

#[test]
fn the_ehlo_reply_over_tls_can_differ_from_the_one_before() {
    let config = SmtpConfig {
        security: Security::Starttls,
        replies: SmtpReplies {
            ehlo: Some(SmtpReply::parse("250-localhost\n250 STARTTLS").unwrap()),
            ehlo_tls: Some(SmtpReply::parse("250-localhost\n250 AUTH LOGIN").unwrap()),
            ..SmtpReplies::default()
        },
        ..SmtpConfig::default()
    };
    let mut h = open(config, false);
    h.say("");
    assert_eq!(h.say("EHLO c\r\n"), "250-localhost\r\n250 STARTTLS\r\n");
    let (written, actions) = h.exchange("STARTTLS\r\n");
    assert!(written.starts_with("220 "), "{written}");
    assert_eq!(actions, [Action::StartTls]);
    h.session.tls_started();
    assert_eq!(h.say("EHLO c\r\n"), "250-localhost\r\n250 AUTH LOGIN\r\n");
    let plain = STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    assert!(
        h.say(&format!("AUTH PLAIN {plain}\r\n"))
            .starts_with("535 "),
        "PLAIN is not advertised over TLS"
    );
}

#[test]
fn a_refused_auth_is_announced_to_the_driver_before_its_reply() {
    let config = SmtpConfig {
        auth: SmtpAuth::WrongCredentials,
        ..SmtpConfig::default()
    };
    let mut h = open(config, true);
    h.say("");
    h.say("EHLO c\r\n");
    let plain = STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    h.session.feed(format!("AUTH PLAIN {plain}\r\n").as_bytes());
    assert_eq!(h.session.next_action(), Some(Action::LoginRefused));
    assert!(matches!(h.session.next_action(), Some(Action::Send(_))));
    let mut h = open(SmtpConfig::default(), true);
    h.say("");
    h.say("EHLO c\r\n");
    let (_, actions) = h.exchange(&format!("AUTH PLAIN {plain}\r\n"));
    assert!(!actions.contains(&Action::LoginRefused), "{actions:?}");
}

fn with_tokens(
    personality: SmtpPersonality,
    tokens: &crate::oauth::Tokens,
    scope: &str,
) -> SmtpConfig {
    SmtpConfig {
        personality,
        bearer: Some(crate::oauth::BearerCheck {
            tokens: tokens.clone(),
            scope: scope.into(),
        }),
        ..SmtpConfig::default()
    }
}

fn xoauth2(user: &str, token: &str) -> String {
    STANDARD.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

#[test]
fn a_bearer_token_authenticates_and_sends() {
    const MAIL: &str = "https://mail.google.com/";
    let tokens = crate::oauth::Tokens::default();
    let token = tokens.issue(USER, &[MAIL.to_owned()], std::time::Duration::from_secs(60));
    let mut h = open(with_tokens(SmtpPersonality::Gmail, &tokens, MAIL), true);
    h.say("EHLO c\r\n");
    let payload = xoauth2(USER, &token);
    assert_eq!(
        h.say(&format!("AUTH XOAUTH2 {payload}\r\n")),
        "235 2.7.0 Accepted\r\n"
    );
    h.say("MAIL FROM:<alice@example.com>\r\n");
    assert!(h.say("RCPT TO:<bcc@crm.example>\r\n").starts_with("250 "));
    let transcript = format!("{:?}", h.transcript.snapshot());
    assert!(!transcript.contains(&token) && !transcript.contains(&payload));
}

#[test]
fn refused_tokens_get_each_providers_answer() {
    const MAIL: &str = "https://mail.google.com/";
    let tokens = crate::oauth::Tokens::default();
    let expired = tokens.issue(USER, &[MAIL.to_owned()], std::time::Duration::ZERO);
    // Gmail: the JSON challenge, the client's empty answer, then its 535-5.7.8.
    let mut h = open(with_tokens(SmtpPersonality::Gmail, &tokens, MAIL), true);
    h.say("EHLO c\r\n");
    assert_eq!(
        h.say(&format!("AUTH XOAUTH2 {}\r\n", xoauth2(USER, &expired))),
        "334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n"
    );
    let (reply, actions) = h.exchange("\r\n");
    assert!(
        reply.starts_with("535-5.7.8 Username and Password not accepted."),
        "{reply}"
    );
    assert!(actions.contains(&Action::LoginRefused));
    // Office 365: its own 535 5.7.3 at once; a password still gets 535 5.7.139.
    let scope = "https://outlook.office.com/SMTP.Send";
    let mut h = open(
        with_tokens(SmtpPersonality::Office365, &tokens, scope),
        true,
    );
    h.say("EHLO c\r\n");
    assert_eq!(
        h.say(&format!("AUTH XOAUTH2 {}\r\n", xoauth2(USER, &expired))),
        "535 5.7.3 Authentication unsuccessful [AM0PR06CA0126.eurprd06.prod.outlook.com 2024-02-14T14:50:26.590Z 08DC2D372B4C3DED]\r\n"
    );
    assert!(
        h.say(&format!("AUTH LOGIN {}\r\n", STANDARD.encode(USER)))
            .starts_with("334 ")
    );
    assert!(
        h.say(&format!("{}\r\n", STANDARD.encode("wrong")))
            .starts_with("535 5.7.139 ")
    );
}
