//! One IMAP connection's state machine: bytes in, [`Action`]s out, no I/O.
//!
//! It frames commands (lines and literals), parses each with imap-codec, answers it as the
//! configured personality would, tracks the connection state (not authenticated,
//! authenticating, authenticated, selected, idling, logged out) and records every client line
//! in the transcript with passwords and SASL payloads redacted. The commands after login,
//! which work on the account's folders in the shared [`Mailstore`], are in `mail`; SEARCH
//! and FETCH in `search` and `fetch`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use imap_codec::CommandCodec;
use imap_codec::decode::Decoder as _;
use imap_codec::imap_types::command::{Command, CommandBody};

use super::command;
use super::mailstore::Mailstore;
use super::personality::{self, ImapTexts};
use super::{ImapConfig, ImapGreeting, ImapLogin, ImapReply, SessionCounts};
use crate::config::{ImapRefusal, Milestone};
use crate::hostile::{Hostility, Point, Then};
use crate::lines::InputBuffer;
use crate::sasl::{Bearer, Credentials, Proof, SaslExchange, SaslStep, Verdict};
use crate::session::{Action, Session};
use crate::transcript::{REDACTED, TranscriptHandle};
use extended::Extended;

/// Longest command line accepted (Dovecot allows 64 KiB; a connector sends far less).
const MAX_LINE: usize = 16 * 1024;
/// Largest literal accepted before login.
const MAX_LITERAL: usize = 64 * 1024;
/// Largest literal accepted after login: an APPENDed message (Gmail advertises
/// `APPENDLIMIT=35651584`).
const MAX_LITERAL_AUTHENTICATED: usize = 36 * 1024 * 1024;
/// The most of one command the transcript keeps (an APPEND carries a whole message).
const MAX_RECORDED: usize = 4 * 1024;

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
    /// Inside IDLE: the next line must be `DONE`.
    Idling {
        tag: String,
    },
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
        if let Some(count) = counts.sessions.get_mut(&self.key) {
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
    /// The client sent CAPABILITY before logging in.
    asked_capabilities: bool,
    /// CONDSTORE is on (RFC 7162 §3.1): FETCH answers carry MODSEQ, SELECT HIGHESTMODSEQ.
    condstore: bool,
    /// QRESYNC is enabled (RFC 7162 §3.2): expunges are told as VANISHED.
    qresync: bool,
    /// COMPRESS=DEFLATE is on (the driver compresses; see `deflate`).
    compressed: bool,
    hostility: Hostility,
    transcript: TranscriptHandle,
    store: Mailstore,
    /// The login of the authenticated user.
    user: Option<String>,
    /// The folder open in the selected state.
    selection: Option<Selection>,
    /// SEARCHRES's saved result (`$`): UIDs of the selection, ascending.
    saved: Vec<u32>,
    /// CONTEXT=SEARCH's UPDATE searches of the selection.
    contexts: Vec<esearch::SearchContext>,
    /// The extension items of the FETCH being answered.
    pending_extras: items::PendingExtras,
    /// NOTIFY's mailboxes and events, once set.
    notify: Option<notify::Notify>,
}

/// The selected folder as this session knows it: message sequence number `n` is
/// `uids[n - 1]`. It follows the store at the points where a server may tell the client
/// (see `mail::sync`).
pub(super) struct Selection {
    pub name: String,
    pub read_only: bool,
    pub uids: Vec<u32>,
}

impl ImapSession {
    pub(crate) fn new(
        config: Arc<ImapConfig>,
        peer: SocketAddr,
        tls: bool,
        counts: SessionCounts,
        transcript: TranscriptHandle,
        store: Mailstore,
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
            asked_capabilities: false,
            condstore: false,
            qresync: false,
            compressed: false,
            transcript,
            store,
            user: None,
            selection: None,
            saved: Vec::new(),
            contexts: Vec::new(),
            pending_extras: items::PendingExtras::default(),
            notify: None,
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
        matches!(
            self.state,
            State::Authenticated | State::Selected | State::Idling { .. }
        )
    }

    /// Whether the capability list in force (before or after login) has `capability`.
    fn advertises(&self, capability: &str) -> bool {
        self.capabilities()
            .split(' ')
            .any(|c| c.eq_ignore_ascii_case(capability))
    }

    /// The `AUTH=` part of the list before login: the scenario's mechanisms, or the
    /// personality's (its list for bearer tokens when it takes them and has one).
    fn auth_capabilities(&self) -> String {
        let bearer = self
            .config
            .bearer
            .as_ref()
            .and_then(|_| self.config.personality.bearer_capabilities());
        match &self.config.auth_mechanisms {
            Some(mechanisms) => mechanisms
                .iter()
                .map(|m| format!("AUTH={}", m.to_ascii_uppercase()))
                .collect::<Vec<_>>()
                .join(" "),
            None => bearer.unwrap_or(self.texts.auth_capabilities).to_owned(),
        }
    }

    /// Whether login is refused on this connection because TLS is required and absent.
    fn login_needs_tls(&self) -> bool {
        self.config.security.requires_tls_for_login() && !self.tls
    }

    /// Whether LOGIN is refused: TLS is required and absent, or the scenario's capabilities
    /// disable it (`LOGINDISABLED`, AUTHENTICATE still works).
    fn login_disabled(&self) -> bool {
        self.login_needs_tls()
            || self.config.capabilities.as_deref().is_some_and(|list| {
                list.split_whitespace()
                    .any(|c| c.eq_ignore_ascii_case("LOGINDISABLED"))
            })
    }

    fn capabilities(&self) -> String {
        if self.is_authenticated() {
            return match &self.config.capabilities {
                Some(list) => list.clone(),
                None => self.texts.post_login_capabilities.to_owned(),
            };
        }
        let mut tls = String::new();
        if self.config.security.offers_starttls() && !self.tls {
            tls.push_str(" STARTTLS");
        }
        let base = self
            .config
            .capabilities
            .as_deref()
            .unwrap_or(self.texts.base_capabilities);
        let mut auth = String::new();
        if self.login_needs_tls() {
            if !base.contains("LOGINDISABLED") {
                tls.push_str(" LOGINDISABLED");
            }
        } else {
            let mechanisms = self.auth_capabilities();
            if !mechanisms.is_empty() {
                auth = format!(" {mechanisms}");
            }
        }
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
            let limit = if self.is_authenticated() {
                MAX_LITERAL_AUTHENTICATED
            } else {
                MAX_LITERAL
            };
            match command::literal_announcement(&line) {
                Some((size, _)) if size > limit => return Err("Literal too large"),
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
                State::Idling { .. } => {
                    let line = match self.input.next_line(MAX_LINE) {
                        Ok(Some(line)) => line,
                        Ok(None) => return,
                        Err(_) => return self.fatal("Command line too long"),
                    };
                    self.transcript.client(&line);
                    self.idle_line(&line);
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

    /// Records a command with its secrets replaced: LOGIN's password, an AUTHENTICATE
    /// initial response (and, when the command did not parse, everything after the name).
    fn record_client(&self, bytes: &[u8], tag: &str, name: &str, parsed: Option<&CommandBody>) {
        match parsed {
            Some(CommandBody::Login { username, .. }) => {
                let user = String::from_utf8_lossy(username.as_ref());
                self.transcript
                    .client(format!("{tag} LOGIN {user:?} {REDACTED}"));
            }
            Some(CommandBody::Authenticate {
                mechanism,
                initial_response: Some(_),
            }) => {
                self.transcript
                    .client(format!("{tag} AUTHENTICATE {mechanism} {REDACTED}"));
            }
            None if matches!(name, "LOGIN" | "AUTHENTICATE") => {
                self.transcript.client(format!("{tag} {name} {REDACTED}"));
            }
            _ if bytes.len() > MAX_RECORDED => {
                let mut kept = bytes[..MAX_RECORDED].to_vec();
                kept.extend_from_slice(format!(" … ({} bytes in all)", bytes.len()).as_bytes());
                self.transcript.client(kept);
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
                // BYE the server closes, after PREAUTH the client is logged in. A `* NO`
                // greeting (Yahoo's `[UNAVAILABLE] internal server error`) refuses service
                // too: the server closes.
                if is_untagged(line, "BYE") || is_untagged(line, "NO") {
                    self.actions.push_back(Action::Close);
                    self.state = State::LoggedOut;
                    return;
                }
                if is_untagged(line, "PREAUTH") {
                    // The connection is the first user's, as a server that knows the client
                    // by its address or certificate would decide.
                    self.user = config.users.first().map(|user| user.login.clone());
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
        // NOTIFY: what others changed is told before the answer; what this command
        // changes is not told back.
        self.notify_changes();
        match self.reply_rule(bytes) {
            Some(rule) => self.reply_instead(bytes, &rule),
            None => self.dispatch(bytes),
        }
        self.notify_own_changes();
        let mut words = bytes.split(|&b| b == b' ' || b == b'\r' || b == b'\n');
        let tag = String::from_utf8_lossy(words.next().unwrap_or_default()).into_owned();
        let name = String::from_utf8_lossy(words.next().unwrap_or_default()).to_ascii_uppercase();
        self.hostile_at(Point::Command(&name), Some(&tag), from);
    }

    /// The `[[imap.reply]]` rule that answers this use of the command, if any; every
    /// rule for the command counts the use.
    fn reply_rule(&mut self, bytes: &[u8]) -> Option<ImapReply> {
        if self.config.reply.is_empty() {
            return None;
        }
        let mut words = bytes
            .split(|&b| b == b' ' || b == b'\r' || b == b'\n')
            .skip(1);
        let mut word = || String::from_utf8_lossy(words.next().unwrap_or_default()).into_owned();
        let (name, second) = (word(), word());
        let mut counts = self.counts.lock().expect("session counts lock");
        let mut chosen = None;
        for (index, rule) in self.config.reply.iter().enumerate() {
            if !rule.matches(&name, &second) {
                continue;
            }
            let uses = counts.replies.entry(index).or_insert(0);
            *uses += 1;
            if chosen.is_none() && rule.nth.is_none_or(|n| n == *uses) {
                chosen = Some(rule.clone());
            }
        }
        chosen
    }

    /// Answers a command as `rule` says: untagged lines first, then a refusal (the command
    /// not run), a BYE and the close, or the command run with its tagged OK replaced.
    fn reply_instead(&mut self, bytes: &[u8], rule: &ImapReply) {
        let (tag, name) = command::head(bytes);
        for line in &rule.before {
            self.send_line(line);
        }
        if rule.reply.starts_with("OK") {
            self.dispatch(bytes);
            // Only an OK is replaced: a command that failed keeps its refusal.
            let prefix = format!("{tag} OK");
            let tagged = self
                .actions
                .iter_mut()
                .rev()
                .find_map(|action| match action {
                    Action::Send(sent) if sent.starts_with(prefix.as_bytes()) => Some(sent),
                    _ => None,
                });
            if let Some(sent) = tagged {
                *sent = format!("{tag} {}\r\n", rule.reply).into_bytes();
            }
            return;
        }
        self.record_client(bytes, &tag, &name, None);
        if rule.reply.starts_with("* BYE") {
            self.send_line(&rule.reply);
            self.actions.push_back(Action::Close);
            self.state = State::LoggedOut;
        } else {
            self.tagged(&tag, &rule.reply);
        }
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
        let (tag, name) = command::head(bytes);
        // XLIST (Gmail's folder list before SPECIAL-USE) has LIST's syntax; imap-codec does
        // not know it, so it is parsed as LIST.
        let xlist = name == "XLIST";
        let mut input = if xlist {
            command::renamed(bytes, "LIST")
        } else {
            bytes.to_vec()
        };
        if self.is_authenticated() && !tag.is_empty() {
            match self.extended_syntax(&tag, &name, &input) {
                Extended::Plain => {}
                Extended::Rewritten(rewritten) => input = rewritten,
                Extended::Answered { reply, expunges } => {
                    self.record_client(bytes, &tag, &name, None);
                    if self.selection.is_some() {
                        self.sync(expunges);
                    }
                    return self.tagged(&tag, reply);
                }
            }
        }
        input.extend_from_slice(b"\r\n");
        let parsed = match CommandCodec::default().decode(&input) {
            Ok((b"", command)) => Some(command),
            _ => None,
        };
        let tag = match &parsed {
            Some(command) => command.tag.as_ref().to_owned(),
            None if tag.is_empty() => "*".to_owned(),
            None => tag,
        };
        self.record_client(bytes, &tag, &name, parsed.as_ref().map(|c| &c.body));
        // ACL (RFC 4314), which imap-codec does not parse, where the personality has it.
        if self.is_authenticated()
            && extensions::ACL_COMMANDS.contains(&name.as_str())
            && self.advertises("ACL")
        {
            let start = (tag.len() + 1 + name.len() + 1).min(bytes.len());
            return self.acl(&tag, &name, &bytes[start..]);
        }
        let Some(command) = parsed else {
            return self.undecodable(&tag, &name);
        };
        self.execute(&tag, command, xlist);
    }

    /// The reply to bad arguments with Dovecot's reason where the personality's text has a
    /// place for one.
    fn bad_arguments(&self, name: &str, reason: &str) -> String {
        self.texts
            .invalid_arguments
            .replace("{name}", name)
            .replace("Invalid arguments", reason)
    }

    /// A command imap-codec could not parse: bad arguments of a known command, or an
    /// unknown one.
    fn undecodable(&mut self, tag: &str, name: &str) {
        let reply = if !self.is_authenticated() {
            if matches!(name, "LOGIN" | "AUTHENTICATE") {
                format!("BAD Error in IMAP command {name}: Invalid arguments.")
            } else {
                self.texts.refused_before_login.to_owned()
            }
        } else if command::KNOWN.contains(&name) {
            self.texts.invalid_arguments.replace("{name}", name)
        } else {
            self.texts.unknown_command.replace("{name}", name)
        };
        self.tagged(tag, reply);
    }

    fn execute(&mut self, tag: &str, command: Command, xlist: bool) {
        let authenticated = self.is_authenticated();
        match command.body {
            CommandBody::Capability => {
                self.send_line(format!("* CAPABILITY {}", self.capabilities()));
                if authenticated {
                    self.tagged(tag, self.texts.completed("CAPABILITY", None));
                } else {
                    self.asked_capabilities = true;
                    self.tagged(tag, self.texts.capability_ok);
                }
            }
            CommandBody::Noop if authenticated => {
                self.sync(true);
                self.tagged(tag, self.texts.completed("NOOP", None));
            }
            CommandBody::Noop => self.tagged(tag, "OK NOOP completed."),
            CommandBody::Logout => {
                self.send_line(self.texts.bye);
                self.tagged(tag, self.texts.completed("LOGOUT", None));
                self.actions.push_back(Action::Close);
                self.state = State::LoggedOut;
            }
            CommandBody::Id { .. } if !self.advertises("ID") => {
                let reply = if authenticated {
                    self.texts.unknown_command.replace("{name}", "ID")
                } else {
                    self.texts.refused_before_login.to_owned()
                };
                self.tagged(tag, reply);
            }
            CommandBody::Id { .. } => match self.texts.id_response {
                Some(answer) => {
                    self.send_line(answer);
                    self.tagged(tag, self.texts.completed("ID", None));
                }
                None => self.tagged(tag, self.texts.id_refused),
            },
            CommandBody::StartTLS if !authenticated => self.starttls(tag),
            CommandBody::Login { username, password } if !authenticated => {
                if self.login_disabled() {
                    return self.refuse_cleartext_login(tag);
                }
                let credentials = Credentials {
                    login: String::from_utf8_lossy(username.as_ref()).into_owned(),
                    password: String::from_utf8_lossy(password.declassify().as_ref()).into_owned(),
                };
                let verdict = self.password_verdict(&credentials);
                self.finish_login(tag, "LOGIN", credentials.login, verdict);
            }
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } if !authenticated => {
                let initial = initial_response.map(|data| {
                    let data = data.declassify();
                    if data.is_empty() {
                        "=".to_owned()
                    } else {
                        base64::engine::general_purpose::STANDARD.encode(data)
                    }
                });
                self.authenticate(tag, mechanism.as_ref(), initial);
            }
            body if !authenticated => {
                let _ = body;
                self.tagged(tag, self.texts.refused_before_login);
            }
            body => self.mail_command(tag, body, xlist),
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

    fn authenticate(&mut self, tag: &str, mechanism: &str, initial: Option<String>) {
        // An initial response is SASL-IR's (RFC 4959): a server that does not advertise it
        // reads it as an argument too many. Cyrus 3.10 and later spell it `SASL_IR` and take
        // it all the same (docs/provider-replies.md).
        if initial.is_some() && !(self.advertises("SASL-IR") || self.advertises("SASL_IR")) {
            return self.undecodable(tag, "AUTHENTICATE");
        }
        if self.login_needs_tls() {
            return self.refuse_cleartext_login(tag);
        }
        let offered = self
            .auth_capabilities()
            .split(' ')
            .any(|cap| cap.eq_ignore_ascii_case(&format!("AUTH={mechanism}")));
        let started = offered
            .then(|| SaslExchange::start(mechanism, initial.as_deref().map(str::as_bytes)))
            .flatten();
        match started {
            Some((exchange, step)) => {
                self.state = State::Authenticating {
                    tag: tag.to_owned(),
                    exchange,
                };
                self.sasl_step(step);
            }
            None => self.tagged(tag, "NO Unsupported authentication mechanism."),
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
            SaslStep::Done(Proof::Password(credentials)) => {
                self.state = State::NotAuthenticated;
                let verdict = self.password_verdict(&credentials);
                self.finish_login(&tag, "AUTHENTICATE", credentials.login, verdict);
            }
            SaslStep::Done(Proof::Bearer(bearer)) => match self.bearer_user(&bearer) {
                Some(user) => {
                    self.state = State::NotAuthenticated;
                    self.finish_login(&tag, "AUTHENTICATE", user, Verdict::Known);
                }
                None => {
                    // The server's error challenge first, when it sends one; the refusal
                    // follows the client's answer (`SaslStep::Refused`).
                    let State::Authenticating { exchange, .. } = &mut self.state else {
                        return;
                    };
                    match exchange.refuse_token(self.texts.bearer_challenge) {
                        Some(step) => self.sasl_step(step),
                        None => {
                            self.state = State::NotAuthenticated;
                            self.finish_login(
                                &tag,
                                "AUTHENTICATE",
                                bearer.login,
                                Verdict::BadToken,
                            );
                        }
                    }
                }
            },
            SaslStep::Refused => {
                self.state = State::NotAuthenticated;
                self.finish_login(&tag, "AUTHENTICATE", String::new(), Verdict::BadToken);
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

    /// Whether a login name and password are a user's.
    fn password_verdict(&self, credentials: &Credentials) -> Verdict {
        let known =
            self.config.users.iter().any(|user| {
                user.login == credentials.login && user.password == credentials.password
            });
        if known {
            Verdict::Known
        } else {
            Verdict::WrongPassword
        }
    }

    /// The user a bearer token lets in, if it does (see `oauth::Tokens::check`).
    fn bearer_user(&self, bearer: &Bearer) -> Option<String> {
        let check = self.config.bearer.as_ref()?;
        let named = (!bearer.login.is_empty()).then_some(bearer.login.as_str());
        check.tokens.check(&bearer.token, named, &check.scope).ok()
    }

    /// Decides a login whose credentials have been checked (`verdict`), whichever command
    /// carried them (`command`, LOGIN or AUTHENTICATE, fills `{name}` in the personality's
    /// texts).
    fn finish_login(&mut self, tag: &str, command: &str, login: String, verdict: Verdict) {
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
        let wrong_credentials = || self.texts.wrong_credentials.replace("{name}", command);
        let refusal = match &config.login {
            _ if verdict == Verdict::WrongPassword => Some(wrong_credentials()),
            _ if verdict == Verdict::BadToken => Some(
                self.texts
                    .bearer_refused
                    .map_or_else(wrong_credentials, str::to_owned),
            ),
            ImapLogin::Ok => None,
            ImapLogin::WrongCredentials => Some(wrong_credentials()),
            ImapLogin::AppPasswordRequired => Some(personality::APP_PASSWORD_REQUIRED.to_owned()),
            ImapLogin::Unavailable => Some(personality::UNAVAILABLE.to_owned()),
            ImapLogin::Nologin(reason) => Some(personality::NOLOGIN.replace(
                "{reason}",
                reason.split_whitespace().next().unwrap_or_default(),
            )),
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
        let key = (login.clone(), self.peer.ip());
        {
            let mut counts = self.counts.lock().expect("session counts lock");
            let count = counts.sessions.entry(key.clone()).or_insert(0);
            if let Some(limit) = config.max_connections_per_user
                && *count >= limit
            {
                drop(counts);
                let reply = self
                    .texts
                    .too_many_connections
                    .replace("{limit}", &limit.to_string())
                    .replace("{user}", &login);
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
        self.user = Some(login.clone());
        let caps = self.capabilities();
        let mut reply = self
            .texts
            .login_ok
            .replace("{user}", &login)
            .replace("{name}", command);
        // A client that asked for the capabilities before gets the new ones untagged, as
        // Dovecot does (containers/captures/dovecot-capability-then-login.txt).
        if self.asked_capabilities && reply.contains("[CAPABILITY {caps}] ") {
            self.send_line(format!("* CAPABILITY {caps}"));
            reply = reply.replace("[CAPABILITY {caps}] ", "");
        }
        self.tagged(tag, reply.replace("{caps}", &caps));
        self.actions
            .push_back(Action::Reached(Milestone::AfterLogin));
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
    fn watch(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.store.watch())
    }

    fn refresh(&mut self) {
        let notified =
            self.notify.is_some() && matches!(self.state, State::Authenticated | State::Selected);
        if notified {
            self.notify_changes();
        }
        if notified || matches!(self.state, State::Idling { .. }) {
            self.sync(true);
        }
    }

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
        // RFC 3501 §6.2.1: what the client learnt before TLS no longer holds.
        self.asked_capabilities = false;
        self.state = State::NotAuthenticated;
    }
}

mod append_extended;
mod esearch;
mod extended;
mod extensions;
mod fetch;
mod items;
mod list_extended;
mod mail;
mod notify;
mod qresync;
mod search;
#[cfg(test)]
mod tests;
