//! The `mailharness check` command line: exit codes (0 pass, 1 a requirement fails, 2
//! usage or input error), JSON, human and HTML output, the password from the environment
//! and never printed, and domain presets (IMAP settings used, Exchange reported as such).

use std::path::Path;
use std::process::{Command, Output};

use mailharness::check::Requirement;

use crate::support::check::{Setup, setup_with_password};
use crate::support::no_secret::assert_no_secret;

const PASSWORD: &str = "Corr3ct-h0rse-check-cli-password";

fn mailharness() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailharness"));
    command.env_remove("RUST_LOG").env("NO_COLOR", "1");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `check` against the setup's servers, with `extra` arguments; the password in
/// `MH_TEST_PASSWORD` and every log line switched on.
async fn check(setup: &Setup, extra: &[&str]) -> Output {
    let config = &setup.config;
    let security = |s: mailharness::connector::ConnectionSecurity| match s {
        mailharness::connector::ConnectionSecurity::ImplicitTls => "implicit-tls",
        mailharness::connector::ConnectionSecurity::Starttls => "starttls",
    };
    let imap = format!("localhost:{}", config.account.imap.port);
    let smtp = format!("localhost:{}", config.account.smtp.port);
    let ca = config
        .account
        .ca_file
        .as_ref()
        .unwrap()
        .display()
        .to_string();
    let mut args = vec![
        "check",
        "--imap",
        &imap,
        "--imap-security",
        security(config.account.imap.security),
        "--smtp",
        &smtp,
        "--smtp-security",
        security(config.account.smtp.security),
        "--email",
        &config.account.email,
        "--password-env",
        "MH_TEST_PASSWORD",
        "--ca-file",
        &ca,
        "--no-system-roots",
    ];
    args.extend_from_slice(extra);
    let mut command = mailharness();
    command
        .args(&args)
        .env("MH_TEST_PASSWORD", PASSWORD)
        .env("RUST_LOG", "trace");
    output(command).await
}

/// Runs the command on a blocking thread, so the runtime's workers stay free to serve the
/// mock servers it talks to.
async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("mailharness runs"))
        .await
        .expect("the command thread")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_server_exits_0_and_the_password_is_never_printed() {
    let setup = setup_with_password("", Some(PASSWORD.into())).await;
    for format in ["human", "json"] {
        let output = check(
            &setup,
            &["--format", format, "--send-test-to", "bcc@crm.example"],
        )
        .await;
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
        assert_no_secret(&stdout, PASSWORD, &["alice@example.com"]);
        assert_no_secret(&stderr, PASSWORD, &["alice@example.com"]);
        let all = Requirement::ALL.len();
        if format == "json" {
            let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
            let rows = report["rows"].as_array().unwrap();
            assert_eq!(rows.len(), all);
            assert_eq!(report["summary"]["class"], "ok");
            // Rows by requirement: each names itself, with its number.
            let row = |requirement: Requirement| {
                let name = serde_json::to_value(requirement).unwrap();
                rows.iter()
                    .find(|row| row["requirement"] == name)
                    .unwrap_or_else(|| panic!("no row {name}"))
            };
            assert_eq!(
                row(Requirement::ImapServerSoftware)["number"],
                Requirement::ImapServerSoftware.number()
            );
            assert_eq!(row(Requirement::TestSend)["verdict"], "pass");
        } else {
            assert!(
                stdout.contains(&format!("{all} pass, 0 warn, 0 fail")),
                "{stdout}"
            );
            assert!(!stdout.contains('\x1b'), "no colours when piped");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_requirement_exits_1_and_the_summary_names_the_class() {
    let setup =
        setup_with_password("[imap]\npersonality = \"courier\"\n", Some(PASSWORD.into())).await;
    let output = check(&setup, &[]).await;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  5. IMAP server software"), "{stdout}");
    assert!(
        stdout.contains(
            "A connector would report: imap_validation_error at imap-connect (courier-imap)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("remedy: Courier-IMAP is not supported"),
        "{stdout}"
    );
    assert_no_secret(&stdout, PASSWORD, &["alice@example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_page_has_every_row_and_the_remedies() {
    let setup =
        setup_with_password("[imap]\npersonality = \"courier\"\n", Some(PASSWORD.into())).await;
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("check.html");
    let page_arg = page.display().to_string();
    let output = check(&setup, &["--format", "json", "--html", &page_arg]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("stdout is JSON only");
    let html = std::fs::read_to_string(&page).expect("the page is written");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert_eq!(
        html.matches("<tr class=\"").count(),
        Requirement::ALL.len(),
        "{html}"
    );
    assert!(
        html.contains("<td class=\"num\">5</td><td>IMAP server software</td><td>FAIL</td>"),
        "{html}"
    );
    assert!(
        html.contains("<li class=\"fail\"><b>5. IMAP server software</b> (FAIL): Courier-IMAP is not supported"),
        "{html}"
    );
    assert!(html.contains(
        "A connector would report: imap_validation_error at imap-connect (courier-imap)"
    ));
    assert!(html.contains("<td>imap_validation_error (courier-imap)</td>"));
    assert!(!html.contains("src=") && !html.contains("<link"));
    assert_no_secret(&html, PASSWORD, &["alice@example.com"]);
}

fn run(args: &[&str]) -> Output {
    mailharness().args(args).output().expect("mailharness runs")
}

#[test]
fn usage_errors_exit_2_with_the_reason() {
    let base = [
        "check",
        "--imap",
        "localhost:993",
        "--smtp",
        "localhost:587",
        "--email",
        "a@example.com",
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--password-env", "MH_UNSET_VARIABLE_FOR_TEST"],
            "MH_UNSET_VARIABLE_FOR_TEST",
        ),
        // Not a terminal and no variable: nothing to ask.
        (vec![], "no password"),
    ];
    for (extra, says) in cases {
        let mut args = base.to_vec();
        args.extend(extra);
        let output = run(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).contains(says),
            "{}",
            text(&output.stderr)
        );
    }
    for (args, says) in [
        (
            vec![
                "check",
                "--imap",
                "localhost:10993",
                "--smtp",
                "localhost:587",
                "--email",
                "a@example.com",
            ],
            "--imap-security",
        ),
        (
            vec![
                "check",
                "--imap",
                "localhost",
                "--smtp",
                "localhost:587",
                "--email",
                "a@example.com",
            ],
            "HOST:PORT",
        ),
        (vec!["check", "--email", "a@example.com"], "--presets"),
        (
            vec![
                "check",
                "--imap",
                "localhost:993",
                "--smtp",
                "localhost:587",
                "--email",
                "nobody",
            ],
            "not an email address",
        ),
    ] {
        let output = run(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).contains(says),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    // A password is never an argument value.
    let output = run(&[
        "check",
        "--password",
        "x",
        "--imap",
        "localhost:993",
        "--smtp",
        "localhost:587",
        "--email",
        "a@example.com",
    ]);
    assert_eq!(output.status.code(), Some(2));
}

fn presets_file(dir: &Path, contents: &str) -> String {
    let path = dir.join("presets.toml");
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

#[test]
fn an_exchange_preset_is_reported_as_such_and_not_checked_over_imap() {
    let dir = tempfile::tempdir().unwrap();
    let file = presets_file(
        dir.path(),
        "[[exchange]]\ndomain = \"corp.example\"\nurl = \"https://mail.corp.example/EWS/Exchange.asmx\"\n",
    );
    // No password is needed (nothing is checked), so none is given.
    let output = run(&["check", "--presets", &file, "--email", "alice@CORP.example"]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("corp.example is preset for Exchange"),
        "{stdout}"
    );
    let json = run(&[
        "check",
        "--presets",
        &file,
        "--email",
        "bob@corp.example",
        "--format",
        "json",
    ]);
    assert_eq!(json.status.code(), Some(0));
    let seen: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(
        seen["exchange"]["url"],
        "https://mail.corp.example/EWS/Exchange.asmx"
    );
    assert_eq!(seen["checked"], false);
    let none = run(&[
        "check",
        "--presets",
        &file,
        "--email",
        "alice@other.example",
    ]);
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("no preset for the domain"));
}

#[test]
fn a_bad_presets_file_exits_2_with_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = presets_file(
        dir.path(),
        "[[imap]]\ndomain = \"example.com\"\nimap-host = \"imap.example.com\"\nimap-port = 0\nsmtp-host = \"smtp.example.com\"\nsmtp-port = 587\n",
    );
    let output = run(&["check", "--presets", &file, "--email", "alice@example.com"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("presets.toml:4:13"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imap_preset_supplies_the_servers() {
    let setup = setup_with_password("", Some(PASSWORD.into())).await;
    let dir = tempfile::tempdir().unwrap();
    let file = presets_file(
        dir.path(),
        &format!(
            "[[imap]]\ndomain = \"example.com\"\nimap-host = \"localhost\"\nimap-port = {}\n\
             smtp-host = \"localhost\"\nsmtp-port = {}\n",
            setup.config.account.imap.port, setup.config.account.smtp.port
        ),
    );
    let ca = setup
        .config
        .account
        .ca_file
        .as_ref()
        .unwrap()
        .display()
        .to_string();
    let mut command = mailharness();
    command
        .args([
            "check",
            "--presets",
            &file,
            "--email",
            "alice@example.com",
            "--imap-security",
            "implicit-tls",
            "--smtp-security",
            "implicit-tls",
            "--password-env",
            "MH_TEST_PASSWORD",
            "--ca-file",
            &ca,
            "--no-system-roots",
        ])
        .env("MH_TEST_PASSWORD", PASSWORD);
    let output = output(command).await;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "IMAP   localhost:{} (implicit TLS)",
            setup.config.account.imap.port
        )),
        "{stdout}"
    );
}
