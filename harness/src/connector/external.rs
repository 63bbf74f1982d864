//! Any program as the connector, over a small versioned protocol.
//!
//! The harness starts the program, writes one JSON object to its stdin and closes it:
//!
//! ```json
//! {
//!   "protocol": "mailharness-connector/1",
//!   "imap": { "host": "localhost", "port": 40001, "security": "implicit-tls" },
//!   "smtp": { "host": "localhost", "port": 40002, "security": "starttls" },
//!   "email": "alice@example.com",
//!   "username": null,
//!   "password": "…",
//!   "allow_insecure_certificate": false,
//!   "bcc": "bcc@crm.example",
//!   "ca_file": "/tmp/…/ca.pem",
//!   "step_timeout_ms": 10000,
//!   "source_address": null
//! }
//! ```
//!
//! and reads one JSON object from its stdout:
//!
//! ```json
//! { "class": "unauthorized", "step": "imap-login", "detail": "wrong-credentials",
//!   "response": { "code": "NO", "text": "[AUTHENTICATIONFAILED] Authentication failed." } }
//! ```
//!
//! `class` is one of the nine classes; `step` one of the five steps (null for `ok`);
//! `detail` and `response` may be null or left out. stderr is the connector's log. A program
//! that cannot be started, exits without such an object, prints something else, names an
//! unknown class or step, or outlives six step timeouts is a [`ConnectorError`], with an
//! excerpt of what it printed (the password and its base64 forms redacted).
//!
//! Each program runs in a process group of its own, killed whole when the scenario is done
//! with it (whatever it left running goes too), and all at once by [`stop_all`] when the
//! run stops on a signal.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{BoxFuture, ConnectionSecurity, Connector, ConnectorError, OAuthSettings, Settings};
use crate::outcome::{ErrorClass, Outcome, ServerResponse, Step};

/// The protocol version written in every request.
pub const PROTOCOL: &str = "mailharness-connector/1";

#[derive(Serialize)]
struct Endpoint<'a> {
    host: &'a str,
    port: u16,
    security: ConnectionSecurity,
}

/// What the connector reads on stdin.
#[derive(Serialize)]
struct Request<'a> {
    protocol: &'static str,
    imap: Endpoint<'a>,
    smtp: Endpoint<'a>,
    email: &'a str,
    username: Option<&'a str>,
    password: &'a str,
    allow_insecure_certificate: bool,
    bcc: &'a str,
    ca_file: Option<String>,
    step_timeout_ms: u128,
    source_address: Option<String>,
    /// An OAuth account's settings, sent only to a connector whose `connector.toml` says
    /// `oauth = true` (the password is then empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    oauth: Option<OAuthRequest<'a>>,
}

/// The `oauth` object of a request.
#[derive(Serialize)]
struct OAuthRequest<'a> {
    token_url: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    refresh_token: Option<&'a str>,
    access_token: Option<&'a str>,
    scope: &'a str,
}

impl<'a> OAuthRequest<'a> {
    fn of(oauth: &'a OAuthSettings) -> OAuthRequest<'a> {
        OAuthRequest {
            token_url: &oauth.token_url,
            client_id: &oauth.client_id,
            client_secret: oauth.client_secret.expose(),
            refresh_token: oauth.refresh_token.as_ref().map(|s| s.expose()),
            access_token: oauth.access_token.as_ref().map(|s| s.expose()),
            scope: &oauth.scope,
        }
    }
}

impl OAuthSettings {
    /// The request's `oauth` object, secrets in clear, as pretty JSON (for the file
    /// `mailharness serve` writes: what a connector would be given).
    pub fn request_json(&self) -> String {
        serde_json::to_string_pretty(&OAuthRequest::of(self)).expect("the object serialises")
    }
}

/// What the connector prints on stdout.
#[derive(Deserialize)]
struct Response {
    class: String,
    #[serde(default)]
    step: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    response: Option<ServerResponse>,
}

/// A connector described by `connectors/<name>/connector.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    name: String,
    #[serde(default)]
    description: String,
    /// The program and its arguments, run in the connector's directory.
    command: Vec<String>,
    /// A command that must succeed for the connector to work here (the tools it needs).
    #[serde(default)]
    check: Vec<String>,
    /// How to install those tools, run in the connector's directory: shown when `check`
    /// fails.
    #[serde(default)]
    setup: Option<String>,
    /// The program signs in with OAuth: an OAuth account's scenarios run for it, with an
    /// `oauth` object in the request (else they are skipped).
    #[serde(default)]
    oauth: bool,
}

/// A program run as the connector.
#[derive(Debug, Clone)]
pub struct ExternalConnector {
    name: String,
    description: String,
    command: Vec<String>,
    check: Vec<String>,
    setup: Option<String>,
    oauth: bool,
    dir: Option<PathBuf>,
}

impl ExternalConnector {
    /// `exec:COMMAND`: a shell command line, run with `sh -c`.
    pub fn from_command_line(line: &str) -> ExternalConnector {
        ExternalConnector {
            name: "exec".into(),
            description: line.to_owned(),
            command: vec!["sh".into(), "-c".into(), line.to_owned()],
            check: Vec::new(),
            setup: None,
            oauth: false,
            dir: None,
        }
    }

    /// The connector described in `dir/connector.toml`.
    pub fn from_dir(dir: &Path) -> Result<ExternalConnector, String> {
        let path = dir.join("connector.toml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let manifest: Manifest =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if manifest.command.is_empty() {
            return Err(format!("{}: `command` is empty", path.display()));
        }
        Ok(ExternalConnector {
            name: manifest.name,
            description: manifest.description,
            command: manifest.command,
            check: manifest.check,
            setup: manifest.setup,
            oauth: manifest.oauth,
            dir: Some(dir.to_owned()),
        })
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// Whether the tools the connector needs are here (its `check` command succeeds), or
    /// why not.
    pub fn available(&self) -> Result<(), String> {
        let Some((program, args)) = self.check.split_first() else {
            return Ok(());
        };
        let mut command = std::process::Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        let why = match command.output() {
            Ok(output) if output.status.success() => return Ok(()),
            Ok(output) => format!(
                "`{}` failed: {}",
                self.check.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            Err(e) => format!("`{}` cannot run: {e}", self.check.join(" ")),
        };
        Err(match (&self.setup, &self.dir) {
            (Some(setup), Some(dir)) => {
                format!("{why}\n  set it up with: cd {} && {setup}", dir.display())
            }
            _ => why,
        })
    }

    async fn run_program(&self, settings: &Settings) -> Result<Outcome, ConnectorError> {
        let password = settings.password.expose();
        let oauth = settings.oauth.as_ref();
        let mut secrets = vec![password];
        if let Some(oauth) = oauth {
            secrets.push(oauth.client_secret.expose());
            secrets.extend(oauth.refresh_token.as_ref().map(|s| s.expose()));
            secrets.extend(oauth.access_token.as_ref().map(|s| s.expose()));
        }
        let fail = |problem: String, printed: &str| ConnectorError {
            problem,
            excerpt: redact_all(&excerpt(printed), &secrets),
        };
        let request = Request {
            protocol: PROTOCOL,
            imap: Endpoint {
                host: &settings.imap.host,
                port: settings.imap.port,
                security: settings.imap.security,
            },
            smtp: Endpoint {
                host: &settings.smtp.host,
                port: settings.smtp.port,
                security: settings.smtp.security,
            },
            email: &settings.email,
            username: settings.username.as_deref(),
            password,
            allow_insecure_certificate: settings.allow_insecure_certificate,
            bcc: &settings.bcc,
            ca_file: settings.ca_file.as_ref().map(|p| p.display().to_string()),
            step_timeout_ms: settings.step_timeout.as_millis(),
            source_address: settings.source_address.map(|a| a.to_string()),
            oauth: oauth.map(OAuthRequest::of),
        };
        let input = serde_json::to_vec(&request).expect("the request serialises");
        let (program, args) = self
            .command
            .split_first()
            .expect("a command is never empty");
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A connector that outlives its time is killed with the future that waits on it.
            .kill_on_drop(true);
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command.process_group(0);
        let (mut child, _group) = Group::spawn(&mut command).map_err(|e| {
            fail(
                format!("cannot start `{}`: {e}", self.command.join(" ")),
                "",
            )
        })?;
        if let Some(mut stdin) = child.stdin.take() {
            // A connector that exits without reading its input is judged by what it prints.
            let _ = stdin.write_all(&input).await;
        }
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let ((stdout, dropped), (stderr, _), status) =
            tokio::join!(read_capped(stdout), read_capped(stderr), child.wait());
        let status = status.map_err(|e| fail(format!("cannot wait for the connector: {e}"), ""))?;
        let stdout = String::from_utf8_lossy(&stdout);
        let stderr = String::from_utf8_lossy(&stderr);
        let printed = format!(
            "{stdout}{}{stderr}",
            if stderr.is_empty() {
                ""
            } else {
                "\n--- stderr ---\n"
            }
        );
        let json = stdout
            .trim()
            .lines()
            .rev()
            .find(|line| line.trim_start().starts_with('{'))
            .map(str::trim);
        let Some(json) = json.filter(|_| !stdout.trim().is_empty()) else {
            let flood = if dropped > 0 {
                format!(
                    " in the last {MAX_KEPT_OUTPUT} bytes of {} it printed",
                    dropped + MAX_KEPT_OUTPUT as u64
                )
            } else {
                String::new()
            };
            return Err(fail(
                format!("printed no JSON outcome{flood} ({status})"),
                &printed,
            ));
        };
        let response: Response = serde_json::from_str(json).map_err(|e| {
            fail(
                format!("printed JSON that is not an outcome: {e}"),
                &printed,
            )
        })?;
        parse_outcome(response).map_err(|problem| fail(problem, &printed))
    }
}

/// The most bytes kept of each of a connector's output streams: the last ones, where the
/// outcome is. The rest is read and dropped, so a connector that floods its output neither
/// blocks nor grows the harness.
pub const MAX_KEPT_OUTPUT: usize = 1 << 20;

/// Reads `stream` to its end, keeping its last [`MAX_KEPT_OUTPUT`] bytes; also how many
/// were dropped.
async fn read_capped(stream: Option<impl tokio::io::AsyncRead + Unpin>) -> (Vec<u8>, u64) {
    let mut kept = Vec::new();
    let mut dropped = 0u64;
    let Some(mut stream) = stream else {
        return (kept, dropped);
    };
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => kept.extend_from_slice(&chunk[..n]),
        }
        if kept.len() > 2 * MAX_KEPT_OUTPUT {
            let cut = kept.len() - MAX_KEPT_OUTPUT;
            kept.drain(..cut);
            dropped += cut as u64;
        }
    }
    if kept.len() > MAX_KEPT_OUTPUT {
        let cut = kept.len() - MAX_KEPT_OUTPUT;
        kept.drain(..cut);
        dropped += cut as u64;
    }
    (kept, dropped)
}

/// The process groups of the connectors running now; none start once [`stop_all`] ran.
static GROUPS: Mutex<Groups> = Mutex::new(Groups {
    running: None,
    stopped: false,
});

struct Groups {
    running: Option<HashSet<u32>>,
    stopped: bool,
}

/// A connector's process group, killed (SIGKILL) when dropped: after the program exits
/// (what it left behind), when the scenario gives up on it, or when the run's tasks are
/// dropped.
struct Group(u32);

impl Group {
    /// Spawns `command` (set to lead a new group) and registers its group, unless the run
    /// is stopping. Registered under the same lock [`stop_all`] takes, so that no
    /// connector starts unseen by it.
    fn spawn(
        command: &mut tokio::process::Command,
    ) -> std::io::Result<(tokio::process::Child, Group)> {
        let mut groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
        if groups.stopped {
            return Err(std::io::Error::other("the run is stopping"));
        }
        let child = command.spawn()?;
        let id = child.id().expect("a child just spawned has a pid");
        groups.running.get_or_insert_with(HashSet::new).insert(id);
        Ok((child, Group(id)))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let mut groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
        if groups.running.as_mut().is_some_and(|r| r.remove(&self.0)) {
            kill_group(self.0);
        }
    }
}

fn kill_group(id: u32) {
    if let Ok(id) = i32::try_from(id)
        && id > 0
    {
        // SAFETY: killpg only sends a signal; the group is one this process made.
        unsafe {
            libc::killpg(id, libc::SIGKILL);
        }
    }
}

/// Kills every connector process group running now and lets none start after: for a run
/// stopping on a signal (`cli/run.rs`).
pub fn stop_all() {
    let mut groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
    groups.stopped = true;
    for id in groups.running.take().unwrap_or_default() {
        kill_group(id);
    }
}

fn parse_outcome(response: Response) -> Result<Outcome, String> {
    let class: ErrorClass = response.class.parse().map_err(|_| {
        format!(
            "reported the unknown class `{}` (expected one of {})",
            response.class,
            ErrorClass::ALL.map(|c| c.name()).join(", ")
        )
    })?;
    let step = match response.step.as_deref() {
        None | Some("") => None,
        Some(name) => Some(
            Step::ALL
                .into_iter()
                .find(|step| step.name() == name)
                .ok_or_else(|| format!("reported the unknown step `{name}`"))?,
        ),
    };
    Ok(Outcome {
        class,
        step,
        detail: response.detail.filter(|d| !d.is_empty()),
        response: response.response,
    })
}

/// The last lines of what the connector printed.
fn excerpt(printed: &str) -> String {
    let lines: Vec<&str> = printed.lines().collect();
    let start = lines.len().saturating_sub(20);
    lines[start..].join("\n")
}

/// `text` with each of `secrets` redacted (see [`redact`]), and every access token of the
/// mock authorization server (`mh-at-` and hex) the connector may have got and printed.
pub fn redact_all(text: &str, secrets: &[&str]) -> String {
    let mut out = secrets
        .iter()
        .fold(text.to_owned(), |text, secret| redact(&text, secret));
    while let Some(start) = out.find("mh-at-") {
        let end = out[start + 6..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .map_or(out.len(), |n| start + 6 + n);
        out.replace_range(start..end, "<redacted>");
    }
    out
}

/// `text` with the password and every base64 rendering of it replaced by `<redacted>`.
pub fn redact(text: &str, password: &str) -> String {
    if password.is_empty() {
        return text.to_owned();
    }
    let mut out = text.replace(password, "<redacted>");
    for skip in 0..3.min(password.len()) {
        let bytes = &password.as_bytes()[skip..];
        let whole = bytes.len() / 3 * 3;
        if whole >= 3 {
            out = out.replace(&STANDARD.encode(&bytes[..whole]), "<redacted>");
        }
    }
    out
}

impl Connector for ExternalConnector {
    fn name(&self) -> &str {
        &self.name
    }

    fn signs_in_with_oauth(&self) -> bool {
        self.oauth
    }

    fn run<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Outcome, ConnectorError>> {
        Box::pin(self.run_program(settings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/connector-protocol.md: the request example has exactly the request's fields, the
    /// response schema names exactly the classes and steps, the connector.toml parses.
    #[test]
    fn the_docs_examples_are_the_protocol() {
        let doc = include_str!("../../../docs/connector-protocol.md");
        let json = crate::doc_examples::blocks(doc, "json");
        let [request_doc, schema, oauth_doc] = json.as_slice() else {
            panic!("three JSON examples expected: {json:?}");
        };
        let request_doc: serde_json::Value = serde_json::from_str(request_doc).unwrap();
        let endpoint = || Endpoint {
            host: "localhost",
            port: 1,
            security: ConnectionSecurity::ImplicitTls,
        };
        let request = serde_json::to_value(Request {
            protocol: PROTOCOL,
            imap: endpoint(),
            smtp: endpoint(),
            email: "a@b.c",
            username: None,
            password: "p",
            allow_insecure_certificate: false,
            bcc: "b@c.d",
            ca_file: None,
            step_timeout_ms: 1,
            source_address: None,
            oauth: None,
        })
        .unwrap();
        let oauth = serde_json::to_value(OAuthRequest {
            token_url: "https://localhost:1/token",
            client_id: "c",
            client_secret: "s",
            refresh_token: None,
            access_token: None,
            scope: "x",
        })
        .unwrap();
        let keys = |value: &serde_json::Value| -> Vec<String> {
            let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&request_doc), keys(&request));
        let oauth_doc: serde_json::Value = serde_json::from_str(oauth_doc).unwrap();
        assert_eq!(keys(&oauth_doc["oauth"]), keys(&oauth));
        assert_eq!(request_doc["protocol"], PROTOCOL);
        let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
        let names = |list: &serde_json::Value| -> Vec<Option<String>> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let classes: Vec<Option<String>> = ErrorClass::ALL
            .iter()
            .map(|c| Some(c.to_string()))
            .collect();
        assert_eq!(names(&schema["properties"]["class"]["enum"]), classes);
        let steps: Vec<Option<String>> = std::iter::once(None)
            .chain(Step::ALL.iter().map(|s| Some(s.to_string())))
            .collect();
        assert_eq!(names(&schema["properties"]["step"]["enum"]), steps);
        for manifest in crate::doc_examples::blocks(doc, "toml") {
            let parsed: Manifest = toml::from_str(manifest).unwrap();
            assert!(!parsed.name.is_empty() && !parsed.command.is_empty());
        }
    }

    fn response(json: &str) -> Result<Outcome, String> {
        parse_outcome(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn outcomes_are_parsed_and_checked() {
        let outcome = response(r#"{"class":"unauthorized","step":"imap-login","detail":"wrong-credentials","response":{"code":"NO","text":"x"}}"#).unwrap();
        assert_eq!(outcome.class, ErrorClass::Unauthorized);
        assert_eq!(outcome.step, Some(Step::ImapLogin));
        assert_eq!(outcome.response.unwrap().text, "x");
        assert_eq!(
            response(r#"{"class":"ok","step":null}"#).unwrap(),
            Outcome::ok()
        );
        assert!(
            response(r#"{"class":"fine"}"#)
                .unwrap_err()
                .contains("unknown class `fine`")
        );
        assert!(
            response(r#"{"class":"ok","step":"imap-logon"}"#)
                .unwrap_err()
                .contains("unknown step")
        );
    }

    #[test]
    fn redaction_covers_clear_and_base64_forms() {
        let password = "correct horse battery";
        let plain = STANDARD.encode(format!("\0alice\0{password}"));
        let text = format!(
            "pw={password} login={} plain={plain}",
            STANDARD.encode(password)
        );
        let redacted = redact(&text, password);
        assert!(!redacted.contains(password));
        assert!(!redacted.contains(&STANDARD.encode(password)));
        assert!(!redacted.contains(&plain[8..plain.len() - 4]), "{redacted}");
        let oauth = "secret=cs-123 token=mh-at-0a1b2c got it; refresh rt-9";
        assert_eq!(
            redact_all(oauth, &["cs-123", "rt-9"]),
            "secret=<redacted> token=<redacted> got it; refresh <redacted>"
        );
    }
}
