//! One IMAP connection's state machine: bytes in, [`Action`]s out, no I/O.
//!
//! It frames commands (lines and literals), answers them as the configured personality
//! would, tracks the connection state (not authenticated, authenticating, authenticated,
//! selected, logged out) and records every client line in the transcript with passwords and
//! SASL payloads redacted.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use super::command::{self, Arg, Command};
use super::personality::{self, ImapTexts};
use super::{ImapConfig, ImapGreeting, ImapLogin, SessionCounts};
use crate::config::{ImapRefusal, Milestone};
use crate::hostile::{Hostility, Point, Then};
use crate::lines::InputBuffer;
use crate::sasl::{Credentials, SaslExchange, SaslStep};
use crate::session::{Action, Session};
use crate::transcript::{REDACTED, TranscriptHandle};

/// Longest command line accepted (Dovecot allows 64 KiB; a connector sends far less).
const MAX_LINE: usize = 16 * 1024;
/// Largest literal accepted.
const MAX_LITERAL: usize = 64 * 1024;

/// A port an SSH server would be on: what a connector meets when the port is wrong.
const GARBAGE_GREETING: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";

enum State {
    NotAuthenticated,
    /// Inside AUTHENTICATE: the next line is a SASL response, not a command.
    Authenticating {
        tag: String,
        exchange: SaslExchange,
    },
    Authenticated,
    Selected,
    /// STARTTLS answered; nothing is read until the handshake is done.
    AwaitingTls,
    /// Greeting `garbage`: input is read and ignored.
    Mute,
    LoggedOut,
}

/// A counted authenticated session; dropping it frees the slot.
struct SessionSlot {
    counts: SessionCounts,
    key: (String, std::net::IpAddr),
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().expect("session counts lock");
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
        }
    }
}

pub(crate) struct ImapSession {
    config: Arc<ImapConfig>,
    texts: &'static ImapTexts,
    peer: SocketAddr,
    tls: bool,
    state: State,
    input: InputBuffer,
    /// The command being assembled, when a literal is still to come.
    partial: Vec<u8>,
    pending_literal: Option<usize>,
    actions: VecDeque<Action>,
    counts: SessionCounts,
    slot: Option<SessionSlot>,
    hostility: Hostility,
    transcript: TranscriptHandle,
}

impl ImapSession {
    pub(crate) fn new(
        config: Arc<ImapConfig>,
        peer: SocketAddr,
        tls: bool,
        counts: SessionCounts,
        transcript: TranscriptHandle,
    ) -> ImapSession {
        ImapSession {
            hostility: Hostility::new(&config.hostile),
            texts: config.personality.texts(),
            config,
            peer,
            tls,
            state: State::NotAuthenticated,
            input: InputBuffer::default(),
            partial: Vec::new(),
            pending_literal: None,
            actions: VecDeque::new(),
            counts,
            slot: None,
            transcript,
        }
    }

    fn send_line(&mut self, line: impl AsRef<str>) {
        let mut bytes = line.as_ref().as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        self.actions.push_back(Action::Send(bytes));
    }

    fn tagged(&mut self, tag: &str, reply: impl AsRef<str>) {
        self.send_line(format!("{tag} {}", reply.as_ref()));
    }

    fn is_authenticated(&self) -> bool {
        matches!(self.state, State::Authenticated | State::Selected)
    }

    /// Whether login is refused on this connection because TLS is required and absent.
    fn login_needs_tls(&self) -> bool {
        self.config.security.requires_tls_for_login() && !self.tls
    }

    fn capabilities(&self) -> String {
        if self.is_authenticated() {
            return self.texts.post_login_capabilities.to_owned();
        }
        let mut tls = String::new();
        if self.config.security.offers_starttls() && !self.tls {
            tls.push_str(" STARTTLS");
        }
        let mut auth = String::new();
        if self.login_needs_tls() {
            tls.push_str(" LOGINDISABLED");
        } else {
            auth = format!(" {}", self.texts.auth_capabilities);
        }
        let base = self.texts.base_capabilities;
        let mut caps = base.replace("{tls}", &tls).replace("{auth}", &auth);
        if !base.contains("{tls}") {
            caps.push_str(&tls);
        }
        if !base.contains("{auth}") {
            caps.push_str(&auth);
        }
        caps
    }

    fn greeting(&self) -> String {
        self.texts
            .greeting
            .replace("{caps}", &self.capabilities())
            .replace("{ip}", &self.peer.ip().to_string())
    }

    /// Takes the next complete command (with its literals inline) from the input, sending
    /// `+` continuations for synchronising literals. `Err` on an overlong line or literal.
    fn next_command(&mut self) -> Result<Option<Vec<u8>>, &'static str> {
        loop {
            if let Some(size) = self.pending_literal {
                let Some(bytes) = self.input.take_exact(size) else {
                    return Ok(None);
                };
                self.partial.extend_from_slice(&bytes);
                self.pending_literal = None;
            }
            let Some(line) = self
                .input
                .next_line(MAX_LINE)
                .map_err(|_| "Command line too long")?
            else {
                return Ok(None);
            };
            self.partial.extend_from_slice(&line);
            match command::literal_announcement(&line) {
                Some((size, _)) if size > MAX_LITERAL => return Err("Literal too large"),
                Some((size, synchronising)) => {
                    self.partial.extend_from_slice(b"\r\n");
                    self.pending_literal = Some(size);
                    if synchronising {
                        self.send_line("+ OK");
                    }
                }
                None => return Ok(Some(std::mem::take(&mut self.partial))),
            }
        }
    }

    /// Processes input until an action is queued or more input is needed.
    fn process(&mut self) {
        while self.actions.is_empty() {
            match self.state {
                State::AwaitingTls | State::LoggedOut => return,
                State::Mute => {
                    self.input.take_all();
                    return;
                }
                State::Authenticating { .. } => {
                    let line = match self.input.next_line(MAX_LINE) {
                        Ok(Some(line)) => line,
                        Ok(None) => return,
                        Err(_) => return self.fatal("Authentication response too long"),
                    };
                    self.transcript.client(REDACTED);
                    self.sasl_response(&line);
                }
                State::NotAuthenticated | State::Authenticated | State::Selected => {
                    match self.next_command() {
                        Ok(Some(bytes)) => self.command(&bytes),
                        Ok(None) => return,
                        Err(reason) => return self.fatal(reason),
                    }
                }
            }
        }
    }

    /// A protocol violation the server does not survive: BYE and close, as Dovecot does.
    fn fatal(&mut self, reason: &str) {
        self.send_line(format!("* BYE {reason}"));
        self.actions.push_back(Action::Close);
        self.state = State::LoggedOut;
    }

    fn record_client(&self, bytes: &[u8], parsed: Option<&Command>) {
        let name = parsed.map(|c| c.name.clone()).or_else(|| {
            let mut words = bytes.split(|&b| b == b' ');
            words.next();
            words
                .next()
                .map(|w| String::from_utf8_lossy(w).to_ascii_uppercase())
        });
        let tag = String::from_utf8_lossy(bytes.split(|&b| b == b' ').next().unwrap_or(b""));
        match (name.as_deref(), parsed) {
            (Some("LOGIN"), Some(cmd)) if !cmd.args.is_empty() => {
                let user = cmd.args[0].text().unwrap_or_default();
                self.transcript
                    .client(format!("{tag} LOGIN {user:?} {REDACTED}"));
            }
            (Some("AUTHENTICATE"), Some(cmd)) if cmd.args.len() > 1 => {
                let mechanism = cmd.args[0].text().unwrap_or_default();
                self.transcript
                    .client(format!("{tag} AUTHENTICATE {mechanism} {REDACTED}"));
            }
            (Some("LOGIN" | "AUTHENTICATE"), _) => {
                self.transcript
                    .client(format!("{tag} {} {REDACTED}", name.unwrap_or_default()));
            }
            _ => self.transcript.client(bytes),
        }
    }

    /// Queues the configured greeting.
    fn greet(&mut self) {
        let config = self.config.clone();
        match &config.greeting {
            ImapGreeting::Standard => self.send_line(self.greeting()),
            ImapGreeting::Custom(line) => {
                self.send_line(line.clone());
                // The greeting's status is the session's state (RFC 3501 §7.1): after a
                // BYE the server closes, after PREAUTH the client is logged in.
                if is_untagged(line, "BYE") {
                    self.actions.push_back(Action::Close);
                    self.state = State::LoggedOut;
                    return;
                }
                if is_untagged(line, "PREAUTH") {
                    self.state = State::Authenticated;
                }
            }
            ImapGreeting::None => return,
            ImapGreeting::Garbage => {
                self.actions
                    .push_back(Action::Send(GARBAGE_GREETING.to_vec()));
                self.state = State::Mute;
            }
        }
        self.actions
            .push_back(Action::Reached(Milestone::AfterGreeting));
    }

    /// Answers one command, then lets a hostile rule for it rewrite the answer.
    fn command(&mut self, bytes: &[u8]) {
        let from = self.actions.len();
        self.dispatch(bytes);
        let mut words = bytes.split(|&b| b == b' ' || b == b'\r' || b == b'\n');
        let tag = String::from_utf8_lossy(words.next().unwrap_or_default()).into_owned();
        let name = String::from_utf8_lossy(words.next().unwrap_or_default()).to_ascii_uppercase();
        self.hostile_at(Point::Command(&name), Some(&tag), from);
    }

    /// Applies the first hostile rule for `point` to the actions queued from `from` on.
    fn hostile_at(&mut self, point: Point<'_>, tag: Option<&str>, from: usize) {
        match self.hostility.apply(point, tag, &mut self.actions, from) {
            Some(Then::Close) => self.state = State::LoggedOut,
            Some(Then::Silence) => self.state = State::Mute,
            Some(Then::Continue) | None => {}
        }
    }

    fn dispatch(&mut self, bytes: &[u8]) {
        let command = match command::parse(bytes) {
            Ok(command) => command,
            Err(error) => {
                self.record_client(bytes, None);
                let tag = error.tag.unwrap_or_else(|| "*".into());
                return self.tagged(&tag, format!("BAD Error in IMAP command: {}", error.reason));
            }
        };
        self.record_client(bytes, Some(&command));
        let tag = command.tag.as_str();
        let authenticated = self.is_authenticated();
        match command.name.as_str() {
            "CAPABILITY" => {
                self.send_line(format!("* CAPABILITY {}", self.capabilities()));
                self.tagged(tag, self.texts.capability_ok);
            }
            "NOOP" => self.tagged(tag, "OK NOOP completed."),
            "LOGOUT" => {
                self.send_line(self.texts.bye);
                self.tagged(tag, self.texts.logout_ok);
                self.actions.push_back(Action::Close);
                self.state = State::LoggedOut;
            }
            "ID" => match self.texts.id_response {
                Some(answer) => {
                    self.send_line(answer);
                    self.tagged(tag, "OK ID completed.");
                }
                None => self.tagged(tag, self.texts.id_refused),
            },
            "STARTTLS" if !authenticated => self.starttls(tag),
            "LOGIN" if !authenticated => self.login(&command),
            "AUTHENTICATE" if !authenticated => self.authenticate(&command),
            "ENABLE" if authenticated => self.tagged(tag, "OK Enabled."),
            "LIST" if authenticated => self.list(&command),
            "SELECT" | "EXAMINE" if authenticated => self.select(&command),
            "CLOSE" | "UNSELECT" if matches!(self.state, State::Selected) => {
                self.state = State::Authenticated;
                self.tagged(tag, format!("OK {} completed.", command.name));
            }
            name => {
                let reply = self.texts.unknown_command.replace("{name}", name);
                self.tagged(tag, reply);
            }
        }
    }

    fn starttls(&mut self, tag: &str) {
        if self.tls {
            self.tagged(tag, "BAD TLS is already active.");
        } else if self.config.security.offers_starttls() {
            self.tagged(tag, self.texts.starttls_ok);
            self.actions.push_back(Action::StartTls);
            self.state = State::AwaitingTls;
        } else {
            self.tagged(tag, self.texts.starttls_unavailable);
        }
    }

    fn refuse_cleartext_login(&mut self, tag: &str) {
        if let Some(alert) = self.texts.privacy_alert {
            self.send_line(alert);
        }
        self.tagged(tag, self.texts.privacy_required);
    }

    fn login(&mut self, command: &Command) {
        let tag = command.tag.clone();
        if self.login_needs_tls() {
            return self.refuse_cleartext_login(&tag);
        }
        match (
            command.args.first().and_then(Arg::text),
            command.args.get(1).and_then(Arg::text),
            command.args.len(),
        ) {
            (Some(login), Some(password), 2) => {
                self.finish_login(&tag, Credentials { login, password })
            }
            _ => self.tagged(&tag, "BAD Error in IMAP command LOGIN: Invalid arguments."),
        }
    }

    fn authenticate(&mut self, command: &Command) {
        let tag = command.tag.clone();
        if self.login_needs_tls() {
            return self.refuse_cleartext_login(&tag);
        }
        let mechanism = command.args.first().and_then(Arg::text).unwrap_or_default();
        let initial = command.args.get(1).and_then(Arg::text);
        let offered = self
            .texts
            .auth_capabilities
            .split(' ')
            .any(|cap| cap.eq_ignore_ascii_case(&format!("AUTH={mechanism}")));
        let started = offered
            .then(|| SaslExchange::start(&mechanism, initial.as_deref().map(str::as_bytes)))
            .flatten();
        match started {
            Some((exchange, step)) => {
                self.state = State::Authenticating {
                    tag: tag.clone(),
                    exchange,
                };
                self.sasl_step(step);
            }
            None => self.tagged(&tag, "NO Unsupported authentication mechanism."),
        }
    }

    fn sasl_response(&mut self, line: &[u8]) {
        let step = match &mut self.state {
            State::Authenticating { exchange, .. } => exchange.respond(line),
            _ => return,
        };
        self.sasl_step(step);
    }

    fn sasl_step(&mut self, step: SaslStep) {
        let tag = match &self.state {
            State::Authenticating { tag, .. } => tag.clone(),
            _ => return,
        };
        match step {
            SaslStep::Challenge(challenge) => self.send_line(format!("+ {challenge}")),
            SaslStep::Done(credentials) => {
                self.state = State::NotAuthenticated;
                self.finish_login(&tag, credentials);
            }
            SaslStep::Cancelled => {
                self.state = State::NotAuthenticated;
                self.tagged(&tag, "BAD Authentication aborted by client.");
            }
            SaslStep::Malformed => {
                self.state = State::NotAuthenticated;
                self.tagged(&tag, "BAD Invalid base64 data in continued response");
            }
        }
    }

    /// Decides a login whose credentials have been read, whichever command carried them.
    fn finish_login(&mut self, tag: &str, credentials: Credentials) {
        let config = self.config.clone();
        if let Some(policy) = &config.allowlist
            && policy.refuse_at == ImapRefusal::Login
            && !policy.allows(self.peer.ip())
        {
            let text = policy
                .refusal_text
                .as_deref()
                .unwrap_or(personality::ADDRESS_NOT_ALLOWED);
            return self.tagged(tag, text);
        }
        let known = config
            .users
            .iter()
            .any(|user| user.login == credentials.login && user.password == credentials.password);
        let refusal = match &config.login {
            _ if !known => Some(self.texts.wrong_credentials.to_owned()),
            ImapLogin::Ok => None,
            ImapLogin::WrongCredentials => Some(self.texts.wrong_credentials.to_owned()),
            ImapLogin::AppPasswordRequired => Some(personality::APP_PASSWORD_REQUIRED.to_owned()),
            ImapLogin::Unavailable => Some(personality::UNAVAILABLE.to_owned()),
            ImapLogin::Custom(reply) => Some(reply.clone()),
        };
        if let Some(refusal) = refusal {
            self.actions.push_back(Action::LoginRefused);
            // A `* BYE …` custom reply ends the session instead of a tagged refusal.
            if is_untagged(&refusal, "BYE") {
                self.send_line(refusal);
                self.actions.push_back(Action::Close);
                self.state = State::LoggedOut;
                return;
            }
            return self.tagged(tag, refusal);
        }
        let key = (credentials.login.clone(), self.peer.ip());
        {
            let mut counts = self.counts.lock().expect("session counts lock");
            let count = counts.entry(key.clone()).or_insert(0);
            if let Some(limit) = config.max_connections_per_user
                && *count >= limit
            {
                drop(counts);
                let reply = self
                    .texts
                    .too_many_connections
                    .replace("{limit}", &limit.to_string());
                // Dovecot closes the connection after this refusal (seen).
                self.tagged(tag, reply);
                self.actions.push_back(Action::Close);
                self.state = State::LoggedOut;
                return;
            }
            *count += 1;
        }
        self.slot = Some(SessionSlot {
            counts: self.counts.clone(),
            key,
        });
        self.state = State::Authenticated;
        let reply = self
            .texts
            .login_ok
            .replace("{caps}", &self.capabilities())
            .replace("{user}", &credentials.login);
        self.tagged(tag, reply);
        self.actions
            .push_back(Action::Reached(Milestone::AfterLogin));
    }

    fn mailboxes(&self) -> Vec<(String, &'static str)> {
        let mut boxes = vec![
            ("INBOX".to_owned(), "\\HasNoChildren"),
            (self.texts.sent_folder.to_owned(), "\\HasNoChildren \\Sent"),
        ];
        boxes.extend(
            self.config
                .folders
                .iter()
                .map(|name| (name.clone(), "\\HasNoChildren")),
        );
        boxes
    }

    fn list(&mut self, command: &Command) {
        let tag = command.tag.clone();
        let (Some(reference), Some(pattern)) = (
            command.args.first().and_then(Arg::text),
            command.args.get(1).and_then(Arg::text),
        ) else {
            return self.tagged(&tag, "BAD Error in IMAP command LIST: Invalid arguments.");
        };
        let delimiter = self.texts.delimiter;
        if pattern.is_empty() {
            // RFC 3501: an empty pattern asks for the hierarchy delimiter.
            self.send_line(format!("* LIST (\\Noselect) \"{delimiter}\" \"\""));
        } else {
            let pattern = format!("{reference}{pattern}");
            for (name, flags) in self.mailboxes() {
                if wildcard_match(&pattern, &name, delimiter) {
                    self.send_line(format!("* LIST ({flags}) \"{delimiter}\" {}", quote(&name)));
                }
            }
        }
        self.tagged(&tag, self.texts.list_ok);
    }

    fn select(&mut self, command: &Command) {
        let tag = command.tag.clone();
        let Some(name) = command.args.first().and_then(Arg::text) else {
            return self.tagged(&tag, "BAD Error in IMAP command: Invalid arguments.");
        };
        let exists = self.mailboxes().iter().any(|(mailbox, _)| {
            mailbox == &name || (mailbox == "INBOX" && name.eq_ignore_ascii_case("INBOX"))
        });
        if !exists {
            self.state = State::Authenticated;
            return self.tagged(
                &tag,
                format!("NO [NONEXISTENT] Mailbox doesn't exist: {name}"),
            );
        }
        for line in [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.",
            "* 0 EXISTS",
            "* 0 RECENT",
            "* OK [UIDVALIDITY 1700000000] UIDs valid",
            "* OK [UIDNEXT 1] Predicted next UID",
        ] {
            self.send_line(line);
        }
        self.state = State::Selected;
        let reply = if command.name == "SELECT" {
            "OK [READ-WRITE] Select completed (0.001 + 0.000 secs)."
        } else {
            "OK [READ-ONLY] Examine completed (0.001 + 0.000 secs)."
        };
        self.tagged(&tag, reply);
    }
}

/// IMAP LIST matching: `*` matches anything, `%` anything but the hierarchy delimiter.
/// INBOX matches case-insensitively.
fn wildcard_match(pattern: &str, name: &str, delimiter: char) -> bool {
    let pattern = if pattern.eq_ignore_ascii_case("INBOX") {
        "INBOX"
    } else {
        pattern
    };
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // matches[j]: whether p[i..] matches n[j..], for i from the pattern's end down to 0:
    // time |p| x |n| whatever the wildcards (backtracking was exponential in them).
    let mut matches: Vec<bool> = (0..=n.len()).map(|j| j == n.len()).collect();
    for c in p.iter().rev() {
        let mut next = vec![false; n.len() + 1];
        for j in (0..=n.len()).rev() {
            next[j] = match c {
                // Any run of characters.
                '*' => matches[j] || (j < n.len() && next[j + 1]),
                // Any run of characters without the hierarchy delimiter.
                '%' => matches[j] || (j < n.len() && n[j] != delimiter && next[j + 1]),
                c => j < n.len() && n[j] == *c && matches[j + 1],
            };
        }
        matches = next;
    }
    matches[0]
}

fn quote(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
    {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Whether `line` is an untagged status response with `status` (`* BYE …`).
fn is_untagged(line: &str, status: &str) -> bool {
    line.strip_prefix("* ")
        .and_then(|rest| rest.get(..status.len()))
        .is_some_and(|word| word.eq_ignore_ascii_case(status))
}

impl Session for ImapSession {
    fn start(&mut self) {
        self.greet();
        self.hostile_at(Point::Greeting, None, 0);
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.input.extend(bytes);
    }

    fn next_action(&mut self) -> Option<Action> {
        self.process();
        self.actions.pop_front()
    }

    fn take_unread(&mut self) -> Vec<u8> {
        self.input.take_all()
    }

    fn tls_started(&mut self) {
        self.tls = true;
        self.state = State::NotAuthenticated;
    }
}

#[cfg(test)]
mod tests;
