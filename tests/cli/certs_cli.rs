//! `mailharness certs` end to end: the built binary writes the matrix, and the system's
//! `openssl verify` (a client independent of rustls) judges every certificate the way a
//! server would present it. CI installs `openssl`; without it these tests fail on purpose.

use std::ffi::OsStr;
use std::io::ErrorKind;
use std::path::Path;
use std::process::{Command, Output};

use mailharness_certs::{CertKind, Manifest};

/// Runs the built `mailharness` binary.
fn mailharness<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_mailharness"))
        .args(args)
        .output()
        .expect("mailharness runs")
}

/// Runs the system `openssl` in `dir`.
fn openssl(dir: &Path, args: &[&str]) -> Output {
    match Command::new("openssl").args(args).current_dir(dir).output() {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "`openssl` is not on PATH: these tests check the certificates with the OpenSSL \
             command line tool; install it (Debian/Ubuntu: apt-get install openssl)"
        ),
        Err(e) => panic!("cannot run openssl: {e}"),
    }
}

/// `openssl verify` of `KIND.pem` as a server sends it (leaf first, then any intermediate),
/// trusting only `ca.pem`, for TLS server use, for `host` (`-verify_hostname NAME` or
/// `-verify_ip ADDR`).
fn openssl_verify(dir: &Path, kind: CertKind, host: [&str; 2]) -> Output {
    let file = format!("{kind}.pem");
    openssl(
        dir,
        &[
            "verify",
            "-CAfile",
            "ca.pem",
            "-untrusted",
            &file,
            "-purpose",
            "sslserver",
            host[0],
            host[1],
            &file,
        ],
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What `openssl verify` must say about one kind.
enum Expect {
    Pass,
    /// Fails, with one of these reasons in its output (wordings differ between versions).
    Fail(&'static [&'static str]),
}

#[track_caller]
fn assert_verify(dir: &Path, kind: CertKind, host: [&str; 2], expect: Expect) {
    let output = openssl_verify(dir, kind, host);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    match expect {
        Expect::Pass => {
            assert!(
                output.status.success() && stdout.trim() == format!("{kind}.pem: OK"),
                "{kind}: openssl verify should accept it ({})\nstdout: {stdout}\nstderr: {stderr}",
                output.status
            );
        }
        Expect::Fail(reasons) => {
            assert!(
                !output.status.success(),
                "{kind}: openssl verify should reject it\nstdout: {stdout}\nstderr: {stderr}"
            );
            let all = format!("{stdout}{stderr}");
            assert!(
                reasons.iter().any(|reason| all.contains(reason)),
                "{kind}: expected one of {reasons:?} from openssl verify, got:\n{all}"
            );
        }
    }
}

/// Writes the matrix with the CLI into a fresh temp dir and returns it with the CLI's stdout.
fn write_matrix(extra: &[&str]) -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec![
        OsStr::new("certs"),
        OsStr::new("--out"),
        tmp.path().as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    let output = mailharness(&args);
    assert!(
        output.status.success(),
        "mailharness certs failed ({}): {}",
        output.status,
        text(&output.stderr)
    );
    (tmp, text(&output.stdout))
}

fn read_manifest(dir: &Path) -> Manifest {
    let json = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&json).expect("manifest.json parses")
}

#[test]
fn openssl_verify_judges_every_kind_as_named() {
    let (tmp, stdout) = write_matrix(&[]);
    let dir = tmp.path();
    let host = ["-verify_hostname", "localhost"];
    for kind in CertKind::ALL {
        let expect = match kind {
            CertKind::Valid | CertKind::ValidChain => Expect::Pass,
            CertKind::IncompleteChain | CertKind::UnknownCa => {
                Expect::Fail(&["unable to get local issuer certificate"])
            }
            CertKind::Expired => Expect::Fail(&["certificate has expired"]),
            CertKind::NotYetValid => Expect::Fail(&["certificate is not yet valid"]),
            // OpenSSL 3 writes "self-signed", 1.1 "self signed".
            CertKind::SelfSigned => {
                Expect::Fail(&["self-signed certificate", "self signed certificate"])
            }
            CertKind::WrongHost => Expect::Fail(&["hostname mismatch"]),
            // OpenSSL 3.0 says "unsuitable", 1.1 and the brief said "unsupported".
            CertKind::ClientAuthOnly => Expect::Fail(&[
                "unsuitable certificate purpose",
                "unsupported certificate purpose",
            ]),
            // OpenSSL falls back to the CN when a certificate has no subjectAltName, so it
            // accepts cn-only for a DNS name: this is how old clients behave, and why the kind
            // exists. Modern clients ignore the CN and reject it; certs/tests/verify.rs shows
            // rustls failing it with NotValidForName.
            CertKind::CnOnly => Expect::Pass,
        };
        assert_verify(dir, kind, host, expect);
        // The table printed by the CLI has a row per kind with its trust verdict.
        let trusted = if kind.is_trusted() { "yes" } else { "no" };
        assert!(
            stdout.lines().any(|line| {
                let cells: Vec<&str> = line.split_whitespace().collect();
                cells.len() == 4
                    && cells[0] == kind.name()
                    && cells[1] == format!("{kind}.pem")
                    && cells[2] == trusted
            }),
            "no row for {kind} in:\n{stdout}"
        );
    }

    // cn-only really has no SAN: the acceptance above comes from the CN fallback.
    let output = openssl(
        dir,
        &[
            "x509",
            "-in",
            "cn-only.pem",
            "-noout",
            "-ext",
            "subjectAltName",
        ],
    );
    let san = text(&output.stdout);
    assert!(
        !san.contains("Subject Alternative Name") && !san.contains("DNS:"),
        "cn-only has a SAN: {san}"
    );
    // Same command on a normal leaf shows it, so the check above can fail.
    let output = openssl(
        dir,
        &[
            "x509",
            "-in",
            "valid.pem",
            "-noout",
            "-ext",
            "subjectAltName",
        ],
    );
    assert!(text(&output.stdout).contains("DNS:localhost"));

    let manifest = read_manifest(dir);
    assert_eq!(manifest.host, "localhost");
    assert_eq!(manifest.certificates.len(), CertKind::ALL.len());
}

#[test]
fn ip_host_works() {
    let (tmp, stdout) = write_matrix(&["--host", "127.0.0.1"]);
    let dir = tmp.path();
    assert!(stdout.contains("127.0.0.1"), "{stdout}");
    assert_eq!(read_manifest(dir).host, "127.0.0.1");

    let ip = ["-verify_ip", "127.0.0.1"];
    assert_verify(dir, CertKind::Valid, ip, Expect::Pass);
    assert_verify(dir, CertKind::ValidChain, ip, Expect::Pass);
    assert_verify(
        dir,
        CertKind::WrongHost,
        ip,
        Expect::Fail(&["IP address mismatch"]),
    );
    // OpenSSL never matches an IP address against the CN, so for an IP host even old-style
    // clients reject cn-only.
    assert_verify(
        dir,
        CertKind::CnOnly,
        ip,
        Expect::Fail(&["IP address mismatch"]),
    );

    let output = openssl(
        dir,
        &[
            "x509",
            "-in",
            "valid.pem",
            "-noout",
            "-ext",
            "subjectAltName",
        ],
    );
    assert!(
        text(&output.stdout).contains("IP Address:127.0.0.1"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn missing_out_is_a_usage_error() {
    let output = mailharness(["certs"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("--out"));
}

#[test]
fn unknown_subcommand_and_bad_host_are_usage_errors() {
    assert_eq!(mailharness(["no-such-command"]).status.code(), Some(2));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("certs");
    let output = mailharness([
        OsStr::new("certs"),
        OsStr::new("--out"),
        out.as_os_str(),
        OsStr::new("--host"),
        OsStr::new("not a host"),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(!out.exists(), "nothing is written on a usage error");
}

#[test]
fn out_that_is_a_file_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "").unwrap();
    let output = mailharness([OsStr::new("certs"), OsStr::new("--out"), file.as_os_str()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).starts_with("error: "));
}

#[test]
fn write_failure_exits_1_with_its_cause() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "").unwrap();
    // A directory below a regular file cannot be created, not even by root.
    let out = file.join("certs");
    let output = mailharness([OsStr::new("certs"), OsStr::new("--out"), out.as_os_str()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: cannot write "), "{stderr}");
    assert!(stderr.contains("\n  caused by: "), "{stderr}");
}

#[test]
fn help_explains_kinds_and_key_mode() {
    let output = mailharness(["certs", "--help"]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for kind in CertKind::ALL {
        assert!(help.contains(kind.name()), "{kind} not in help:\n{help}");
    }
    assert!(help.contains("0600"), "{help}");
}
