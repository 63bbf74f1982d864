//! The one assertion every output test makes: a password appears nowhere, not in clear,
//! not in base64 at any alignment, not as an AUTH PLAIN payload; and for an OAuth account,
//! neither its client secret, its refresh token nor any access token. And the run those
//! tests look through: every output of `mailharness run` at once.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// What one `mailharness run` wrote: the JSON report with transcripts on stdout, the TRACE
/// log on stderr, the JUnit and HTML files.
pub struct Outputs {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub junit: String,
    pub html: String,
}

impl Outputs {
    /// All four, for the secret assertions.
    pub fn all(&self) -> [&String; 4] {
        [&self.stdout, &self.stderr, &self.junit, &self.html]
    }
}

/// `command` (a `mailharness` to run) with `run ARGS --format json --verbose --junit …
/// --html …`, the servers knowing `password`, logs at TRACE.
pub fn run_with_every_output(mut command: Command, args: &[&str], password: &str) -> Outputs {
    let junit = tempfile::NamedTempFile::new().unwrap();
    let html = tempfile::NamedTempFile::new().unwrap();
    let output = command
        .arg("run")
        .args(args)
        .args(["--format", "json", "--verbose", "--junit"])
        .arg(junit.path())
        .arg("--html")
        .arg(html.path())
        .env("MAILHARNESS_PASSWORD", password)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    Outputs {
        status: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        junit: std::fs::read_to_string(junit.path()).unwrap(),
        html: std::fs::read_to_string(html.path()).unwrap(),
    }
}

/// Every base64 rendering in which `secret` could hide inside a longer encoded payload:
/// for each of the three alignments, the part of the encoding that depends on the secret's
/// bytes alone.
fn base64_forms(secret: &str) -> Vec<String> {
    (0..3)
        .map(|skip| {
            let bytes = &secret.as_bytes()[skip..];
            let whole = bytes.len() / 3 * 3;
            STANDARD.encode(&bytes[..whole])
        })
        .collect()
}

#[track_caller]
pub fn assert_no_secret(haystack: &str, secret: &str, logins: &[&str]) {
    assert!(!haystack.contains(secret), "the password appears in clear");
    for form in base64_forms(secret) {
        assert!(
            !haystack.contains(&form),
            "the password appears in base64 ({form})"
        );
    }
    for login in logins {
        let plain = STANDARD.encode(format!("\0{login}\0{secret}"));
        assert!(!haystack.contains(&plain), "an AUTH PLAIN payload appears");
    }
}

/// No OAuth secret of a run with `password` appears: the client secret and refresh token
/// (made from the password, `plan::oauth_secret`), in clear and in base64, and no access
/// token the mock authorization server issued (they all start `mh-at-`), in clear or inside
/// an XOAUTH2 or OAUTHBEARER payload (`auth=Bearer mh-at-` in base64 at any alignment).
#[track_caller]
pub fn assert_no_oauth_secret(haystack: &str, password: &str) {
    for what in ["client-secret", "refresh-token"] {
        let secret = mailharness::plan::oauth_secret(password, what);
        assert!(!haystack.contains(&secret), "the {what} appears in clear");
        for form in base64_forms(&secret) {
            assert!(!haystack.contains(&form), "the {what} appears in base64");
        }
    }
    assert!(
        !haystack.contains("mh-at-"),
        "an access token appears in clear"
    );
    for form in base64_forms("auth=Bearer mh-at-") {
        assert!(
            !haystack.contains(&form),
            "an access token appears inside a SASL payload ({form})"
        );
    }
}
