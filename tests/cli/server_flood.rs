//! An SMTP or IMAP server that sends one endless line, or endless reply lines, ends in
//! `reply-too-long` at once, with the harness's memory bounded: what a server may send
//! between two commands is capped in bytes and lines
//! (`harness/src/connector/reference/bounded.rs`). Before, lettre buffered an endless line
//! until it ended, 2.8 GB in 6 s. Alone in its test binary, so that the peak memory of the children
//! it waited for is the harness's own.

use std::io::Write;
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::tools::output_with_peak_rss;

/// Serves every connection with `first`, then endless copies of `chunk` until the client
/// goes away.
fn flood(first: &'static [u8], chunk: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.write_all(first);
                let block = chunk.repeat(64 * 1024 / chunk.len());
                while stream.write_all(&block).is_ok() {}
            });
        }
    });
    port
}

/// A port nothing listens on: its rows end at once.
fn closed_port() -> u16 {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    closed.local_addr().unwrap().port()
}

/// `mailharness check` with both legs on STARTTLS ports.
fn check(imap: u16, smtp: u16) -> (String, Duration, i64) {
    check_with(imap, smtp, &[])
}

/// `check` with more arguments: its report, how long it took and its peak memory in KiB.
fn check_with(imap: u16, smtp: u16, extra: &[&str]) -> (String, Duration, i64) {
    let (imap, smtp) = (format!("127.0.0.1:{imap}"), format!("127.0.0.1:{smtp}"));
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailharness"));
    command
        .env("NO_COLOR", "1")
        .env("MH_FLOOD_PASSWORD", "not-a-real-password")
        .args([
            "check",
            "--imap",
            &imap,
            "--imap-security",
            "starttls",
            "--smtp",
            &smtp,
        ])
        .args([
            "--smtp-security",
            "starttls",
            "--email",
            "alice@example.com",
        ])
        .args(["--password-env", "MH_FLOOD_PASSWORD", "--timeout", "20"])
        .args(extra);
    let (output, peak) = output_with_peak_rss(&mut command);
    assert_eq!(output.status.code(), Some(1));
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        started.elapsed(),
        peak,
    )
}

fn check_smtp(port: u16) -> (String, Duration, i64) {
    check(closed_port(), port)
}

#[test]
fn an_endless_line_or_reply_is_reply_too_long_in_bounded_memory() {
    // One line that never ends, from the greeting on.
    let (report, took, peak) = check_smtp(flood(b"220-", b"a"));
    assert!(
        report.contains("smtp_settings_incorrect (reply-too-long)"),
        "{report}"
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
    // A good greeting, then endless reply lines (lettre re-parses the whole reply at each
    // line: 100,000 lines took 8 s, 150 s in a debug build).
    let (report, took, second) = check_smtp(flood(b"220 mx ESMTP\r\n", b"250-SIZE 1\r\n"));
    assert!(
        report.contains("smtp_settings_incorrect (reply-too-long)"),
        "{report}"
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
    // check's own IMAP reader (over OpenSSL) is bounded too: the endless line meets the
    // line bound.
    let (report, took, third) = check(flood(b"* OK ", b"a"), closed_port());
    assert!(
        report.contains("a line longer than 65536 bytes"),
        "{report}"
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
    let peak = peak.max(second).max(third);
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
}

/// The reference connector against an IMAP server whose greeting never ends: the first
/// step ends in `reply-too-long` well within its timeout.
#[test]
fn an_endless_imap_greeting_is_reply_too_long() {
    use mailharness::connector::reference::ReferenceConnector;
    use mailharness::connector::{ConnectionSecurity, Connector, Endpoint, Secret, Settings};
    use mailharness::outcome::{ErrorClass, Step};

    let endpoint = |port| Endpoint {
        host: "127.0.0.1".into(),
        port,
        security: ConnectionSecurity::Starttls,
    };
    let settings = Settings {
        imap: endpoint(flood(b"* OK ", b"a")),
        smtp: endpoint(1),
        email: "alice@example.com".into(),
        username: None,
        password: Secret::new("not-a-real-password"),
        oauth: None,
        allow_insecure_certificate: false,
        bcc: "bcc@crm.example".into(),
        ca_file: None,
        trust_system_roots: false,
        step_timeout: Duration::from_secs(20),
        source_address: None,
        limits: Default::default(),
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let outcome = runtime
        .block_on(ReferenceConnector.run(&settings))
        .expect("the reference connector reports an outcome");
    assert_eq!(
        (outcome.class, outcome.step, outcome.detail.as_deref()),
        (
            ErrorClass::ImapValidationError,
            Some(Step::ImapConnect),
            Some("reply-too-long")
        ),
        "{outcome}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

/// `--max-line-bytes` and `--max-reply-bytes` move the bounds: a 60,000-byte greeting line
/// passes at the default 64 KiB and is reply-too-long at 4 KiB; `check` takes them too.
#[test]
fn the_bounds_are_set_on_the_command_line() {
    let top = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let run = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_mailharness"))
            .current_dir(top)
            .args([
                "run",
                "--format",
                "json",
                "scenarios/hostile/imap-greeting-long-line.toml",
            ])
            .args(extra)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let outcome = &report["scenarios"][0]["outcome"];
        (
            output.status.code(),
            outcome["class"].clone(),
            outcome["detail"].clone(),
        )
    };
    assert_eq!(run(&[]), (Some(0), "ok".into(), serde_json::Value::Null));
    assert_eq!(
        run(&["--max-line-bytes", "4096"]),
        (
            Some(1),
            "imap_validation_error".into(),
            "reply-too-long".into()
        )
    );
    assert_eq!(
        run(&["--max-reply-bytes", "16384"]),
        (
            Some(1),
            "imap_validation_error".into(),
            "reply-too-long".into()
        )
    );
    let (report, ..) = check_with(
        flood(b"* OK ", b"a"),
        closed_port(),
        &["--max-line-bytes", "1024"],
    );
    assert!(report.contains("a line longer than 1024 bytes"), "{report}");
}
