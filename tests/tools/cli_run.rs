//! The `mailharness` binary end to end: `run` over the whole catalogue (exit code, JSON, no
//! password anywhere), bad files and mismatches, the JUnit and HTML reports (the HTML one
//! rendered in headless Chromium), `list`, and `serve`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::no_secret::{assert_no_oauth_secret, assert_no_secret, run_with_every_output};
use crate::support::tools::{Need, Test, tool_present};

fn mailharness() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailharness"));
    command.env_remove("RUST_LOG").env("NO_COLOR", "1");
    command
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn the_whole_catalogue_passes_and_no_password_is_ever_printed() {
    let password = "Tr0ub4dor&3-unique-mailharness-password";
    let mut command = mailharness();
    command.current_dir(repository());
    let outputs = run_with_every_output(command, &[], password);
    let (stdout, stderr) = (&outputs.stdout, &outputs.stderr);
    let report: serde_json::Value = serde_json::from_str(stdout).expect("JSON report");
    // On a failure, which scenarios and why (the trace on stderr is long).
    let failed: Vec<String> = report["scenarios"]
        .as_array()
        .map(|scenarios| {
            scenarios
                .iter()
                .filter(|s| s["passed"] != true)
                .map(|s| format!("{}: {}", s["id"], s["mismatch"]))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        outputs.status,
        Some(0),
        "failed: {failed:#?}\nstderr without traces:\n{}",
        stderr
            .lines()
            .filter(|line| !line.contains(" TRACE ") && !line.contains(" DEBUG "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let total = report["summary"]["total"].as_u64().unwrap();
    let (files, errors) = mailharness::scenario::load::load_all(&[repository().join("scenarios")]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        total,
        files.len() as u64,
        "every scenario of the catalogue ran"
    );
    assert_eq!(report["summary"]["failed"], 0);
    // Verbose runs keep transcripts: the AUTH lines are there, redacted.
    assert!(
        stdout.contains("AUTH PLAIN <redacted>"),
        "no redacted AUTH line in the report"
    );
    assert!(stdout.contains("LOGIN \\\"alice@example.com\\\" <redacted>"));
    assert!(
        stderr.contains("DEBUG") || stderr.contains("TRACE"),
        "verbose logs expected"
    );
    assert!(outputs.junit.contains(&format!(
        "<testsuite name=\"reference\" tests=\"{total}\" failures=\"0\""
    )));
    // Verbose runs put every transcript on the page too, behind a click.
    assert!(
        outputs
            .html
            .contains("LOGIN &quot;alice@example.com&quot; &lt;redacted&gt;"),
        "no redacted LOGIN line on the HTML page"
    );
    for haystack in outputs.all() {
        assert_no_secret(haystack, password, &["alice@example.com", "alice"]);
        assert_no_secret(haystack, &format!("not-{password}"), &["alice@example.com"]);
        assert_no_oauth_secret(haystack, password);
    }
}

fn write(dir: &Path, name: &str, contents: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

const GOOD: &str = "description = \"valid everywhere\"\n[expect]\nclass = \"ok\"\n";

fn run_in(dir: &Path, args: &[&str]) -> Output {
    mailharness().current_dir(dir).args(args).output().unwrap()
}

fn a_bad_file_is_named_with_its_position_and_the_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scenarios/good.toml", GOOD);
    write(
        dir.path(),
        "scenarios/tls/bad.toml",
        "description = \"typo\"\n[imap]\ncertificate = \"expird\"\n[expect]\nclass = \"ok\"\n",
    );
    let output = run_in(dir.path(), &["run"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    let stdout = text(&output.stdout);
    assert!(stderr.contains("tls/bad.toml:3:16"), "{stderr}");
    assert!(stderr.contains("unknown variant `expird`"), "{stderr}");
    assert!(
        stdout.contains("1 scenarios, 1 passed, 0 failed, 0 skipped, 1 bad files"),
        "{stdout}"
    );
}

fn a_mismatch_exits_1_with_a_table() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "scenarios/wrong.toml",
        "description = \"expects ok from an expired certificate\"\n[imap]\ncertificate = \"expired\"\n[expect]\nclass = \"ok\"\n",
    );
    write(dir.path(), "scenarios/good.toml", GOOD);
    let output = run_in(dir.path(), &["run", "--jobs", "1"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Mismatches"), "{stdout}");
    assert!(
        stdout.contains("wrong     ok        expected ok, got unauthorized_untrusted_certificate at imap-connect (certificate-expired)"),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "no colours when piped");
    // The tag filter leaves the good one out.
    let output = run_in(dir.path(), &["run", "--tag", "nothing-has-this"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no scenario matches"));
}

fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_in(dir.path(), &["run", "builtin:no-such-topic"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("no built-in scenario or directory `no-such-topic`"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        run_in(dir.path(), &["run", "--jobs", "0"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run_in(dir.path(), &["run", "--format", "xml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run_in(dir.path(), &["frobnicate"]).status.code(), Some(2));
}

fn list_shows_ids_tags_and_expectations() {
    let output = mailharness()
        .current_dir(repository())
        .args(["list", "--tag", "courier"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("courier/courier-implicit-tls"), "{stdout}");
    assert!(stdout.contains("imap_validation_error at imap-connect (courier-imap)"));
    assert!(!stdout.contains("tls/imap-implicit-valid"));
}

/// `mailharness serve SCENARIO --dir DIR`, up: the child, the rest of its stdout, and the
/// lines it printed up to "Press Ctrl-C".
fn serve(
    scenario: &str,
    dir: &Path,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
    Vec<String>,
) {
    let mut child = mailharness()
        .current_dir(repository())
        .args(["serve", scenario, "--dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    (child, lines, printed)
}

fn serve_keeps_the_servers_up_and_never_prints_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines, mut printed) = serve("scenarios/tls/starttls-on-both.toml", dir.path());
    let imap_port = printed
        .iter()
        .find(|line| line.trim_start().starts_with("IMAP"))
        .and_then(|line| line.split(':').nth(1))
        .and_then(|rest| rest.split_whitespace().next());
    let port: u16 = imap_port.expect("an IMAP line").parse().unwrap();
    // A client by hand: the STARTTLS server greets in the clear.
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut greeting = String::new();
    BufReader::new(&mut stream)
        .read_line(&mut greeting)
        .unwrap();
    assert!(
        greeting.contains("STARTTLS LOGINDISABLED] Dovecot (Debian) ready."),
        "{greeting}"
    );
    drop(stream);

    let password_file = dir.path().join("password");
    let password = std::fs::read_to_string(&password_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&password_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(dir.path().join("ca.pem").exists());
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    printed.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let all = printed.join("\n");
    assert!(all.contains("--- IMAP connection from 127.0.0.1"), "{all}");
    assert!(!all.contains(&password), "the password was printed");
}

/// `serve` of an OAuth scenario: its authorization server runs too, a connector's settings
/// are in `oauth.json` (mode 0600, gone after Ctrl-C), curl gets a token with them, and no
/// secret of theirs is printed.
fn serve_runs_an_oauth_scenario_s_token_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines, mut printed) = serve("scenarios/oauth/dovecot-ok.toml", dir.path());
    let oauth_file = dir.path().join("oauth.json");
    let oauth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&oauth_file).unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&oauth_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let token_url = oauth["token_url"].as_str().unwrap();
    let head = printed.join("\n");
    assert!(
        head.contains(&format!("token     {token_url} (client ")),
        "{head}"
    );
    let field = |name: &str| oauth[name].as_str().unwrap().to_owned();
    let (secret, refresh) = (field("client_secret"), field("refresh_token"));
    let form = format!(
        "grant_type=refresh_token&refresh_token={refresh}&client_id={}&client_secret={secret}&scope={}",
        field("client_id"),
        field("scope").replace(':', "%3A").replace('/', "%2F"),
    );
    // The body on stdin (`-d @-`): the secrets stay off the command line.
    let mut curl = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(dir.path().join("ca.pem"))
        .args(["-d", "@-", token_url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut curl.stdin.take().unwrap(), form.as_bytes()).unwrap();
    let answer = curl.wait_with_output().unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&answer.stdout).expect("JSON");
    assert_eq!(answer["token_type"], "Bearer", "{answer}");
    let access = answer["access_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("mh-at-"), "{answer}");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    printed.extend(lines.map(Result::unwrap));
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!oauth_file.exists(), "oauth.json stays after Ctrl-C");
    let all = printed.join("\n");
    for value in [&secret, &refresh, &access] {
        assert!(!all.contains(value.as_str()), "a secret was printed: {all}");
    }
}

/// A scenario that passes with the reference connector, with a short step timeout.
const QUICK: &str =
    "description = \"valid everywhere\"\nstep-timeout-ms = 300\n[expect]\nclass = \"ok\"\n";

fn run_connector(command: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scenarios/quick.toml", QUICK);
    let output = mailharness()
        .current_dir(dir.path())
        .args(["run", "--connector", command])
        .env("MAILHARNESS_PASSWORD", "p4ssw0rd-that-must-not-show")
        .output()
        .unwrap();
    (
        output.status.code(),
        text(&output.stdout) + &text(&output.stderr),
    )
}

fn connector_errors_are_named_and_never_pass() {
    let cases = [
        ("exec:echo not json", "printed no JSON outcome"),
        (
            "exec:echo '{\"class\": \"fine\"}'",
            "reported the unknown class `fine`",
        ),
        (
            "exec:echo '{\"class\": \"ok\", \"step\": \"imap-logon\"}'",
            "reported the unknown step `imap-logon`",
        ),
        ("exec:exit 3", "printed no JSON outcome (exit status: 3)"),
        ("exec:sleep 30", "did not finish within"),
        ("exec:/nonexistent/connector", "printed no JSON outcome"),
    ];
    for (command, problem) in cases {
        let (code, output) = run_connector(command);
        assert_eq!(code, Some(1), "{command}: {output}");
        assert!(output.contains("connector error"), "{command}: {output}");
        assert!(output.contains(problem), "{command}: {output}");
        assert!(
            output.contains("0 passed, 0 failed, 0 skipped, 1 connector errors"),
            "{command}: {output}"
        );
    }
}

fn a_connector_echoing_its_input_does_not_leak_the_password() {
    // `cat` prints the request, password included, which is JSON but no outcome.
    let (code, output) = run_connector("exec:cat");
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains("printed JSON that is not an outcome"),
        "{output}"
    );
    assert!(output.contains("<redacted>"), "{output}");
    assert!(!output.contains("p4ssw0rd-that-must-not-show"), "{output}");
}

fn an_external_connector_passes_like_the_reference_one() {
    let script = repository().join("connectors/python-stdlib/connector.py");
    let (code, output) = run_connector(&format!("exec:python3 {}", script.display()));
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("1 scenarios, 1 passed"), "{output}");
}

fn the_matrix_marks_mismatches_per_connector() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scenarios/quick.toml", QUICK);
    let output = mailharness()
        .current_dir(dir.path())
        .args([
            "run",
            "--connector",
            "reference",
            "--connector",
            "exec:echo '{\"class\": \"unauthorized\", \"step\": \"imap-login\"}'",
            "--format",
            "matrix",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("| scenario | expected | reference | exec |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| quick | ok | ok | **unauthorized** ✗ |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("reference: 1/1 as expected · exec: 0/1 as expected"),
        "{stdout}"
    );
}

/// The ids a JSON report holds.
fn report_ids(output: &Output) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

fn two_shards_together_run_exactly_the_selection() {
    // The mock topics that do not wait on purpose: real runs, a few seconds.
    let topics = ["scenarios/tls", "scenarios/auth", "scenarios/smtp"];
    let run = |extra: &[&str]| {
        let output = mailharness()
            .current_dir(repository())
            .args(["run", "--format", "json"])
            .args(topics)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        report_ids(&output)
    };
    let mut whole = run(&[]);
    whole.sort();
    for scheme in ["hash", "count"] {
        let first = run(&["--partition", &format!("{scheme}:1/2")]);
        let second = run(&["--partition", &format!("{scheme}:2/2")]);
        assert!(
            !first.is_empty() && !second.is_empty(),
            "{scheme}: an empty shard"
        );
        assert!(
            first.iter().all(|id| !second.contains(id)),
            "{scheme}: a scenario in both shards"
        );
        let mut both: Vec<String> = first.into_iter().chain(second).collect();
        both.sort();
        assert_eq!(both, whole, "{scheme}: the shards are not the selection");
    }
}

fn a_bad_partition_is_a_usage_error() {
    let output = mailharness()
        .current_dir(repository())
        .args(["run", "--partition", "hash:3/2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("expected hash:M/N or count:M/N"));
}

fn junit_has_a_case_per_scenario_failures_and_errors_and_no_password() {
    let password = "Junit-only-password-4711";
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scenarios/good.toml", GOOD);
    write(
        dir.path(),
        "scenarios/auth/wrong.toml",
        "description = \"a wrong password, expected to pass\"\n[account]\npassword = \"wrong\"\n[expect]\nclass = \"ok\"\n",
    );
    let junit = dir.path().join("out.xml");
    let output = mailharness()
        .current_dir(dir.path())
        .env("MAILHARNESS_PASSWORD", password)
        .args(["run", "--format", "json", "--connector", "reference"])
        .args(["--connector", "exec:false", "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("stdout is JSON only");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(
            "<testsuites name=\"mailharness\" tests=\"4\" failures=\"1\" errors=\"2\" skipped=\"0\""
        ),
        "{xml}"
    );
    assert!(xml.contains("<testsuite name=\"reference\" tests=\"2\" failures=\"1\" errors=\"0\""));
    assert!(xml.contains("<testsuite name=\"exec\" tests=\"2\" failures=\"0\" errors=\"2\""));
    assert!(xml.contains("<testcase classname=\"scenarios\" name=\"good\""));
    assert!(xml.contains("<failure type=\"unauthorized\" message=\"expected ok, got unauthorized at imap-login (wrong-credentials)\">"));
    // The failure carries the transcript, its LOGIN redacted.
    assert!(
        xml.contains("LOGIN &quot;alice@example.com&quot; &lt;redacted&gt;"),
        "{xml}"
    );
    assert_no_secret(&xml, password, &["alice@example.com", "alice"]);
    assert_no_secret(&xml, &format!("not-{password}"), &["alice@example.com"]);
    if tool_present("xmllint", "validation against the JUnit schema") {
        let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/junit.xsd");
        let check = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&junit)
            .output()
            .unwrap();
        assert!(check.status.success(), "{}\n{xml}", text(&check.stderr));
    }
}

fn on_github_actions_mismatches_are_annotated_and_the_summary_is_appended() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "scenarios/tls/wrong.toml",
        "description = \"expects ok from an expired certificate\"\n[imap]\ncertificate = \"expired\"\n[expect]\nclass = \"ok\"\n",
    );
    write(dir.path(), "scenarios/good.toml", GOOD);
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let output = mailharness()
        .current_dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["run", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("stdout is JSON only");
    let stderr = text(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(
        errors,
        [
            "::error file=scenarios/tls/wrong.toml,title=tls/wrong (reference)::expected ok, got unauthorized_untrusted_certificate at imap-connect (certificate-expired)"
        ],
        "{stderr}"
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with("earlier step\n## mailharness\n"),
        "{summary}"
    );
    assert!(summary.contains("Mismatches"));
    // Outside GitHub Actions: no annotations.
    let output = run_in(dir.path(), &["run", "--format", "json"]);
    assert!(!text(&output.stderr).contains("::error"));
}

fn a_baseline_turns_known_deviations_green_and_names_any_change() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = "description = \"expects ok from an expired certificate\"\n[imap]\ncertificate = \"expired\"\n[expect]\nclass = \"ok\"\n";
    write(dir.path(), "scenarios/tls/wrong.toml", wrong);
    write(dir.path(), "scenarios/good.toml", GOOD);
    assert_eq!(run_in(dir.path(), &["run"]).status.code(), Some(1));
    for name in ["baseline.toml", "baseline.json"] {
        let output = run_in(
            dir.path(),
            &["run", "--baseline", name, "--update-baseline"],
        );
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let recorded = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(
            recorded.contains("tls/wrong") && !recorded.contains("\"good\""),
            "{recorded}"
        );
        let output = run_in(dir.path(), &["run", "--baseline", name]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
        assert!(text(&output.stdout).contains("2 passed (1 as the baseline records)"));
    }
    // The scenario's behaviour changes: the run fails and names it.
    write(
        dir.path(),
        "scenarios/tls/wrong.toml",
        &wrong.replace("\"expired\"", "\"self-signed\""),
    );
    let output = run_in(dir.path(), &["run", "--baseline", "baseline.toml"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("tls/wrong"), "{stdout}");
    assert!(stdout.contains("changed from the baseline: expected unauthorized_untrusted_certificate at imap-connect (certificate-expired), got"), "{stdout}");
    // A bad baseline: its position and what was expected, exit 2, nothing run.
    write(
        dir.path(),
        "bad.toml",
        "[[known]]\nconnector = \"reference\"\nscenario = 3\n",
    );
    let output = run_in(dir.path(), &["run", "--baseline", "bad.toml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("bad.toml:3:12"), "{stderr}");
    assert!(
        stderr.contains("[[known]] tables with connector"),
        "{stderr}"
    );
    assert!(!stderr.contains("[  1/"), "nothing ran: {stderr}");
    // --update-baseline does not overwrite a bad file.
    let output = run_in(
        dir.path(),
        &["run", "--baseline", "bad.toml", "--update-baseline"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        std::fs::read_to_string(dir.path().join("bad.toml"))
            .unwrap()
            .contains("scenario = 3")
    );
}

/// Runs headless Chromium on `url` with `args`, its stdout to `stdout`, and waits at most a
/// minute. It may not reach the network: no proxy, every host name unresolvable, no
/// background fetches, a fresh profile in `profile` (the page itself fetches nothing).
fn chromium(profile: &Path, args: &[&str], url: &str, stdout: &Path) -> Output {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-proxy-server",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(std::fs::File::create(stdout).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within a minute: {args:?} {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// The width and height in a PNG's IHDR chunk (big-endian, at bytes 16 and 20).
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let number = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}

fn the_html_report_renders_in_a_browser_with_mismatches_behind_a_click() {
    let password = "Html-page-password-0815";
    let dir = tempfile::tempdir().unwrap();
    // Three catalogue scenarios as they are, and two whose [expect] is wrong.
    for name in [
        "imap-implicit-valid",
        "imap-implicit-expired",
        "imap-starttls-valid",
    ] {
        let file = format!("scenarios/tls/{name}.toml");
        std::fs::create_dir_all(dir.path().join("scenarios/tls")).unwrap();
        std::fs::copy(repository().join(&file), dir.path().join(&file)).unwrap();
    }
    write(
        dir.path(),
        "scenarios/tls/wrong-expect.toml",
        "description = \"expects ok from an expired certificate\"\ntags = [\"tls\", \"broken\"]\n[imap]\ncertificate = \"expired\"\n[expect]\nclass = \"ok\"\n",
    );
    write(
        dir.path(),
        "scenarios/tls/wrong-password.toml",
        "description = \"a wrong password, expected to pass\"\ntags = [\"auth\"]\n[account]\npassword = \"wrong\"\n[expect]\nclass = \"ok\"\n",
    );
    let page = dir.path().join("out.html");
    let output = mailharness()
        .current_dir(dir.path())
        .env("MAILHARNESS_PASSWORD", password)
        .args(["run", "scenarios/tls", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<details class=\"mismatch\""), "{html}");
    assert!(
        html.contains("LOGIN &quot;alice@example.com&quot; &lt;redacted&gt;"),
        "the mismatch's transcript, redacted: {html}"
    );
    assert_no_secret(&html, password, &["alice@example.com", "alice"]);
    assert_no_secret(&html, &format!("not-{password}"), &["alice@example.com"]);
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let dom = dir.path().join("dom.html");
    let dump = |query: &str| {
        let run = chromium(
            profile.path(),
            &["--dump-dom"],
            &format!("{url}{query}"),
            &dom,
        );
        assert!(run.status.success(), "{}", text(&run.stderr));
        std::fs::read_to_string(&dom).unwrap()
    };
    // The DOM after the page's script ran: every scenario (ids are relative to the path
    // given), the tally, the counts.
    let rendered = dump("");
    assert!(rendered.contains("Showing 5 of 5 scenarios"), "{rendered}");
    for id in [
        "imap-implicit-valid",
        "imap-implicit-expired",
        "imap-starttls-valid",
        "wrong-expect",
        "wrong-password",
    ] {
        assert!(rendered.contains(&format!(">{id}</")), "{id}: {rendered}");
    }
    assert!(rendered.contains("Tally per class"));
    assert!(rendered.contains(
        "<tr><td>unauthorized_untrusted_certificate</td><td class=\"num\">2</td><td class=\"num mismatch\">1</td></tr>"
    ), "{rendered}");
    assert!(!rendered.contains(" open=\"\""), "details start closed");
    // A mismatch's cell links to its details, and following the link opens them.
    let link = html
        .split("<td class=\"mismatch\" data-connector")
        .nth(1)
        .and_then(|cell| cell.split("<a href=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .expect("a mismatch cell with a link");
    let opened = dump(link);
    assert_eq!(opened.matches(" open=\"\"").count(), 1, "{opened}");
    assert!(opened.contains(&format!("id=\"{}\"", &link[1..])));
    // The filters, preset from the address, hide what they leave out.
    assert!(dump("?tag=broken").contains("Showing 1 of 5 scenarios"));
    assert!(dump("?only=problems").contains("Showing 2 of 5 scenarios"));
    let no_connector = dump("?tag=auth&connector=none");
    assert!(no_connector.contains("Showing 1 of 5 scenarios"));
    assert!(
        no_connector.contains("<th data-connector=\"0\" hidden=\"\">reference</th>"),
        "{no_connector}"
    );
    // What a person sees: a screenshot of the window's size, with more than a blank page.
    let png = dir.path().join("out.png");
    let shot = chromium(
        profile.path(),
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,2000",
            "--hide-scrollbars",
        ],
        &url,
        &dir.path().join("screenshot.log"),
    );
    assert!(shot.status.success(), "{}", text(&shot.stderr));
    let png = std::fs::read(&png).unwrap();
    assert_eq!(png_size(&png), (1280, 2000));
    assert!(
        png.len() > 60_000,
        "a nearly blank screenshot: {} bytes",
        png.len()
    );
}

/// The tests of this file, for `main.rs`.
pub fn tests() -> Vec<Test> {
    vec![
        Test {
            name: "the_whole_catalogue_passes_and_no_password_is_ever_printed",
            needs: &[],
            run: the_whole_catalogue_passes_and_no_password_is_ever_printed,
        },
        Test {
            name: "a_bad_file_is_named_with_its_position_and_the_others_still_run",
            needs: &[],
            run: a_bad_file_is_named_with_its_position_and_the_others_still_run,
        },
        Test {
            name: "a_mismatch_exits_1_with_a_table",
            needs: &[],
            run: a_mismatch_exits_1_with_a_table,
        },
        Test {
            name: "usage_errors_exit_2",
            needs: &[],
            run: usage_errors_exit_2,
        },
        Test {
            name: "list_shows_ids_tags_and_expectations",
            needs: &[],
            run: list_shows_ids_tags_and_expectations,
        },
        Test {
            name: "serve_keeps_the_servers_up_and_never_prints_the_password",
            needs: &[],
            run: serve_keeps_the_servers_up_and_never_prints_the_password,
        },
        Test {
            name: "serve_runs_an_oauth_scenario_s_token_endpoint",
            needs: &[Need::Tool("curl")],
            run: serve_runs_an_oauth_scenario_s_token_endpoint,
        },
        Test {
            name: "connector_errors_are_named_and_never_pass",
            needs: &[],
            run: connector_errors_are_named_and_never_pass,
        },
        Test {
            name: "a_connector_echoing_its_input_does_not_leak_the_password",
            needs: &[],
            run: a_connector_echoing_its_input_does_not_leak_the_password,
        },
        Test {
            name: "an_external_connector_passes_like_the_reference_one",
            needs: &[Need::Tool("python3")],
            run: an_external_connector_passes_like_the_reference_one,
        },
        Test {
            name: "the_matrix_marks_mismatches_per_connector",
            needs: &[],
            run: the_matrix_marks_mismatches_per_connector,
        },
        Test {
            name: "two_shards_together_run_exactly_the_selection",
            needs: &[],
            run: two_shards_together_run_exactly_the_selection,
        },
        Test {
            name: "a_bad_partition_is_a_usage_error",
            needs: &[],
            run: a_bad_partition_is_a_usage_error,
        },
        Test {
            name: "junit_has_a_case_per_scenario_failures_and_errors_and_no_password",
            needs: &[],
            run: junit_has_a_case_per_scenario_failures_and_errors_and_no_password,
        },
        Test {
            name: "on_github_actions_mismatches_are_annotated_and_the_summary_is_appended",
            needs: &[],
            run: on_github_actions_mismatches_are_annotated_and_the_summary_is_appended,
        },
        Test {
            name: "a_baseline_turns_known_deviations_green_and_names_any_change",
            needs: &[],
            run: a_baseline_turns_known_deviations_green_and_names_any_change,
        },
        Test {
            name: "the_html_report_renders_in_a_browser_with_mismatches_behind_a_click",
            needs: &[Need::Tool("chromium")],
            run: the_html_report_renders_in_a_browser_with_mismatches_behind_a_click,
        },
    ]
}
