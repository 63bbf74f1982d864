//! The shipped Python connectors read refusal texts with `connectors/shared/readings.py`;
//! these must be the reference connector's readings (`classify::imap::login_refusal`,
//! `classify::smtp::auth_refusal`, `probe::bearer::refusal_detail`), so that a difference in
//! the conformance matrix is the client's and not a drifted copy of ours. Both run over the
//! same replies: the refusal texts of every scenario, the mock personalities' and a sample
//! of real ones, and the bearer-token error challenges the mocks and real servers send.

use std::io::Write;
use std::process::{Command, Stdio};

use mailharness::classify;
use mailharness::outcome::ErrorClass;

use crate::support::tools::{Need, Test};

/// IMAP refusals: one per arm of the table and then some.
const IMAP: &[&str] = &[
    "[AUTHENTICATIONFAILED] Authentication failed.",
    "[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)",
    "[ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)",
    "[WEBALERT https://accounts.google.com/signin/continue] Web login required.",
    "[UNAVAILABLE] Temporary authentication failure.",
    "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)",
    "[ALERT] Too many simultaneous connections. (Failure)",
    "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
    "[ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)",
    "AUTHENTICATE failed. Basic authentication is disabled.",
    "[CONTACTADMIN] This address is not allowed.",
    "LOGIN failed.",
    "Invalid credentials (Failure)",
    "Incorrect username or password.",
    "[LIMIT] Too many sessions",
    "[LIMIT] CAPABILITY Rate limit hit.",
    "[UNAVAILABLE] Account is temporarily unavailable.",
    "[AUTHORIZATIONFAILED] No such authorization-ID",
    "[EXPIRED] That password isn't valid any more",
    "[CONTACTADMIN] Login from this address is not allowed.",
    "[OVERQUOTA] Account exceeded command or bandwidth limits.",
    "[INUSE] Mailbox in use",
    "[NOPERM] Access denied",
    "[SERVERBUG] UID SEARCH Server error",
    "[CLIENTBUG] SELECT Command is not valid in this state",
    "[CANNOT] Invalid mailbox name",
    "[CORRUPTION] Mailbox is corrupt",
    "[NONEXISTENT] Mailbox doesn't exist: Sent",
    "Success [THROTTLED]",
    "Server Unavailable. 15",
    "imap.nope.invalid is not known",
    "Try again later",
    "Something we have never seen.",
    "",
];

/// SMTP AUTH refusals with their codes.
const SMTP: &[(u16, &str)] = &[
    (
        550,
        "5.7.30 Basic authentication is not supported for Client Submission.",
    ),
    (
        535,
        "5.7.139 Authentication unsuccessful, basic authentication is disabled. [LO2P265CA0482.GBRP265.PROD.OUTLOOK.COM]",
    ),
    (
        535,
        "5.7.8 Error: authentication failed: authentication failure",
    ),
    (
        535,
        "5.7.8 Username and Password not accepted. For more information, go to",
    ),
    (
        534,
        "5.7.9 Application-specific password required. Learn more at\n5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor",
    ),
    (
        534,
        "5.7.14 <https://accounts.google.com/signin/continue?sarp=1> Please log in via your web browser and",
    ),
    (
        535,
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
    ),
    (
        535,
        "5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully.",
    ),
    (503, "5.5.1 Error: authentication not enabled"),
    (
        454,
        "4.7.0 Too many login attempts, please try again later.",
    ),
    (
        535,
        "5.7.3 Authentication unsuccessful [ROAP284CA0191.BRAP284.PROD.OUTLOOK.COM]",
    ),
    (535, "Incorrect authentication data"),
    (535, "5.7.0 (#AUTH005) Too many bad auth attempts."),
    (504, "5.7.4 Unrecognized authentication type."),
    (550, "5.7.1 Client host rejected: Access denied"),
    (421, "4.3.2 Service shutting down"),
    (500, "Something we have never seen."),
];

/// Error challenges before a refused bearer token (JSON, sent base64), with the scopes the
/// refused token was granted (none: the connector does not know them).
const CHALLENGES: &[(&str, Option<&[&str]>)] = &[
    // Gmail's: the scope the token lacks, or has.
    (
        r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#,
        Some(&["https://www.googleapis.com/auth/gmail.readonly"]),
    ),
    (
        r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#,
        Some(&["https://mail.google.com/"]),
    ),
    (
        r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#,
        None,
    ),
    // Dovecot's (and Postfix's through it) and RFC 7628's: the token itself is bad.
    (
        r#"{"status":"401","schemes":"bearer","scope":"mail"}"#,
        Some(&["https://mail.google.com/"]),
    ),
    (r#"{"status":"invalid_token"}"#, Some(&["openid"])),
    (
        r#"{"status":"insufficient_scope","scope":"a b"}"#,
        Some(&["a"]),
    ),
    (r#"{"status":"403","scope":"mail"}"#, Some(&[])),
    // A status written as a number.
    (r#"{"status":401,"scope":"mail"}"#, Some(&["openid"])),
    (r#"{"status":null,"scope":7}"#, Some(&["openid"])),
    (r#"{"status":true,"scope":["a"]}"#, Some(&["openid"])),
    (r#"["not", "an", "object"]"#, Some(&["x"])),
    ("not JSON", Some(&["x"])),
];

/// The refusal texts the scenarios make the mocks send (`login = { custom = … }`,
/// `auth = { custom = … }`).
fn scenario_texts() -> (Vec<String>, Vec<(u16, String)>) {
    let top = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let (scenarios, errors) = mailharness::scenario::load::load_all(&[top]);
    assert!(errors.is_empty(), "{errors:?}");
    let mut imap = Vec::new();
    let mut smtp = Vec::new();
    for loaded in scenarios {
        if let mailharness_mock_servers::ImapLogin::Custom(text) = &loaded.scenario.imap.login {
            // The text after NO/BAD, as a client library hands it on.
            imap.push(
                text.split_once(' ')
                    .map_or(text.clone(), |(_, t)| t.to_owned()),
            );
        }
        if let mailharness_mock_servers::SmtpAuth::Custom(reply) = &loaded.scenario.smtp.auth {
            smtp.push((reply.code(), reply.text()));
        }
    }
    (imap, smtp)
}

/// Every needle the reference connector's refusal table `function` in `file` looks for (the
/// string literals of its `has(&[…])` arms), each inside a reply text: a new arm is then
/// compared with the Python readings before any scenario or sample carries its text.
fn needles(file: &str, function: &str) -> Vec<String> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    let source = std::fs::read_to_string(&path).unwrap();
    let start = source
        .find(&format!("pub fn {function}("))
        .unwrap_or_else(|| panic!("{function} in {file}"));
    let body = &source[start..];
    let body = &body[..body.find("\n}\n").expect("the function's end")];
    let mut found = Vec::new();
    for arm in body.split("has(&[").skip(1) {
        let list = &arm[..arm.find(']').expect("the needles' end")];
        found.extend(
            list.split('"')
                .skip(1)
                .step_by(2)
                .map(|needle| format!("Refused: {needle} (x)")),
        );
    }
    assert!(
        found.len() > 10,
        "{function}: only {} needles found",
        found.len()
    );
    found
}

fn python_readings(imap: &[String], smtp: &[(u16, String)]) -> serde_json::Value {
    let script = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
from readings import auth_refusal, bearer_refusal_detail, login_refusal
cases = json.load(sys.stdin)
print(json.dumps({
    "imap": [list(login_refusal(t)) for t in cases["imap"]],
    "smtp": [list(auth_refusal(c, t)) for c, t in cases["smtp"]],
    "bearer": [bearer_refusal_detail(c, g) for c, g in cases["bearer"]],
}))
"#;
    let shared = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../connectors/shared");
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(shared)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let input = serde_json::json!({ "imap": imap, "smtp": smtp, "bearer": CHALLENGES });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

fn names(class: ErrorClass, detail: mailharness::outcome::Detail) -> serde_json::Value {
    serde_json::json!([class.to_string(), detail.to_string()])
}

fn the_python_connectors_read_refusals_as_the_reference_connector() {
    let (mut imap, mut smtp) = scenario_texts();
    imap.extend(IMAP.iter().map(|t| t.to_string()));
    imap.extend(needles("src/classify/imap.rs", "login_refusal"));
    smtp.extend(SMTP.iter().map(|(c, t)| (*c, t.to_string())));
    // Each SMTP needle with a temporary, a permanent and an AUTH code: the table reads both.
    for needle in needles("src/classify/smtp.rs", "auth_refusal") {
        smtp.extend([454, 535, 550].map(|code| (code, needle.clone())));
    }
    let python = python_readings(&imap, &smtp);
    for (text, read) in imap.iter().zip(python["imap"].as_array().unwrap()) {
        let (class, detail) = classify::imap::login_refusal(text);
        assert_eq!(read, &names(class, detail), "IMAP {text:?}");
    }
    for ((code, text), read) in smtp.iter().zip(python["smtp"].as_array().unwrap()) {
        let (class, detail) = classify::smtp::auth_refusal(*code, text);
        assert_eq!(read, &names(class, detail), "SMTP {code} {text:?}");
    }
    let bearer = python["bearer"].as_array().unwrap();
    assert_eq!(bearer.len(), CHALLENGES.len());
    for ((challenge, granted), read) in CHALLENGES.iter().zip(bearer) {
        use base64::Engine as _;
        let sent = base64::engine::general_purpose::STANDARD.encode(challenge);
        let granted: Option<Vec<String>> =
            granted.map(|scopes| scopes.iter().map(|s| s.to_string()).collect());
        let detail = mailharness::probe::bearer::refusal_detail(Some(&sent), granted.as_deref());
        assert_eq!(
            read,
            &serde_json::json!(detail.to_string()),
            "{challenge} {granted:?}"
        );
    }
    // Both tell the cases apart: the table is not all one reading.
    assert!(bearer.iter().any(|d| d == "insufficient-scope"));
    assert!(bearer.iter().any(|d| d == "token-rejected"));
}

/// The tests of this file, for `main.rs`.
pub fn tests() -> Vec<Test> {
    vec![Test {
        name: "the_python_connectors_read_refusals_as_the_reference_connector",
        needs: &[Need::Tool("python3")],
        run: the_python_connectors_read_refusals_as_the_reference_connector,
    }]
}
