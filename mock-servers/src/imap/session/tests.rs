//! The IMAP state machine with byte literals: no sockets.

use super::*;
use crate::config::{Policy, Security, User};
use crate::imap::ImapPersonality;
use crate::transcript::Direction;
use base64::Engine;

const USER: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery staple";

struct Harness {
    session: ImapSession,
    transcript: TranscriptHandle,
}

fn open(config: ImapConfig, tls: bool, counts: SessionCounts) -> Harness {
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let transcript = TranscriptHandle::new(peer);
    let store = Mailstore::new();
    config.provision(&store);
    let mut session = ImapSession::new(
        Arc::new(config),
        peer,
        tls,
        counts,
        transcript.clone(),
        store,
    );
    session.start();
    Harness {
        session,
        transcript,
    }
}

impl Harness {
    /// Feeds `input` and returns what the server wrote (as text) and the other actions.
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
}

fn starttls_config() -> ImapConfig {
    ImapConfig {
        security: Security::Starttls,
        ..ImapConfig::default()
    }
}

#[test]
fn dovecot_greeting_follows_the_security_mode() {
    let mut imaps = open(ImapConfig::default(), true, SessionCounts::default());
    assert_eq!(
        imaps.say(""),
        "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n"
    );
    let mut plain = open(starttls_config(), false, SessionCounts::default());
    assert_eq!(
        plain.say(""),
        "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n"
    );
}

#[test]
fn cleartext_login_is_refused_until_starttls() {
    let mut h = open(starttls_config(), false, SessionCounts::default());
    h.say("");
    let reply = h.say(&format!("a1 LOGIN {USER} \"{PASSWORD}\"\r\n"));
    assert!(reply.starts_with("* BAD [ALERT] Plaintext authentication not allowed"));
    assert!(reply.ends_with("a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"));

    // STARTTLS with a command injected behind it in the same packet.
    let (written, actions) = h.exchange("a2 STARTTLS\r\na3 LOGIN injected x\r\n");
    assert_eq!(written, "a2 OK Begin TLS negotiation now.\r\n");
    assert_eq!(actions, [Action::StartTls]);
    assert_eq!(h.session.take_unread(), b"a3 LOGIN injected x\r\n");
    h.session.tls_started();
    let caps = h.say("a4 CAPABILITY\r\n");
    assert!(caps.contains("AUTH=PLAIN AUTH=LOGIN"), "{caps}");
    assert!(!caps.contains("STARTTLS"), "{caps}");
    let (written, actions) = h.exchange(&format!("a5 LOGIN {USER} \"{PASSWORD}\"\r\n"));
    // The client asked for the capabilities (a4): the new ones come untagged.
    assert!(
        written.starts_with("* CAPABILITY IMAP4rev1 SASL-IR"),
        "{written}"
    );
    assert!(written.ends_with(" SPECIAL-USE\r\na5 OK Logged in\r\n"));
    assert_eq!(actions, [Action::Reached(Milestone::AfterLogin)]);
}

#[test]
fn stripped_starttls_is_neither_offered_nor_accepted() {
    let config = ImapConfig {
        security: Security::StarttlsStripped,
        ..ImapConfig::default()
    };
    let mut h = open(config, false, SessionCounts::default());
    let greeting = h.say("");
    assert!(!greeting.contains("STARTTLS") && greeting.contains("LOGINDISABLED"));
    assert_eq!(
        h.say("a STARTTLS\r\n"),
        "a BAD TLS support isn't enabled.\r\n"
    );
    assert!(
        h.say("b LOGIN alice pw\r\n")
            .contains("b NO [PRIVACYREQUIRED]")
    );
}

#[test]
fn login_outcomes() {
    let login = format!("a LOGIN \"{USER}\" \"{PASSWORD}\"\r\n");
    let cases = [
        (
            ImapLogin::WrongCredentials,
            "a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
        ),
        (
            ImapLogin::AppPasswordRequired,
            "a NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)\r\n",
        ),
        (
            ImapLogin::Unavailable,
            "a NO [UNAVAILABLE] Temporary authentication failure.\r\n",
        ),
        (
            ImapLogin::Custom("NO [ALERT] Your account is not enabled for IMAP use.".into()),
            "a NO [ALERT] Your account is not enabled for IMAP use.\r\n",
        ),
    ];
    for (outcome, expected) in cases {
        let config = ImapConfig {
            login: outcome,
            ..ImapConfig::default()
        };
        let mut h = open(config, true, SessionCounts::default());
        h.say("");
        assert_eq!(h.say(&login), expected);
    }
    let mut h = open(ImapConfig::default(), true, SessionCounts::default());
    h.say("");
    assert_eq!(
        h.say(&format!("a LOGIN \"{USER}\" wrong\r\n")),
        "a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
    );
}

#[test]
fn dovecot_sends_new_capabilities_untagged_to_a_client_that_asked_before() {
    let post = ImapPersonality::Dovecot.texts().post_login_capabilities;
    let login = format!("b LOGIN \"{USER}\" \"{PASSWORD}\"\r\n");
    let mut h = open(ImapConfig::default(), true, SessionCounts::default());
    h.say("");
    assert_eq!(
        h.say(&login.replace("b ", "a ")),
        format!("a OK [CAPABILITY {post}] Logged in\r\n")
    );
    // containers/captures/dovecot-capability-then-login.txt
    let mut h = open(ImapConfig::default(), true, SessionCounts::default());
    h.say("");
    h.say("a CAPABILITY\r\n");
    assert_eq!(
        h.say(&login),
        format!("* CAPABILITY {post}\r\nb OK Logged in\r\n")
    );
}

#[test]
fn custom_username_differs_from_the_email() {
    let config = ImapConfig {
        users: vec![User {
            login: "alice".into(),
            password: "pw".into(),
        }],
        ..ImapConfig::default()
    };
    let mut h = open(config, true, SessionCounts::default());
    h.say("");
    assert!(
        h.say("a LOGIN alice@example.com pw\r\n")
            .contains("a NO [AUTHENTICATIONFAILED]")
    );
    assert!(h.say("b LOGIN alice pw\r\n").contains("b OK"));
}

#[test]
fn literals_get_a_continuation_and_are_redacted() {
    let mut h = open(ImapConfig::default(), true, SessionCounts::default());
    h.say("");
    assert_eq!(
        h.say(&format!("a LOGIN {{{}}}\r\n", USER.len())),
        "+ OK\r\n"
    );
    assert_eq!(
        h.say(&format!("{USER} {{{}}}\r\n", PASSWORD.len())),
        "+ OK\r\n"
    );
    assert!(h.say(&format!("{PASSWORD}\r\n")).starts_with("a OK"));
    // A non-synchronising literal gets no continuation.
    let mut h2 = open(ImapConfig::default(), true, SessionCounts::default());
    h2.say("");
    assert!(
        h2.say(&format!(
            "b LOGIN {USER} {{{}+}}\r\n{PASSWORD}\r\n",
            PASSWORD.len()
        ))
        .starts_with("b OK")
    );
    for h in [&h, &h2] {
        let transcript = h.transcript.snapshot();
        assert!(!transcript.contains("horse"), "{transcript}");
        assert!(
            transcript.contains(&format!("LOGIN \"{USER}\" {REDACTED}")),
            "{transcript}"
        );
    }
}

#[test]
fn authenticate_plain_with_and_without_initial_response() {
    let payload = base64::engine::general_purpose::STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    let mut h = open(ImapConfig::default(), true, SessionCounts::default());
    h.say("");
    assert!(
        h.say(&format!("a AUTHENTICATE PLAIN {payload}\r\n"))
            .starts_with("a OK [CAPABILITY")
    );
    let mut h2 = open(ImapConfig::default(), true, SessionCounts::default());
    h2.say("");
    assert_eq!(h2.say("b AUTHENTICATE PLAIN\r\n"), "+ \r\n");
    assert!(h2.say(&format!("{payload}\r\n")).starts_with("b OK"));
    let mut h3 = open(ImapConfig::default(), true, SessionCounts::default());
    h3.say("");
    assert_eq!(
        h3.say("c AUTHENTICATE CRAM-MD5\r\n"),
        "c NO Unsupported authentication mechanism.\r\n"
    );
    assert_eq!(h3.say("d AUTHENTICATE PLAIN\r\n"), "+ \r\n");
    assert_eq!(
        h3.say("*\r\n"),
        "d BAD Authentication aborted by client.\r\n"
    );
    for h in [&h, &h2] {
        let transcript = h.transcript.snapshot();
        assert!(
            !transcript.contains(&payload) && !transcript.contains("horse"),
            "{transcript}"
        );
    }
}

#[test]
fn connection_limit_counts_authenticated_sessions() {
    let config = ImapConfig {
        max_connections_per_user: Some(2),
        ..ImapConfig::default()
    };
    let counts = SessionCounts::default();
    let login = format!("a LOGIN {USER} \"{PASSWORD}\"\r\n");
    let mut sessions: Vec<Harness> = (0..3)
        .map(|_| open(config.clone(), true, counts.clone()))
        .collect();
    let replies: Vec<String> = sessions.iter_mut().map(|h| h.say(&login)).collect();
    assert!(replies[0].contains("a OK") && replies[1].contains("a OK"));
    assert!(replies[2].ends_with(
        "a NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=2)\r\n"
    ));
    // Dovecot closes the refused connection: it answers nothing more.
    assert_eq!(sessions[2].exchange("b NOOP\r\n"), (String::new(), vec![]));
    // Closing one session frees its slot.
    sessions.remove(0);
    let mut again = open(config, true, counts);
    assert!(again.say(&login).contains("a OK"));
}

#[test]
fn an_initial_response_needs_sasl_ir_advertised() {
    // Courier-IMAP lists no SASL-IR: its AUTHENTICATE takes the response after `+ ` only.
    let payload = base64::engine::general_purpose::STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    let config = ImapConfig {
        personality: ImapPersonality::Courier,
        ..ImapConfig::default()
    };
    let mut h = open(config.clone(), true, SessionCounts::default());
    h.say("");
    assert_eq!(
        h.say(&format!("a AUTHENTICATE PLAIN {payload}\r\n")),
        "a BAD Error in IMAP command AUTHENTICATE: Invalid arguments.\r\n"
    );
    assert_eq!(h.say("b AUTHENTICATE PLAIN\r\n"), "+ \r\n");
    assert!(h.say(&format!("{payload}\r\n")).starts_with("b OK"));
}

#[test]
fn courier_identifies_itself_by_greeting_and_capabilities() {
    let config = ImapConfig {
        personality: ImapPersonality::Courier,
        ..ImapConfig::default()
    };
    let mut h = open(config, true, SessionCounts::default());
    assert_eq!(
        h.say(""),
        "* OK [CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE AUTH=PLAIN ACL ACL2=UNION ENABLE UTF8=ACCEPT] Courier-IMAP ready. Copyright 1998-2019 Double Precision, Inc.  See COPYING for distribution information.\r\n"
    );
    // Debian's Courier 5.0.13 has no ID command.
    assert_eq!(
        h.say("a ID (\"name\" \"connector\")\r\n"),
        "a NO Error in IMAP command received by server.\r\n"
    );
    assert!(h.say("b CAPABILITY\r\n").contains(
        "THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE AUTH=PLAIN ACL ACL2=UNION"
    ));
    assert_eq!(
        h.say(&format!("c LOGIN {USER} \"{PASSWORD}\"\r\n")),
        "c OK LOGIN Ok.\r\n"
    );
}

#[test]
fn courier_before_starttls_as_debian_ships_it() {
    let config = ImapConfig {
        personality: ImapPersonality::Courier,
        security: Security::Starttls,
        ..ImapConfig::default()
    };
    let mut h = open(config, false, SessionCounts::default());
    assert!(h.say("").starts_with(
        "* OK [CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION STARTTLS LOGINDISABLED ENABLE UTF8=ACCEPT] Courier-IMAP ready."
    ));
    assert_eq!(h.say("a LOGIN alice pw\r\n"), "a NO STARTTLS required\r\n");
    assert_eq!(
        h.say("b STARTTLS\r\n"),
        "b OK Begin SSL/TLS negotiation now.\r\n"
    );
}

#[test]
fn custom_none_and_garbage_greetings() {
    let custom = ImapConfig {
        greeting: ImapGreeting::Custom("* OK IMAP ready".into()),
        personality: ImapPersonality::Courier,
        ..ImapConfig::default()
    };
    assert_eq!(
        open(custom, true, SessionCounts::default()).say(""),
        "* OK IMAP ready\r\n"
    );
    let none = ImapConfig {
        greeting: ImapGreeting::None,
        ..ImapConfig::default()
    };
    let mut h = open(none, true, SessionCounts::default());
    assert_eq!(h.say(""), "");
    assert!(h.say("a NOOP\r\n").contains("a OK"));
    let garbage = ImapConfig {
        greeting: ImapGreeting::Garbage,
        ..ImapConfig::default()
    };
    let mut h = open(garbage, true, SessionCounts::default());
    assert!(h.say("").starts_with("SSH-2.0-"));
    assert_eq!(h.say("a CAPABILITY\r\n"), "");
}

#[test]
fn list_shows_inbox_sent_and_further_folders() {
    let config = ImapConfig {
        folders: vec!["Archive".into(), "Projects.2026".into()],
        ..ImapConfig::default()
    };
    let mut h = open(config, true, SessionCounts::default());
    h.say(&format!("a LOGIN {USER} \"{PASSWORD}\"\r\n"));
    assert_eq!(
        h.say("b LIST \"\" \"*\"\r\n"),
        "* LIST (\\HasNoChildren) \".\" INBOX\r\n\
         * LIST (\\HasNoChildren \\Sent) \".\" Sent\r\n\
         * LIST (\\HasNoChildren) \".\" Archive\r\n\
         * LIST (\\Noselect \\HasChildren) \".\" Projects\r\n\
         * LIST (\\HasNoChildren) \".\" Projects.2026\r\n\
         b OK List completed (0.001 + 0.000 secs).\r\n"
    );
    let top_level = h.say("c LIST \"\" %\r\n");
    assert!(top_level.contains("Archive") && !top_level.contains("Projects.2026"));
    assert_eq!(
        h.say("d LIST \"\" \"\"\r\n"),
        "* LIST (\\Noselect) \".\" \"\"\r\nd OK List completed (0.001 + 0.000 secs).\r\n"
    );
    assert!(
        h.say("e SELECT inbox\r\n")
            .ends_with("e OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n")
    );
    assert_eq!(
        h.say("f EXAMINE Nope\r\n"),
        "* OK [CLOSED] Previous mailbox closed.\r\n\
         f NO Mailbox doesn't exist: Nope (0.001 + 0.000 secs).\r\n"
    );
}

#[test]
fn commands_before_login_and_unknown_commands() {
    let mut h = open(ImapConfig::default(), true, SessionCounts::default());
    h.say("");
    // Before login Dovecot answers every other command alike
    // (containers/captures/dovecot-mailbox.txt).
    assert_eq!(
        h.say("a LIST \"\" *\r\n"),
        "a BAD Error in IMAP command received by server.\r\n"
    );
    assert_eq!(
        h.say("b FROB\r\n"),
        "b BAD Error in IMAP command received by server.\r\n"
    );
    assert_eq!(
        h.say("c LOGIN \"open\r\n"),
        "c BAD Error in IMAP command LOGIN: Invalid arguments.\r\n"
    );
    let (written, actions) = h.exchange("d LOGOUT\r\n");
    assert_eq!(
        written,
        "* BYE Logging out\r\nd OK Logout completed (0.001 + 0.000 secs).\r\n"
    );
    assert_eq!(actions, [Action::Close]);
}

#[test]
fn hostile_input_ends_the_connection() {
    let mut h = open(ImapConfig::default(), true, SessionCounts::default());
    h.say("");
    let (written, actions) = h.exchange(&"x".repeat(MAX_LINE + 10));
    assert_eq!(written, "* BYE Command line too long\r\n");
    assert_eq!(actions, [Action::Close]);
    let mut h = open(ImapConfig::default(), true, SessionCounts::default());
    h.say("");
    let (written, actions) = h.exchange("a LOGIN {999999999}\r\n");
    assert_eq!(written, "* BYE Literal too large\r\n");
    assert_eq!(actions, [Action::Close]);
}

#[test]
fn allowlist_refuses_strangers_at_login() {
    let config = ImapConfig {
        allowlist: Some(Policy {
            sources: vec!["127.0.0.2/32".parse().unwrap()],
            refuse_at: ImapRefusal::Login,
            refusal_text: None,
        }),
        ..ImapConfig::default()
    };
    let mut h = open(config, true, SessionCounts::default());
    h.say("");
    assert_eq!(
        h.say(&format!("a LOGIN {USER} \"{PASSWORD}\"\r\n")),
        "a NO [CONTACTADMIN] Login from this address is not allowed.\r\n"
    );
    let lines: Vec<_> = h
        .transcript
        .snapshot()
        .lines(Direction::Client)
        .map(str::to_owned)
        .collect();
    assert_eq!(lines, [format!("a LOGIN \"{USER}\" {REDACTED}")]);
}

#[test]
fn list_wildcards_match_as_rfc_3501_says() {
    let cases = [
        ("*", "Archive/2024", true),
        ("%", "Archive/2024", false),
        ("%", "Archive", true),
        ("Archive/%", "Archive/2024", true),
        ("Arch*24", "Archive/2024", true),
        ("Arch%24", "Archive/2024", false),
        ("inbox", "INBOX", true),
        ("Sent", "Sent", true),
        ("Sent", "Sentx", false),
        ("", "", true),
        ("*%*%", "", true),
    ];
    for (pattern, name, expected) in cases {
        assert_eq!(
            wildcard_match(pattern, name, '/'),
            expected,
            "{pattern} {name}"
        );
    }
    // Many wildcards stay fast (backtracking took seconds for 20).
    let pattern = format!("{}z", "*%".repeat(200));
    assert!(!wildcard_match(&pattern, &"a".repeat(200), '/'));
}

fn hostile(rules: &str) -> ImapConfig {
    ImapConfig {
        hostile: crate::hostile::parse_rules(rules),
        ..ImapConfig::default()
    }
}

#[test]
fn a_hostile_login_reply_keeps_the_login_and_the_tag() {
    let mut session = open(
        hostile("[[hostile]]\nat = 'login'\nsend = '{tag} MAYBE\\x00\\r\\n'\n"),
        true,
        SessionCounts::default(),
    );
    session.say("");
    let (written, others) = session.exchange(&format!("a1 LOGIN {USER} \"{PASSWORD}\"\r\n"));
    assert_eq!(written, "a1 MAYBE\0\r\n");
    // The login took effect all the same: the milestone, and the next command is answered
    // as a logged-in session's.
    assert_eq!(others, vec![Action::Reached(Milestone::AfterLogin)]);
    assert!(session.say("a2 SELECT INBOX\r\n").contains("a2 OK"));
}

#[test]
fn bye_after_login_then_close() {
    let mut session = open(
        hostile(
            "[[hostile]]\nat = 'after-login'\nsend = '* BYE Autologout\\r\\n'\nthen = 'close'\n",
        ),
        true,
        SessionCounts::default(),
    );
    session.say("");
    let (written, others) = session.exchange(&format!(
        "a1 LOGIN {USER} \"{PASSWORD}\"\r\na2 LIST \"\" *\r\n"
    ));
    assert!(written.starts_with("a1 OK"), "{written}");
    assert!(
        written.ends_with("Logged in\r\n* BYE Autologout\r\n"),
        "{written}"
    );
    // Closed: the pipelined LIST is never answered, the milestone never reached.
    assert_eq!(others, vec![Action::Close]);
}

#[test]
fn a_flooding_greeting_and_silence() {
    let mut session = open(
        hostile("[[hostile]]\nat = 'greeting'\nsend = '* OK '\nrepeat = 'a'\n"),
        true,
        SessionCounts::default(),
    );
    let (written, others) = session.exchange("");
    assert_eq!(written, "* OK ");
    assert_eq!(
        others,
        vec![
            Action::Flood {
                bytes: b"a".to_vec(),
                times: None
            },
            Action::Reached(Milestone::AfterGreeting)
        ]
    );
    let mut silent = open(
        hostile("[[hostile]]\nat = 'capability'\nthen = 'silence'\n"),
        true,
        SessionCounts::default(),
    );
    silent.say("");
    assert_eq!(
        silent.exchange("a1 CAPABILITY\r\na2 NOOP\r\n"),
        (String::new(), vec![])
    );
}

#[test]
fn a_greeting_s_status_is_the_session_s_state_and_a_login_can_end_in_bye() {
    // BYE: sent, then the close (RFC 3501 §7.1.5).
    let bye = ImapConfig {
        greeting: ImapGreeting::Custom("* BYE Too many connections from your address".into()),
        ..ImapConfig::default()
    };
    let (written, actions) = open(bye, true, SessionCounts::default()).exchange("");
    assert_eq!(written, "* BYE Too many connections from your address\r\n");
    assert!(actions.contains(&Action::Close), "{actions:?}");
    // PREAUTH: logged in without LOGIN.
    let preauth = ImapConfig {
        greeting: ImapGreeting::Custom("* PREAUTH IMAP ready for alice".into()),
        ..ImapConfig::default()
    };
    let mut h = open(preauth, true, SessionCounts::default());
    h.say("");
    assert!(
        h.say("a SELECT INBOX\r\n").contains("* 3 EXISTS"),
        "the first user's INBOX"
    );
    // Authenticated: STARTTLS and LOGIN belong to the state before (RFC 3501 §6.2) and are
    // refused, as unknown commands, without starting TLS.
    let preauth_cleartext = ImapConfig {
        greeting: ImapGreeting::Custom("* PREAUTH IMAP ready for alice".into()),
        ..starttls_config()
    };
    let mut h = open(preauth_cleartext, false, SessionCounts::default());
    h.say("");
    let (written, actions) = h.exchange("b STARTTLS\r\n");
    assert_eq!(
        written,
        "b BAD Error in IMAP command STARTTLS: Unknown command (0.001 + 0.000 secs).\r\n"
    );
    assert!(!actions.contains(&Action::StartTls), "{actions:?}");
    assert!(
        h.say(&format!("c LOGIN \"{USER}\" \"{PASSWORD}\"\r\n"))
            .starts_with("c BAD")
    );
    // A LOGIN answered with an untagged BYE, and the close.
    let login_bye = ImapConfig {
        login: ImapLogin::Custom("* BYE Too many invalid authentication attempts".into()),
        ..ImapConfig::default()
    };
    let mut h = open(login_bye, true, SessionCounts::default());
    h.say("");
    let (written, actions) = h.exchange(&format!("a LOGIN \"{USER}\" \"{PASSWORD}\"\r\n"));
    assert_eq!(
        written,
        "* BYE Too many invalid authentication attempts\r\n"
    );
    assert!(actions.contains(&Action::Close), "{actions:?}");
}

#[test]
fn a_refused_login_is_announced_to_the_driver_before_its_reply() {
    let config = ImapConfig {
        login: ImapLogin::WrongCredentials,
        ..ImapConfig::default()
    };
    let mut h = open(config, true, SessionCounts::default());
    h.say("");
    h.session
        .feed(format!("a LOGIN \"{USER}\" \"{PASSWORD}\"\r\n").as_bytes());
    let first = h.session.next_action();
    assert_eq!(first, Some(Action::LoginRefused), "the pause comes first");
    assert!(matches!(h.session.next_action(), Some(Action::Send(_))));
    // A good login is not delayed.
    let mut h = open(ImapConfig::default(), true, SessionCounts::default());
    h.say("");
    let (_, actions) = h.exchange(&format!("a LOGIN \"{USER}\" \"{PASSWORD}\"\r\n"));
    assert!(!actions.contains(&Action::LoginRefused), "{actions:?}");
}

mod mailbox;

fn rule(to: &str, nth: Option<u32>, reply: &str) -> ImapReply {
    ImapReply {
        to: to.to_owned(),
        nth,
        reply: reply.to_owned(),
        before: Vec::new(),
    }
}

/// `[[imap.reply]]`: a refusal at the n-th use over the whole server, a BYE that closes,
/// an OK with extras after the command ran.
#[test]
fn replies_in_place_of_the_personality_s() {
    let mut throttled = rule("noop", None, "OK Success [THROTTLED]");
    throttled.before = vec!["* OK [ALERT] Slow down".to_owned()];
    let config = ImapConfig {
        reply: vec![
            rule(
                "select",
                Some(1),
                "NO [UNAVAILABLE] Account is temporarily unavailable.",
            ),
            rule("login", Some(2), "NO Server Unavailable. 15"),
            rule(
                "uid fetch",
                None,
                "* BYE Session invalidated - AccessTokenExpired",
            ),
            throttled,
        ],
        ..ImapConfig::default()
    };
    let counts = SessionCounts::default();
    let login = format!("a LOGIN {USER} \"{PASSWORD}\"\r\n");
    let mut first = open(config.clone(), true, counts.clone());
    first.say("");
    assert!(first.say(&login).starts_with("a OK"));
    assert_eq!(
        first.say("b SELECT INBOX\r\n"),
        "b NO [UNAVAILABLE] Account is temporarily unavailable.\r\n"
    );
    assert!(
        first
            .say("c SELECT INBOX\r\n")
            .contains("c OK [READ-WRITE]")
    );
    assert_eq!(
        first.say("d NOOP\r\n"),
        "* OK [ALERT] Slow down\r\nd OK Success [THROTTLED]\r\n"
    );
    assert!(
        first.say("e FETCH 1 UID\r\n").contains("e OK"),
        "FETCH is not UID FETCH"
    );
    let (reply, actions) = first.exchange("f UID FETCH 1 UID\r\n");
    assert_eq!(reply, "* BYE Session invalidated - AccessTokenExpired\r\n");
    assert_eq!(actions, [Action::Close]);
    // The second LOGIN on this server, from another connection.
    let mut second = open(config, true, counts);
    second.say("");
    assert_eq!(second.say(&login), "a NO Server Unavailable. 15\r\n");
    assert!(
        second.say("b SELECT INBOX\r\n").starts_with("b BAD"),
        "not logged in"
    );
    let transcript = second.transcript.snapshot().to_string();
    assert!(!transcript.contains(PASSWORD), "{transcript}");
}

#[test]
fn reply_rules_that_cannot_be_served_are_refused() {
    assert!(rule("select", None, "NO x").check().is_ok());
    assert!(rule("uid fetch", Some(2), "* BYE x").check().is_ok());
    assert!(
        rule("selcet", None, "NO x")
            .check()
            .unwrap_err()
            .contains("`to`")
    );
    assert!(rule("uid login", None, "NO x").check().is_err());
    assert!(
        rule("select", Some(0), "NO x")
            .check()
            .unwrap_err()
            .contains("nth")
    );
    assert!(
        rule("select", None, "* NO x")
            .check()
            .unwrap_err()
            .contains("`reply`")
    );
    assert!(rule("select", None, "NO x\r\ny").check().is_err());
    let mut untagged = rule("select", None, "NO x");
    untagged.before = vec!["OK y".to_owned()];
    assert!(untagged.check().unwrap_err().contains("untagged"));
}

/// An OK rule replaces only an OK: a wrong password stays refused.
#[test]
fn an_ok_reply_rule_keeps_a_refusal() {
    let config = ImapConfig {
        reply: vec![rule("login", None, "OK Welcome")],
        ..ImapConfig::default()
    };
    let mut h = open(config, true, SessionCounts::default());
    h.say("");
    let reply = h.say(&format!("a LOGIN {USER} wrong\r\n"));
    assert!(reply.starts_with("a NO [AUTHENTICATIONFAILED]"), "{reply}");
    let reply = h.say(&format!("b LOGIN {USER} \"{PASSWORD}\"\r\n"));
    assert_eq!(reply, "b OK Welcome\r\n");
}

/// A Gmail mock whose bearer tokens come from `tokens`, requiring Gmail's scope.
fn gmail_with_tokens(tokens: &crate::oauth::Tokens) -> ImapConfig {
    ImapConfig {
        personality: ImapPersonality::Gmail,
        bearer: Some(crate::oauth::BearerCheck {
            tokens: tokens.clone(),
            scope: "https://mail.google.com/".into(),
        }),
        ..ImapConfig::default()
    }
}

fn xoauth2(user: &str, token: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

#[test]
fn a_bearer_token_logs_in_with_xoauth2_and_oauthbearer() {
    let tokens = crate::oauth::Tokens::default();
    let scope = ["https://mail.google.com/".to_owned()];
    let token = tokens.issue(USER, &scope, std::time::Duration::from_secs(60));
    let mut h = open(gmail_with_tokens(&tokens), true, SessionCounts::default());
    h.say("");
    let reply = h.say(&format!(
        "a1 AUTHENTICATE XOAUTH2 {}\r\n",
        xoauth2(USER, &token)
    ));
    assert_eq!(reply, format!("a1 OK {USER} authenticated (Success)\r\n"));
    assert!(h.say("a2 SELECT INBOX\r\n").contains("a2 OK"));
    // OAUTHBEARER without an initial response: an empty challenge first.
    let mut h = open(gmail_with_tokens(&tokens), true, SessionCounts::default());
    h.say("");
    assert_eq!(h.say("b1 AUTHENTICATE OAUTHBEARER\r\n"), "+ \r\n");
    let payload = base64::engine::general_purpose::STANDARD
        .encode(format!("n,a={USER},\x01auth=Bearer {token}\x01\x01"));
    assert!(h.say(&format!("{payload}\r\n")).starts_with("b1 OK "));
    let transcript = format!("{:?}", h.transcript.snapshot());
    assert!(
        !transcript.contains(&token) && !transcript.contains(&payload),
        "the token never reaches the transcript, nor its base64 form: {transcript}"
    );
}

#[test]
fn a_refused_token_gets_gmails_challenge_then_its_refusal() {
    let tokens = crate::oauth::Tokens::default();
    let scope = ["https://mail.google.com/".to_owned()];
    let expired = tokens.issue(USER, &scope, std::time::Duration::ZERO);
    let other = tokens.issue(
        "mallory@example.com",
        &scope,
        std::time::Duration::from_secs(60),
    );
    let readonly = tokens.issue(
        USER,
        &["https://www.googleapis.com/auth/gmail.readonly".to_owned()],
        std::time::Duration::from_secs(60),
    );
    for token in [
        expired.as_str(),
        other.as_str(),
        readonly.as_str(),
        "made-up",
    ] {
        let mut h = open(gmail_with_tokens(&tokens), true, SessionCounts::default());
        h.say("");
        let reply = h.say(&format!(
            "a1 AUTHENTICATE XOAUTH2 {}\r\n",
            xoauth2(USER, token)
        ));
        assert_eq!(
            reply,
            "+ eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n"
        );
        let (reply, actions) = h.exchange("\r\n");
        assert_eq!(
            reply,
            "a1 NO Invalid SASL argument. qk7if1705226pac.117\r\n"
        );
        assert!(actions.contains(&Action::LoginRefused));
        assert!(h.say("a2 SELECT INBOX\r\n").contains("a2 BAD"));
    }
}

#[test]
fn exchange_refuses_a_token_at_once_and_oauthbearer_gets_rfc_7628s_challenge() {
    let tokens = crate::oauth::Tokens::default();
    let config = ImapConfig {
        personality: ImapPersonality::Office365,
        auth_mechanisms: Some(vec!["XOAUTH2".into(), "OAUTHBEARER".into()]),
        bearer: Some(crate::oauth::BearerCheck {
            tokens: tokens.clone(),
            scope: "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
        }),
        ..ImapConfig::default()
    };
    let mut h = open(config.clone(), true, SessionCounts::default());
    h.say("");
    let reply = h.say(&format!(
        "a1 AUTHENTICATE XOAUTH2 {}\r\n",
        xoauth2(USER, "nope")
    ));
    assert_eq!(reply, "a1 NO AUTHENTICATE failed.\r\n");
    let mut h = open(config, true, SessionCounts::default());
    h.say("");
    let payload = base64::engine::general_purpose::STANDARD
        .encode(format!("n,a={USER},\x01auth=Bearer nope\x01\x01"));
    let reply = h.say(&format!("a1 AUTHENTICATE OAUTHBEARER {payload}\r\n"));
    assert_eq!(reply, "+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n");
    assert_eq!(h.say("AQ==\r\n"), "a1 NO AUTHENTICATE failed.\r\n");
}
