//! The mock IMAP and SMTP sessions fed any bytes, split anywhere: they never panic, and
//! what they answer stays within a bounded size. The checks here run as proptest
//! properties in `cargo test` (a modest number of cases; `PROPTEST_CASES` raises it) and as
//! the cargo-fuzz targets in `fuzz/` (bench/README.md, "Fuzzing"), which is why the module
//! is public (hidden from the docs) and not only built for tests.
//!
//! The bound: a session echoes at most what the client sent (a tag, a mailbox name, a
//! recipient) plus its own text, so
//! - one answer (one `Send`) is at most [`ANSWER_OVERHEAD`] plus the longest command a
//!   session accepts (IMAP: a 16 KiB line and a 64 KiB literal, `imap/session.rs`; SMTP: a
//!   4 KiB line, `smtp/session.rs`);
//! - everything sent up to any point is at most the bytes fed so far plus
//!   [`ANSWER_OVERHEAD`] for each line fed and each chunk (a greeting, a `+ OK`
//!   continuation, a LIST of the configured folders, a multi-line EHLO each fit in it).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::config::{ImapRefusal, Policy, Security, SmtpRefusal};
use crate::imap::{ImapConfig, ImapGreeting, ImapLogin, ImapPersonality, ImapSession};
use crate::session::{Action, Session};
use crate::smtp::{
    SmtpAuth, SmtpConfig, SmtpGreeting, SmtpPersonality, SmtpReplies, SmtpReply, SmtpSession,
};
use crate::transcript::TranscriptHandle;

/// The most a session adds to what the client sent, per line fed (see the module doc).
pub const ANSWER_OVERHEAD: usize = 4 * 1024;
/// The longest IMAP command a session takes in: a line and a literal.
const IMAP_LONGEST_COMMAND: usize = 16 * 1024 + 64 * 1024;
/// The longest SMTP command line.
const SMTP_LONGEST_COMMAND: usize = 4 * 1024;

/// The account every configuration here knows (`User::default_users`), so generated and
/// fuzzed input can log in and reach the authenticated states.
pub const LOGIN: &str = "alice@example.com";
pub const PASSWORD: &str = "correct horse battery staple";

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().expect("a socket address")
}

/// One of the IMAP configurations the properties run against: each personality, each
/// security mode, each kind of greeting and login answer, folders and an allowlist.
pub fn imap_config(selector: u8) -> ImapConfig {
    let personality = ImapPersonality::ALL[usize::from(selector) % ImapPersonality::ALL.len()];
    let security = [
        Security::Plaintext,
        Security::ImplicitTls,
        Security::Starttls,
        Security::StarttlsStripped,
    ][usize::from(selector / 4) % 4];
    let greeting = match selector / 16 % 4 {
        0 | 1 => ImapGreeting::Standard,
        2 => ImapGreeting::Custom("* OK IMAP ready".into()),
        _ => ImapGreeting::Garbage,
    };
    let login = match selector / 64 {
        0 => ImapLogin::Ok,
        1 => ImapLogin::AppPasswordRequired,
        2 => ImapLogin::Custom("NO [ALERT] Your account is not enabled for IMAP use.".into()),
        _ => ImapLogin::Ok,
    };
    ImapConfig {
        personality,
        security,
        greeting,
        login,
        max_connections_per_user: selector.is_multiple_of(3).then_some(1),
        folders: vec!["Archive".into(), "Team/Sales".into(), "Entwürfe".into()],
        allowlist: selector.is_multiple_of(5).then(|| Policy {
            sources: vec!["127.0.0.2/32".parse().expect("a network")],
            refuse_at: ImapRefusal::Login,
            refusal_text: None,
        }),
        ..ImapConfig::default()
    }
}

/// One of the SMTP configurations the properties run against.
pub fn smtp_config(selector: u8) -> SmtpConfig {
    let reply = |text: &str| SmtpReply::parse(text).expect("a valid reply");
    let personality = SmtpPersonality::ALL[usize::from(selector) % SmtpPersonality::ALL.len()];
    let security = [
        Security::Plaintext,
        Security::ImplicitTls,
        Security::Starttls,
        Security::StarttlsStripped,
    ][usize::from(selector / 2) % 4];
    let greeting = match selector / 8 % 4 {
        0 | 1 => SmtpGreeting::Standard,
        2 => SmtpGreeting::Custom(reply("554 5.3.2 Service unavailable")),
        _ => SmtpGreeting::Garbage,
    };
    let auth = match selector / 32 % 4 {
        0 | 1 => SmtpAuth::Ok,
        2 => SmtpAuth::AppPasswordRequired,
        _ => SmtpAuth::Custom(reply("535 5.7.139 Authentication unsuccessful")),
    };
    SmtpConfig {
        personality,
        security,
        greeting,
        auth,
        require_auth: selector & 1 == 0,
        offer_auth: !selector.is_multiple_of(7),
        relay_denied: selector.is_multiple_of(11),
        replies: SmtpReplies {
            rcpt: selector
                .is_multiple_of(13)
                .then(|| reply("554 5.7.1 Relay access denied")),
            message: selector
                .is_multiple_of(17)
                .then(|| reply("552-5.3.4 Too big\n552 5.3.4 Sorry")),
            ..SmtpReplies::default()
        },
        allowlist: selector.is_multiple_of(5).then(|| Policy {
            sources: vec!["127.0.0.2/32".parse().expect("a network")],
            refuse_at: SmtpRefusal::Send,
            refusal_text: Some("554 5.7.1 Client host rejected: Access denied".into()),
        }),
        ..SmtpConfig::default()
    }
}

/// Drives `session` as the connection driver does (`connection.rs`: start, then feed each
/// chunk and take every action, a STARTTLS handshake always succeeding) and checks the
/// bounds of the module doc. Panics with the offending answer when one is broken.
fn drive(mut session: impl Session, longest_command: usize, chunks: &[&[u8]]) {
    let mut sent = 0usize;
    let mut budget = ANSWER_OVERHEAD;
    let mut closed = false;
    let take = |session: &mut dyn Session, sent: &mut usize, budget: usize| {
        while let Some(action) = session.next_action() {
            match action {
                Action::Send(bytes) => {
                    assert!(
                        bytes.len() <= ANSWER_OVERHEAD + longest_command,
                        "one answer of {} bytes: {:?}…",
                        bytes.len(),
                        String::from_utf8_lossy(&bytes[..200.min(bytes.len())])
                    );
                    *sent += bytes.len();
                    assert!(
                        *sent <= budget,
                        "{} bytes sent for a budget of {budget}; the last answer: {:?}",
                        *sent,
                        String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                    );
                }
                Action::StartTls => {
                    session.take_unread();
                    session.tls_started();
                }
                Action::Close => return true,
                Action::Reached(_) | Action::LoginRefused | Action::Compress => {}
                Action::Flood { .. } => {
                    panic!("a flood without a hostile rule (the configurations here set none)")
                }
            }
        }
        false
    };
    session.start();
    closed |= take(&mut session, &mut sent, budget);
    for chunk in chunks {
        if closed {
            break;
        }
        let lines = chunk.iter().filter(|&&b| b == b'\n').count();
        budget += chunk.len() + ANSWER_OVERHEAD * (lines + 1);
        session.feed(chunk);
        closed |= take(&mut session, &mut sent, budget);
    }
}

/// An IMAP session with `config`, on TLS or not, fed `chunks`.
pub fn check_imap(config: ImapConfig, tls: bool, chunks: &[&[u8]]) {
    let store = crate::imap::Mailstore::new();
    config.provision(&store);
    let session = ImapSession::new(
        Arc::new(config),
        peer(),
        tls,
        Default::default(),
        TranscriptHandle::new(peer()),
        store,
    );
    drive(session, IMAP_LONGEST_COMMAND, chunks);
}

/// An SMTP session with `config`, on TLS or not, fed `chunks`.
pub fn check_smtp(config: SmtpConfig, tls: bool, chunks: &[&[u8]]) {
    let session = SmtpSession::new(
        Arc::new(config),
        peer(),
        tls,
        Arc::new(Mutex::new(Vec::new())),
        TranscriptHandle::new(peer()),
        crate::imap::Mailstore::new(),
    );
    drive(session, SMTP_LONGEST_COMMAND, chunks);
}

/// A fuzzer's input as (configuration selector, TLS, chunks): the first byte picks the
/// configuration, the second whether the session runs on TLS and how the rest is cut into
/// chunks (of 1 to 64 bytes, from a little generator it seeds).
fn split(data: &[u8]) -> (u8, bool, Vec<&[u8]>) {
    let (selector, seed, rest) = match data {
        [selector, seed, rest @ ..] => (*selector, *seed, rest),
        _ => (0, 0, data),
    };
    let mut state = u32::from(seed) | 1;
    let mut chunks = Vec::new();
    let mut rest = rest;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let size = if seed & 2 == 0 {
            rest.len()
        } else {
            (state % 64 + 1) as usize
        };
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    (selector, seed & 1 == 1, chunks)
}

/// The IMAP fuzz target: any bytes.
pub fn fuzz_imap(data: &[u8]) {
    let (selector, tls, chunks) = split(data);
    check_imap(imap_config(selector), tls, &chunks);
}

/// The SMTP fuzz target: any bytes.
pub fn fuzz_smtp(data: &[u8]) {
    let (selector, tls, chunks) = split(data);
    check_smtp(smtp_config(selector), tls, &chunks);
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;
    use proptest::sample::select;

    /// 128 cases per property, or `PROPTEST_CASES`; no regression files left behind.
    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(128);
        ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::with_cases(cases)
        }
    }

    /// Cuts `bytes` at the given points (taken modulo its length).
    fn cut(bytes: &[u8], points: &[usize]) -> Vec<Vec<u8>> {
        let mut points: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
        points.push(0);
        points.push(bytes.len());
        points.sort_unstable();
        points
            .windows(2)
            .map(|w| bytes[w[0]..w[1]].to_vec())
            .collect()
    }

    fn plain(login: &str, password: &str) -> String {
        STANDARD.encode(format!("\0{login}\0{password}"))
    }

    /// IMAP input that reaches every state: real commands (a good login among them),
    /// literals, SASL exchanges, broken syntax, long tags and any bytes.
    fn imap_line() -> impl Strategy<Value = Vec<u8>> {
        let known = select(vec![
            "a CAPABILITY".to_owned(),
            "a NOOP".to_owned(),
            "a ID (\"name\" \"x\")".to_owned(),
            "a STARTTLS".to_owned(),
            format!("a LOGIN {LOGIN} \"{PASSWORD}\""),
            format!(
                "a LOGIN {{{}}}\r\n{LOGIN} {{{}+}}\r\n{PASSWORD}",
                LOGIN.len(),
                PASSWORD.len()
            ),
            "a LOGIN alice wrong".to_owned(),
            format!("a AUTHENTICATE PLAIN {}", plain(LOGIN, PASSWORD)),
            "a AUTHENTICATE PLAIN".to_owned(),
            plain(LOGIN, PASSWORD),
            "a AUTHENTICATE LOGIN".to_owned(),
            STANDARD.encode(LOGIN),
            STANDARD.encode(PASSWORD),
            "*".to_owned(),
            "a LIST \"\" *".to_owned(),
            "a LIST \"\" %".to_owned(),
            "a LIST \"\" \"\"".to_owned(),
            "a LIST Team/ %".to_owned(),
            "a SELECT INBOX".to_owned(),
            "a EXAMINE Archive".to_owned(),
            "a SELECT {7}".to_owned(),
            "a ENABLE UTF8=ACCEPT".to_owned(),
            "a CLOSE".to_owned(),
            "a UNSELECT".to_owned(),
            "a LOGOUT".to_owned(),
            "a {99999999999999999999}".to_owned(),
            "a LOGIN {5}".to_owned(),
            "a X (((((((((((((((((((((((((((((".to_owned(),
            "\"unterminated".to_owned(),
            "".to_owned(),
        ])
        .prop_map(String::into_bytes);
        prop_oneof![
            6 => known,
            1 => "[a-zA-Z0-9]{1,8} [A-Z]{1,12}( [ -~]{0,20}){0,3}".prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..64),
            1 => (1..20_000usize).prop_map(|n| [b"t".repeat(n), b" NOOP".to_vec()].concat()),
        ]
    }

    /// SMTP input that reaches every state: a full transaction, AUTH exchanges, DATA with
    /// dot-stuffing, pipelining, broken syntax and any bytes.
    fn smtp_line() -> impl Strategy<Value = Vec<u8>> {
        let known = select(vec![
            "EHLO client.example".to_owned(),
            "HELO client.example".to_owned(),
            "STARTTLS".to_owned(),
            format!("AUTH PLAIN {}", plain(LOGIN, PASSWORD)),
            "AUTH PLAIN".to_owned(),
            plain(LOGIN, PASSWORD),
            "AUTH LOGIN".to_owned(),
            STANDARD.encode(LOGIN),
            STANDARD.encode(PASSWORD),
            "AUTH PLAIN !!!".to_owned(),
            "AUTH CRAM-MD5".to_owned(),
            "*".to_owned(),
            format!("MAIL FROM:<{LOGIN}> SIZE=100"),
            "MAIL FROM:<>".to_owned(),
            "MAIL FROM:alice".to_owned(),
            "RCPT TO:<bob@example.net>".to_owned(),
            "RCPT TO:<bcc@crm.example>".to_owned(),
            "DATA".to_owned(),
            "Subject: hello".to_owned(),
            " folded".to_owned(),
            "..leading dot".to_owned(),
            ".".to_owned(),
            "RSET".to_owned(),
            "NOOP".to_owned(),
            "VRFY alice".to_owned(),
            "QUIT".to_owned(),
            "".to_owned(),
        ])
        .prop_map(String::into_bytes);
        prop_oneof![
            6 => known,
            1 => "[A-Za-z]{1,8}( [ -~]{0,30})?".prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..64),
            1 => (1..5_000usize).prop_map(|n| [b"RCPT TO:<".to_vec(), b"x".repeat(n), b">".to_vec()].concat()),
        ]
    }

    /// Lines joined with CRLF or a bare LF, as the client chooses, cut anywhere.
    fn conversation(line: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Vec<Vec<u8>>> {
        (
            prop::collection::vec((line, any::<bool>()), 0..24),
            prop::collection::vec(any::<usize>(), 0..12),
        )
            .prop_map(|(lines, points)| {
                let mut bytes = Vec::new();
                for (line, crlf) in lines {
                    bytes.extend_from_slice(&line);
                    bytes.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
                }
                cut(&bytes, &points)
            })
    }

    fn slices(chunks: &[Vec<u8>]) -> Vec<&[u8]> {
        chunks.iter().map(Vec::as_slice).collect()
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn imap_sessions_answer_any_conversation_within_bounds(
            selector in any::<u8>(),
            tls in any::<bool>(),
            chunks in conversation(imap_line()),
        ) {
            check_imap(imap_config(selector), tls, &slices(&chunks));
        }

        #[test]
        fn smtp_sessions_answer_any_conversation_within_bounds(
            selector in any::<u8>(),
            tls in any::<bool>(),
            chunks in conversation(smtp_line()),
        ) {
            check_smtp(smtp_config(selector), tls, &slices(&chunks));
        }

        #[test]
        fn sessions_take_any_bytes(data in prop::collection::vec(any::<u8>(), 0..2048)) {
            fuzz_imap(&data);
            fuzz_smtp(&data);
        }
    }

    /// The check fails when a session answers more than it was sent: an answer stands in for
    /// a session that echoes a line twice.
    #[test]
    #[should_panic(expected = "bytes sent for a budget")]
    fn the_bound_catches_an_amplifying_session() {
        struct Echo(Vec<u8>, bool);
        impl Session for Echo {
            fn start(&mut self) {}
            fn feed(&mut self, bytes: &[u8]) {
                self.0 = bytes.repeat(3);
                self.1 = true;
            }
            fn next_action(&mut self) -> Option<Action> {
                std::mem::take(&mut self.1).then(|| Action::Send(self.0.clone()))
            }
            fn take_unread(&mut self) -> Vec<u8> {
                Vec::new()
            }
            fn tls_started(&mut self) {}
        }
        let long = vec![b'x'; 3 * ANSWER_OVERHEAD];
        drive(Echo(Vec::new(), false), 16 * ANSWER_OVERHEAD, &[&long]);
    }

    /// Found while writing these properties, by timing LIST patterns: LIST matching
    /// (`wildcard_match` in imap/session.rs) backtracked over every way the wildcards could
    /// split a name, so a logged-in client's `LIST "" ********************z` took seconds
    /// (20 stars: about 5 s in a debug build) and each further star multiplied it. It fails
    /// after 2 s instead of hanging.
    #[test]
    fn list_patterns_with_many_wildcards_answer_at_once() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let line = format!(
                "a LOGIN {LOGIN} \"{PASSWORD}\"\r\nb LIST \"\" {}z\r\n",
                "*%".repeat(40)
            );
            check_imap(imap_config(192), false, &[line.as_bytes()]);
            done.send(()).ok();
        });
        assert!(
            finished
                .recv_timeout(std::time::Duration::from_secs(2))
                .is_ok(),
            "LIST with 80 wildcards took more than 2 s"
        );
    }

    /// The generated conversations reach the authenticated states: a good login is answered
    /// OK by both sessions.
    #[test]
    fn the_known_lines_log_in() {
        let mut imap = ImapSession::new(
            Arc::new(imap_config(192)),
            peer(),
            false,
            Default::default(),
            TranscriptHandle::new(peer()),
            crate::imap::Mailstore::new(),
        );
        imap.start();
        imap.feed(format!("a LOGIN {LOGIN} \"{PASSWORD}\"\r\n").as_bytes());
        let mut written = Vec::new();
        while let Some(action) = imap.next_action() {
            if let Action::Send(bytes) = action {
                written.extend(bytes);
            }
        }
        assert!(
            String::from_utf8_lossy(&written).contains("a OK"),
            "{}",
            String::from_utf8_lossy(&written)
        );
    }
}
