//! Properties of what a user or a server hands the harness, checked on generated input
//! (proptest, 256 cases each so the suite stays fast, `PROPTEST_CASES` for more; `fuzz/`
//! runs the same targets for millions of inputs):
//!
//! - any scenario built from the real enums serialises to TOML and loads back equal;
//! - any bytes, any string, and any mutation of a catalogue file given to
//!   `scenario::load::parse` give a scenario or an error positioned at `path:line:column`
//!   (or at the path alone) that renders as the CLI renders it, never a panic;
//! - the reply classification maps any IMAP or SMTP refusal to exactly one of the nine
//!   classes, with the detail naming that class and case not mattering.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use mailharness::classify;
use mailharness::connector::ConnectionSecurity;
use mailharness::outcome::{Detail, ErrorClass, Step};
use mailharness::scenario::load::{MAX_STEP_TIMEOUT_MS, parse};
use mailharness::scenario::{
    Account, Expect, ImapSection, ImapServerKind, PasswordChoice, Scenario, ServerPassword,
    SmtpSection, SmtpServerKind,
};
use mailharness_certs::CertKind;
use mailharness_mock_servers::smtp::SmtpReply;
use mailharness_mock_servers::{
    Faults, Hostile, HostileAt, ImapGreeting, ImapLogin, ImapPersonality, ImapRefusal, ImapReply,
    Milestone, Policy, RawBytes, Security, SmtpAuth, SmtpGreeting, SmtpPersonality, SmtpRefusal,
    SmtpReplies, Then, TlsRefusal, TlsVersion, TlsVersions,
};
use proptest::prelude::*;
use proptest::sample::select;

/// 256 cases per property, or `PROPTEST_CASES` for a longer run; a failure prints its
/// minimal input and leaves no regression file behind.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

// ---------------------------------------------------------------------------------------
// Strategies over the scenario's own types.

/// Any text up to `max` characters: every Unicode scalar, control characters and quotes
/// included, so TOML escaping is exercised.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 ._@/-]{0,24}",
        1 => prop::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter),
    ]
}

/// Text that is not blank (a description must say something).
fn description() -> impl Strategy<Value = String> {
    (text(30), "[a-zA-Z]", text(30)).prop_map(|(a, b, c)| format!("{a}{b}{c}"))
}

fn security() -> impl Strategy<Value = Security> {
    select(vec![
        Security::ImplicitTls,
        Security::Starttls,
        Security::StarttlsStripped,
        Security::Plaintext,
    ])
}

fn tls_versions() -> impl Strategy<Value = TlsVersions> {
    let all = [
        TlsVersion::Tls10,
        TlsVersion::Tls11,
        TlsVersion::Tls12,
        TlsVersion::Tls13,
    ];
    (0..4usize, 0..4usize).prop_map(move |(a, b)| TlsVersions {
        min: all[a.min(b)],
        max: all[a.max(b)],
    })
}

fn faults() -> impl Strategy<Value = Faults> {
    (
        prop_oneof![Just(0u64), 0..600_000u64],
        any::<bool>(),
        prop::option::of(select(vec![
            Milestone::AfterGreeting,
            Milestone::AfterStarttls,
            Milestone::AfterLogin,
        ])),
        any::<bool>(),
        prop::option::of(1..100_000u32),
        prop_oneof![Just(0u64), 0..10_000u64],
    )
        .prop_map(
            |(delay_before_greeting_ms, stall, reset, close_mid_handshake, trickle, delay)| {
                Faults {
                    delay_before_greeting_ms,
                    stall,
                    reset,
                    close_mid_handshake,
                    trickle_bytes_per_second: trickle,
                    delay_failed_login_ms: delay,
                }
            },
        )
}

/// Hostile rules that make sense for a server knowing `commands`: any bytes, any place.
fn hostile(commands: &'static [&'static str]) -> impl Strategy<Value = Vec<Hostile>> {
    let bytes = || prop::collection::vec(any::<u8>(), 0..24).prop_map(RawBytes);
    let at = prop_oneof![
        Just(HostileAt::Greeting),
        select(commands).prop_map(|c| HostileAt::Reply(c.to_owned())),
        select(commands).prop_map(|c| HostileAt::After(c.to_owned())),
    ];
    let rule = (
        at,
        bytes(),
        prop::option::of(bytes()),
        prop::option::of(1..1_000_000u64),
        bytes(),
        select(vec![Then::Continue, Then::Close, Then::Silence]),
    )
        .prop_map(|(at, send, repeat, times, end, then)| Hostile {
            at,
            send,
            repeat,
            times,
            end,
            then,
        })
        .prop_filter("a rule the loader accepts", move |rule| {
            rule.check(commands).is_ok()
        });
    prop::collection::vec(rule, 0..3)
}

fn ip_net() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (any::<std::net::Ipv4Addr>(), 0..=32u8)
            .prop_map(|(ip, len)| IpNet::V4(ipnet::Ipv4Net::new(ip, len).unwrap())),
        (any::<std::net::Ipv6Addr>(), 0..=128u8)
            .prop_map(|(ip, len)| IpNet::V6(ipnet::Ipv6Net::new(ip, len).unwrap())),
    ]
}

fn policy<R: Clone + std::fmt::Debug + 'static>(
    refusals: Vec<R>,
) -> impl Strategy<Value = Policy<R>> {
    (
        prop::collection::vec(ip_net(), 0..3),
        select(refusals),
        prop::option::of(text(40)),
    )
        .prop_map(|(sources, refuse_at, refusal_text)| Policy {
            sources,
            refuse_at,
            refusal_text,
        })
}

/// A valid SMTP reply: one code, one to three lines of text without line breaks.
fn smtp_reply() -> impl Strategy<Value = SmtpReply> {
    (
        200..=599u16,
        prop::collection::vec("[ -~]{0,30}", 1..=3),
        "[A-Za-z0-9.]",
    )
        .prop_map(|(code, mut lines, last)| {
            // The last line ends in a visible character: see the note at
            // `smtp_reply_trailing_blanks_do_not_survive_toml`.
            lines.last_mut().unwrap().push_str(&last);
            let text = lines
                .iter()
                .map(|line| format!("{code} {line}"))
                .collect::<Vec<_>>()
                .join("\n");
            SmtpReply::parse(&text).expect("generated replies are valid")
        })
}

fn connector_security() -> impl Strategy<Value = Option<ConnectionSecurity>> {
    prop::option::of(select(vec![
        ConnectionSecurity::ImplicitTls,
        ConnectionSecurity::Starttls,
    ]))
}

fn server_password() -> impl Strategy<Value = ServerPassword> {
    select(vec![ServerPassword::Same, ServerPassword::Different])
}

fn imap_section() -> impl Strategy<Value = ImapSection> {
    let server = (
        select(vec![
            ImapServerKind::Mock,
            ImapServerKind::Closed,
            ImapServerKind::Dovecot,
            ImapServerKind::Courier,
        ]),
        select(ImapPersonality::ALL.to_vec()),
        security(),
        select(CertKind::ALL.to_vec()),
        tls_versions(),
    );
    let behaviour = (
        prop_oneof![
            Just(ImapGreeting::Standard),
            Just(ImapGreeting::None),
            Just(ImapGreeting::Garbage),
            text(40).prop_map(ImapGreeting::Custom),
        ],
        prop_oneof![
            Just(ImapLogin::Ok),
            Just(ImapLogin::WrongCredentials),
            Just(ImapLogin::AppPasswordRequired),
            Just(ImapLogin::Unavailable),
            text(40).prop_map(ImapLogin::Custom),
        ],
        prop::option::of(1..=u32::MAX),
        prop::collection::vec(text(20), 0..3),
        prop::option::of(policy(vec![ImapRefusal::Connect, ImapRefusal::Login])),
        faults(),
        connector_security(),
        server_password(),
        hostile(mailharness_mock_servers::hostile::IMAP_COMMANDS),
    );
    (server, behaviour).prop_map(
        |(
            (server, personality, security, certificate, tls_versions),
            (
                greeting,
                login,
                max_connections_per_user,
                folders,
                allowlist,
                faults,
                connector_security,
                server_password,
                hostile,
            ),
        )| {
            // Varied by another drawn value, for the same reason.
            let reply = match faults.delay_before_greeting_ms % 3 {
                0 => Vec::new(),
                n => vec![ImapReply {
                    to: ["select", "uid fetch"][n as usize - 1].to_owned(),
                    nth: Some(n as u32),
                    reply: "NO [UNAVAILABLE] Account is temporarily unavailable.".to_owned(),
                    before: vec!["* OK [ALERT] \"quoted\"".to_owned(); n as usize - 1],
                }],
            };
            let mut section = ImapSection {
                server,
                personality,
                security,
                certificate,
                tls_versions,
                // Varied by another drawn value: the tuple of strategies is full.
                tls_refusal: [None, Some(TlsRefusal::Alert), Some(TlsRefusal::Close)]
                    [hostile.len() % 3],
                greeting,
                // Varied by other drawn values, for the same reason.
                capabilities: [None, Some("IMAP4rev1 IDLE".to_owned())][folders.len() % 2].clone(),
                auth_mechanisms: [None, Some(vec!["PLAIN".to_owned()]), Some(Vec::new())]
                    [max_connections_per_user.unwrap_or(0) as usize % 3]
                    .clone(),
                login,
                max_connections_per_user,
                folders,
                allowlist,
                faults,
                hostile,
                reply,
                connector_security,
                server_password,
            };
            if !section.mock_only_keys().is_empty() {
                // A real server takes none of the mock-only keys (parse refuses them).
                let mock = ImapSection::default();
                section.hostile = mock.hostile;
                section.reply = mock.reply;
                section.capabilities = mock.capabilities;
                section.auth_mechanisms = mock.auth_mechanisms;
                section.tls_refusal = mock.tls_refusal;
                section.personality = mock.personality;
                section.greeting = mock.greeting;
                section.login = mock.login;
                section.folders = mock.folders;
                section.allowlist = mock.allowlist;
                section.faults = mock.faults;
                if section.security == Security::StarttlsStripped {
                    section.security = Security::Starttls;
                }
            }
            section
        },
    )
}

fn smtp_replies() -> impl Strategy<Value = SmtpReplies> {
    let reply = || prop::option::weighted(0.2, smtp_reply());
    (
        (reply(), reply(), reply(), reply(), reply()),
        (reply(), reply(), reply(), reply(), reply()),
    )
        .prop_map(
            |((ehlo, starttls, mail, rcpt, data), (message, rset, noop, quit, ehlo_tls))| {
                SmtpReplies {
                    ehlo,
                    ehlo_tls,
                    starttls,
                    mail,
                    rcpt,
                    data,
                    message,
                    rset,
                    noop,
                    quit,
                }
            },
        )
}

fn smtp_section() -> impl Strategy<Value = SmtpSection> {
    let server = (
        select(vec![
            SmtpServerKind::Mock,
            SmtpServerKind::Closed,
            SmtpServerKind::Postfix,
        ]),
        select(SmtpPersonality::ALL.to_vec()),
        security(),
        select(CertKind::ALL.to_vec()),
        tls_versions(),
    );
    let behaviour = (
        prop_oneof![
            Just(SmtpGreeting::Standard),
            Just(SmtpGreeting::None),
            Just(SmtpGreeting::Garbage),
            smtp_reply().prop_map(SmtpGreeting::Custom),
        ],
        prop_oneof![
            Just(SmtpAuth::Ok),
            Just(SmtpAuth::WrongCredentials),
            Just(SmtpAuth::AppPasswordRequired),
            smtp_reply().prop_map(SmtpAuth::Custom),
        ],
        any::<(bool, bool, bool)>(),
        smtp_replies(),
        prop::option::of(policy(vec![
            SmtpRefusal::Connect,
            SmtpRefusal::Login,
            SmtpRefusal::Send,
        ])),
        faults(),
        connector_security(),
        server_password(),
        hostile(mailharness_mock_servers::hostile::SMTP_COMMANDS),
    );
    (server, behaviour).prop_map(
        |(
            (server, personality, security, certificate, tls_versions),
            (
                greeting,
                auth,
                (require_auth, offer_auth, relay_denied),
                replies,
                allowlist,
                faults,
                connector_security,
                server_password,
                hostile,
            ),
        )| {
            let mut section = SmtpSection {
                server,
                personality,
                security,
                certificate,
                tls_versions,
                // Varied by another drawn value: the tuple of strategies is full.
                tls_refusal: [None, Some(TlsRefusal::Alert), Some(TlsRefusal::Close)]
                    [hostile.len() % 3],
                greeting,
                auth,
                require_auth,
                offer_auth,
                relay_denied,
                // Varied by another drawn value, as `tls_refusal`.
                message_size_limit: [None, Some(200), Some(35_882_577)]
                    [usize::from(replies.mail.is_some()) + usize::from(replies.rcpt.is_some())],
                greylisting: replies.data.is_some(),
                replies,
                allowlist,
                faults,
                hostile,
                connector_security,
                server_password,
            };
            if !section.mock_only_keys().is_empty() {
                let mock = SmtpSection::default();
                section.hostile = mock.hostile;
                section.tls_refusal = mock.tls_refusal;
                section.personality = mock.personality;
                section.greeting = mock.greeting;
                section.auth = mock.auth;
                section.require_auth = mock.require_auth;
                section.replies = mock.replies;
                section.allowlist = mock.allowlist;
                section.faults = mock.faults;
                if section.security == Security::StarttlsStripped {
                    section.security = Security::Starttls;
                }
            }
            section
        },
    )
}

/// An address `parse` takes: `local@domain`, no blanks (harness/src/scenario/load.rs).
fn email() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._+äö-]{1,20}@[a-z0-9ü-]{1,15}(\\.[a-z0-9-]{1,10}){0,2}"
}

/// Every server of a run listens on loopback, so a source address is a loopback one.
fn loopback() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 3]>().prop_map(|[a, b, c]| IpAddr::from([127, a, b, c])),
        Just(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
    ]
}

fn account() -> impl Strategy<Value = Account> {
    (
        email(),
        prop::option::of(text(20)),
        prop::option::of(text(20)),
        select(vec![PasswordChoice::Correct, PasswordChoice::Wrong]),
        any::<bool>(),
        text(30),
        prop::option::of(loopback()),
    )
        .prop_map(
            |(email, username, server_login, password, insecure, bcc, source_address)| Account {
                email,
                username,
                server_login,
                password,
                allow_insecure_certificate: insecure,
                bcc,
                source_address,
            },
        )
}

/// A consistent expectation: `ok` has no step, every other class has one.
fn expect() -> impl Strategy<Value = Expect> {
    (
        select(ErrorClass::ALL.to_vec()),
        select(Step::ALL.to_vec()),
        // A scenario may only expect a detail the reference connector has.
        prop::option::of(select(Detail::ALL.to_vec()).prop_map(|d| d.as_str().to_owned())),
    )
        .prop_map(|(class, step, detail)| Expect {
            class,
            step: (class != ErrorClass::Ok).then_some(step),
            detail,
        })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        description(),
        prop::collection::vec(text(12), 0..4),
        prop::option::of(1..=MAX_STEP_TIMEOUT_MS),
        imap_section(),
        smtp_section(),
        account(),
        expect(),
        prop::option::of(text(30)),
    )
        .prop_map(
            |(description, tags, step_timeout_ms, imap, smtp, account, expect, twin)| {
                let mut scenario = Scenario {
                    description,
                    tags,
                    step_timeout_ms,
                    imap,
                    smtp,
                    account,
                    // Varied by another drawn value, as `tls_refusal`.
                    oauth: step_timeout_ms.is_some().then(|| {
                        toml::from_str("requested-scope = \"https://example.com/x\"\nstored-token = \"expired\"\nendpoint = \"slow\"")
                            .expect("a valid [oauth] table")
                    }),
                    expect: toml::Spanned::new(0..0, expect),
                    twin: twin.map(|twin| toml::Spanned::new(0..0, twin)),
                };
                // Only a real-server scenario has a mock twin, and Courier-IMAP no OAuth.
                if !scenario.needs_containers() {
                    scenario.twin = None;
                }
                if scenario.imap.server == ImapServerKind::Courier {
                    scenario.oauth = None;
                }
                scenario
            },
        )
}

// ---------------------------------------------------------------------------------------
// Scenario files: round trip, and no input that panics.

fn catalogue() -> &'static [(PathBuf, String)] {
    static FILES: std::sync::OnceLock<Vec<(PathBuf, String)>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|ext| ext == "toml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    out.push((path, text));
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios"),
            &mut files,
        );
        files.sort();
        assert!(files.len() > 50, "the catalogue is where it was");
        files
    })
}

/// One edit of a file's bytes, at a position taken modulo the length.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Replace(usize, u8),
    /// Repeat a run of bytes many times (long lines, deep nesting).
    Repeat(usize, usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let fragments = select(vec![
        &b"["[..],
        b"]",
        b"{",
        b"}",
        b"\"",
        b"'''",
        b"\"\"\"",
        b"=",
        b"\n",
        b"\r",
        b"#",
        b",",
        b".",
        b"\\u{0}",
        b"\\",
        b"[[imap]]\n",
        b"[expect]\n",
        b"class = \"ok\"\n",
        b"step = \"imap-login\"\n",
        b"server = \"dovecot\"\n",
        b"faults = { reset = \"never\" }\n",
        "é".as_bytes(),
        "\u{1F4E7}".as_bytes(),
        &[0xff, 0xfe],
    ])
    .prop_map(<[u8]>::to_vec);
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        (
            any::<usize>(),
            prop_oneof![fragments, prop::collection::vec(any::<u8>(), 1..8)]
        )
            .prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Replace(at, b)),
        (any::<usize>(), 1..8usize, 2..20_000usize).prop_map(|(at, n, k)| Edit::Repeat(at, n, k)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match edit {
        Edit::Delete(i, n) => {
            let start = at(*i, bytes.len());
            let end = (start + n).min(bytes.len());
            bytes.drain(start..end);
        }
        Edit::Insert(i, new) => {
            let start = at(*i, bytes.len());
            bytes.splice(start..start, new.iter().copied());
        }
        Edit::Replace(i, b) if !bytes.is_empty() => {
            let len = bytes.len();
            bytes[i % len] = *b;
        }
        Edit::Replace(..) => {}
        Edit::Repeat(i, n, k) => {
            let start = at(*i, bytes.len());
            let end = (start + n).min(bytes.len());
            let run = bytes[start..end].repeat(*k);
            bytes.splice(end..end, run);
        }
        Edit::Truncate(i) => {
            let len = at(*i, bytes.len());
            bytes.truncate(len);
        }
    }
}

/// What `parse` must do with any text: a scenario, or an error positioned inside the file
/// that renders as the CLI renders it (`harness/src/cli/run.rs`).
fn check_parse(text: &str) -> Result<(), TestCaseError> {
    let path = Path::new("scenarios/fuzz.toml");
    let error = match parse(path, text) {
        Ok(scenario) => {
            prop_assert!(!scenario.description.trim().is_empty());
            prop_assert_eq!(
                scenario.expect.get_ref().class == ErrorClass::Ok,
                scenario.expect.get_ref().step.is_none()
            );
            return Ok(());
        }
        Err(error) => error,
    };
    let location = &error.location;
    if location != "scenarios/fuzz.toml" {
        let numbers: Option<Vec<usize>> = location
            .strip_prefix("scenarios/fuzz.toml:")
            .and_then(|p| p.split(':').map(|n| n.parse().ok()).collect());
        let Some([line, column]) = numbers.as_deref() else {
            return Err(TestCaseError::fail(format!(
                "location `{location}` is neither `path:line:column` nor the path"
            )));
        };
        let lines: Vec<&str> = text.split('\n').collect();
        prop_assert!(
            (1..=lines.len()).contains(line),
            "line {} of {}",
            line,
            lines.len()
        );
        let width = lines[line - 1].chars().count();
        prop_assert!(
            (1..=width + 1).contains(column),
            "column {} of {}",
            column,
            width
        );
    }
    prop_assert!(!error.message.is_empty());
    let rendered = format!("{:?}", miette::Report::new(error));
    prop_assert!(!rendered.is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_scenario_survives_a_toml_round_trip(scenario in scenario()) {
        let text = toml::to_string(&scenario).expect("every scenario serialises");
        let loaded = parse(Path::new("generated.toml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n--- the file:\n{text}"));
        prop_assert_eq!(&loaded, &scenario, "the file:\n{}", text);
    }

    #[test]
    fn any_string_parses_or_is_refused_with_a_position(text in any::<String>()) {
        check_parse(&text)?;
    }

    #[test]
    fn any_bytes_read_as_a_file_parse_or_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_parse(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn mutated_catalogue_files_parse_or_are_refused(
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let (_, text) = file.get(catalogue());
        let mut bytes = text.clone().into_bytes();
        for edit in &edits {
            apply(&mut bytes, edit);
        }
        check_parse(&String::from_utf8_lossy(&bytes))?;
    }
}

/// Every catalogue file loads (the mutation property starts from valid files), and each
/// loaded scenario survives the round trip as the generated ones do.
#[test]
fn catalogue_files_survive_a_toml_round_trip() {
    for (path, text) in catalogue() {
        let scenario = parse(path, text).unwrap_or_else(|e| panic!("{e}"));
        let again = toml::to_string(&scenario).unwrap();
        assert_eq!(parse(path, &again).unwrap(), scenario, "{}", path.display());
    }
}

/// A reply override whose last line ends in a blank loads back equal (`SmtpReply` once
/// serialised its text trimmed, mock-servers/src/smtp/reply.rs). The generator above ends
/// every reply in a visible character; this test is the round trip for that case.
#[test]
fn smtp_reply_trailing_blanks_survive_toml() {
    let replies = SmtpReplies {
        rcpt: Some(SmtpReply::parse("554 refused ").unwrap()),
        ..SmtpReplies::default()
    };
    let text = toml::to_string(&replies).unwrap();
    assert_eq!(
        toml::from_str::<SmtpReplies>(&text).unwrap(),
        replies,
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Reply classification.

/// The classes a refused login or AUTH may end in, with their details: a detail names
/// exactly one class, and `ok` is never among them.
fn refusal_classes(imap: bool) -> HashMap<&'static str, ErrorClass> {
    use ErrorClass::{ImapAuthenticationError as AuthError, SmtpSettingsIncorrect};
    let mut classes = HashMap::from([
        (
            "app-password-required",
            ErrorClass::UnauthorizedAppPasswordRequired,
        ),
        ("web-login-required", ErrorClass::Unauthorized),
        ("wrong-credentials", ErrorClass::Unauthorized),
    ]);
    if imap {
        classes.extend([
            ("authorization-failed", ErrorClass::Unauthorized),
            ("credentials-expired", ErrorClass::Unauthorized),
            ("tls-required", ErrorClass::ImapValidationError),
            ("too-many-connections", AuthError),
            ("imap-disabled", AuthError),
            ("address-not-allowed", AuthError),
            ("contact-admin", AuthError),
            ("temporarily-unavailable", AuthError),
            ("temporarily-rate-limited", AuthError),
            ("temporarily-in-use", AuthError),
            ("over-quota", AuthError),
            ("no-permission", AuthError),
            ("server-bug", AuthError),
            ("client-bug", AuthError),
            ("server-cannot", AuthError),
            ("mailbox-corrupt", AuthError),
            ("no-such-mailbox", AuthError),
            ("unspecified", AuthError),
        ]);
    } else {
        classes.extend([
            ("auth-disabled", SmtpSettingsIncorrect),
            ("policy-refused", SmtpSettingsIncorrect),
            ("temporarily-unavailable", SmtpSettingsIncorrect),
            ("auth-refused", SmtpSettingsIncorrect),
        ]);
    }
    classes
}

/// Reply text: the real servers' phrases (from the classifiers' own tables) in any case,
/// mixed with arbitrary text.
fn reply_text() -> impl Strategy<Value = String> {
    let phrase = select(vec![
        "Application-specific password",
        "InvalidSecondFactor",
        "Please log in via your web browser",
        "WEBALERT",
        "Maximum number of connections",
        "[LIMIT]",
        "[UNAVAILABLE]",
        "[EXPIRED]",
        "[THROTTLED]",
        "[NONEXISTENT]",
        "NO ",
        "PRIVACYREQUIRED",
        "STARTTLS required",
        "not enabled for IMAP",
        "Basic authentication is disabled",
        "CONTACTADMIN",
        "Temporary",
        "[AUTHENTICATIONFAILED]",
        "Invalid credentials",
        "5.7.8",
        "5.7.9",
        "5.7.14",
        "5.7.139",
        "SmtpClientAuthentication is disabled",
        "did not meet the criteria",
        "not allowed",
        "Username and Password not accepted",
        "NO",
        "BAD",
        "İ",
        "ſ",
    ]);
    prop::collection::vec(prop_oneof![phrase.prop_map(str::to_owned), text(20)], 0..5)
        .prop_map(|parts| parts.join(" "))
}

/// ASCII case flipped: the classifiers lower-case ASCII only, so this must not matter.
fn flip_ascii_case(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_imap_refusal_has_exactly_one_class(reply in reply_text()) {
        let (class, detail) = classify::imap::login_refusal(&reply);
        prop_assert!(ErrorClass::ALL.contains(&class));
        prop_assert_ne!(class, ErrorClass::Ok);
        prop_assert_eq!(refusal_classes(true).get(detail.as_str()).copied(), Some(class), "detail {}", detail);
        prop_assert_eq!(classify::imap::login_refusal(&flip_ascii_case(&reply)), (class, detail));
    }

    #[test]
    fn any_smtp_refusal_has_exactly_one_class(code in 0..=u16::MAX, text in reply_text()) {
        let (class, detail) = classify::smtp::auth_refusal(code, &text);
        prop_assert!(ErrorClass::ALL.contains(&class));
        prop_assert_ne!(class, ErrorClass::Ok);
        prop_assert_eq!(refusal_classes(false).get(detail.as_str()).copied(), Some(class), "detail {}", detail);
        prop_assert_eq!(classify::smtp::auth_refusal(code, &flip_ascii_case(&text)), (class, detail));
        // A 4xx reply is temporary unless the text names the cause.
        if (400..500).contains(&code) && class == ErrorClass::Unauthorized {
            prop_assert_eq!(detail, Detail::WebLoginRequired);
        }
    }
}
