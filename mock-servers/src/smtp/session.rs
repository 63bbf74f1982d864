//! One SMTP connection's state machine: bytes in, [`Action`]s out, no I/O.
//!
//! EHLO, STARTTLS, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT, answered as the
//! configured personality would, with per-command reply overrides, the allowlist and the
//! relay rule applied. AUTH payloads and SASL responses reach the transcript redacted.

use crate::imap::Mailstore;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use super::personality::{self, SmtpTexts};
use super::reply::SmtpReply;
use super::{ReceivedMessage, SmtpAuth, SmtpConfig, SmtpGreeting};
use crate::config::{Milestone, Security, SmtpRefusal};
use crate::hostile::{Hostility, Point, Then};
use crate::lines::InputBuffer;
use crate::sasl::{Bearer, Proof, SaslExchange, SaslStep, Verdict};
use crate::session::{Action, Session};
use crate::transcript::{REDACTED, TranscriptHandle};

/// Longest command line (RFC 5321 allows 512 octets; Postfix accepts far more).
const MAX_LINE: usize = 4096;
/// Longest line inside a message.
const MAX_DATA_LINE: usize = 64 * 1024;
/// Largest message, as Postfix's default `message_size_limit`, unless the scenario sets
/// its own (advertised in EHLO SIZE).
const MAX_MESSAGE: usize = 10_240_000;

const GARBAGE_GREETING: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";

enum State {
    /// Waiting for EHLO/HELO.
    Fresh,
    Ready,
    Authenticating(SaslExchange),
    /// Reading message lines after DATA; `overflow` once the message is over the limit.
    Data {
        overflow: bool,
    },
    AwaitingTls,
    /// After a refusing greeting: QUIT is answered and closes, anything else is denied.
    Refused,
    Mute,
    Closed,
}

#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

pub(crate) struct SmtpSession {
    config: Arc<SmtpConfig>,
    texts: &'static SmtpTexts,
    peer: SocketAddr,
    tls: bool,
    state: State,
    authenticated_as: Option<String>,
    envelope: Envelope,
    message: Vec<u8>,
    input: InputBuffer,
    actions: VecDeque<Action>,
    messages: Arc<Mutex<Vec<ReceivedMessage>>>,
    hostility: Hostility,
    transcript: TranscriptHandle,
    store: Mailstore,
}

impl SmtpSession {
    pub(crate) fn new(
        config: Arc<SmtpConfig>,
        peer: SocketAddr,
        tls: bool,
        messages: Arc<Mutex<Vec<ReceivedMessage>>>,
        transcript: TranscriptHandle,
        store: Mailstore,
    ) -> SmtpSession {
        SmtpSession {
            hostility: Hostility::new(&config.hostile),
            texts: config.personality.texts(),
            config,
            peer,
            tls,
            state: State::Fresh,
            authenticated_as: None,
            envelope: Envelope::default(),
            message: Vec::new(),
            input: InputBuffer::default(),
            actions: VecDeque::new(),
            messages,
            transcript,
            store,
        }
    }

    /// Fills the placeholders of a personality text and sends it as a reply.
    fn reply(&mut self, template: &str) {
        let text = template
            .replace("{host}", self.config.personality.host())
            .replace("{ip}", &self.peer.ip().to_string());
        let reply = SmtpReply::parse(&text).expect("personality texts are valid replies");
        self.send(&reply);
    }

    fn send(&mut self, reply: &SmtpReply) {
        self.actions.push_back(Action::Send(reply.to_wire()));
    }

    /// Sends a scenario's own reply; after a 421 the server closes the connection (RFC 5321
    /// §3.8).
    fn send_scenario_reply(&mut self, reply: &SmtpReply) {
        self.send(reply);
        if reply.code() == 421 {
            self.close();
        }
    }

    /// Sends the scenario's override for a command if there is one, else `default`. Returns
    /// whether the reply accepted the command.
    fn reply_or(&mut self, replacement: Option<&SmtpReply>, default: &str) -> bool {
        match replacement {
            Some(reply) => {
                let reply = reply.clone();
                self.send_scenario_reply(&reply);
                reply.is_positive()
            }
            None => {
                self.reply(default);
                true
            }
        }
    }

    fn close(&mut self) {
        self.actions.push_back(Action::Close);
        self.state = State::Closed;
    }

    fn login_needs_tls(&self) -> bool {
        self.config.security.requires_tls_for_login() && !self.tls
    }

    fn process(&mut self) {
        while self.actions.is_empty() {
            match self.state {
                State::AwaitingTls | State::Closed => return,
                State::Mute => {
                    self.input.take_all();
                    return;
                }
                State::Refused => match self.input.next_line(MAX_LINE) {
                    Ok(Some(line)) => self.refused_command(&line),
                    Ok(None) => return,
                    Err(_) => return self.line_too_long(),
                },
                State::Data { .. } => match self.input.next_line(MAX_DATA_LINE) {
                    Ok(Some(line)) => self.data_line(line),
                    Ok(None) => return,
                    Err(_) => return self.line_too_long(),
                },
                State::Authenticating(_) => match self.input.next_line(MAX_LINE) {
                    Ok(Some(line)) => {
                        self.transcript.client(REDACTED);
                        self.sasl_response(&line);
                    }
                    Ok(None) => return,
                    Err(_) => return self.line_too_long(),
                },
                State::Fresh | State::Ready => match self.input.next_line(MAX_LINE) {
                    Ok(Some(line)) => self.command(&line),
                    Ok(None) => return,
                    Err(_) => return self.line_too_long(),
                },
            }
        }
    }

    fn line_too_long(&mut self) {
        self.reply("500 5.5.0 Error: line too long");
        self.close();
    }

    /// Queues the configured greeting.
    fn greet(&mut self) {
        match &self.config.greeting {
            SmtpGreeting::Standard => self.reply(self.texts.greeting),
            SmtpGreeting::Custom(reply) => {
                let reply = reply.clone();
                self.send(&reply);
                if reply.code() == 421 {
                    // Service not available: Postfix closes at once.
                    self.close();
                } else if !reply.is_positive() {
                    // RFC 5321 §3.1: after a 554 the server waits for QUIT and answers
                    // other commands with 503, as Postfix does.
                    self.state = State::Refused;
                }
            }
            SmtpGreeting::ClientRejected => {
                self.reply(personality::CLIENT_REJECTED);
                self.state = State::Refused;
            }
            SmtpGreeting::None => return,
            SmtpGreeting::Garbage => {
                self.actions
                    .push_back(Action::Send(GARBAGE_GREETING.to_vec()));
                self.state = State::Mute;
            }
        }
        self.actions
            .push_back(Action::Reached(Milestone::AfterGreeting));
    }

    /// A command after a refusing greeting.
    fn refused_command(&mut self, line: &[u8]) {
        let (verb, _) = self.record(line);
        if verb == "QUIT" {
            self.reply(self.texts.quit);
            self.close();
        } else {
            self.reply(self.texts.access_denied);
        }
    }

    /// Answers one command, then lets a hostile rule for it rewrite the answer.
    fn command(&mut self, line: &[u8]) {
        let from = self.actions.len();
        self.dispatch(line);
        let verb = line
            .split(|&b| b == b' ')
            .next()
            .map(|verb| String::from_utf8_lossy(verb).to_ascii_uppercase())
            .unwrap_or_default();
        self.hostile_at(Point::Command(&verb), from);
    }

    /// Applies the first hostile rule for `point` to the actions queued from `from` on.
    fn hostile_at(&mut self, point: Point<'_>, from: usize) {
        match self.hostility.apply(point, None, &mut self.actions, from) {
            Some(Then::Close) => self.state = State::Closed,
            Some(Then::Silence) => self.state = State::Mute,
            Some(Then::Continue) | None => {}
        }
    }

    /// A command's verb (upper case) and argument, the command put in the transcript with
    /// an AUTH's initial response redacted.
    fn record(&self, line: &[u8]) -> (String, String) {
        let text = String::from_utf8_lossy(line).into_owned();
        let (verb, argument) = match text.split_once(' ') {
            Some((verb, argument)) => (verb.to_ascii_uppercase(), argument.trim().to_owned()),
            None => (text.trim().to_ascii_uppercase(), String::new()),
        };
        if verb == "AUTH" {
            let mechanism = argument.split(' ').next().unwrap_or_default();
            let shown = if argument.contains(' ') {
                format!("{text_verb} {mechanism} {REDACTED}", text_verb = &text[..4])
            } else {
                text.clone()
            };
            self.transcript.client(shown);
        } else {
            self.transcript.client(line);
        }
        (verb, argument)
    }

    fn dispatch(&mut self, line: &[u8]) {
        let (verb, argument) = self.record(line);
        let greeted = !matches!(self.state, State::Fresh);
        match verb.as_str() {
            "EHLO" | "HELO" => self.ehlo(&verb, &argument),
            "QUIT" => {
                let quit = self.config.replies.quit.clone();
                self.reply_or(quit.as_ref(), self.texts.quit);
                self.close();
            }
            "NOOP" => {
                let noop = self.config.replies.noop.clone();
                self.reply_or(noop.as_ref(), self.texts.ok);
            }
            // What real Postfix refuses before STARTTLS on a port that requires TLS.
            "RSET" | "VRFY" | "ETRN" if self.login_needs_tls() => {
                self.reply(self.texts.tls_required)
            }
            "RSET" => {
                let rset = self.config.replies.rset.clone();
                if self.reply_or(rset.as_ref(), self.texts.ok) {
                    self.envelope = Envelope::default();
                }
            }
            "STARTTLS" => self.starttls(),
            _ if !greeted => self.reply("503 5.5.1 Error: send HELO/EHLO first"),
            "AUTH" => self.auth(&argument),
            "MAIL" => self.mail(&argument),
            "RCPT" => self.rcpt(&argument),
            "DATA" => self.data(),
            "VRFY" if self.texts.vrfy_ok.is_some() => self.vrfy(&argument),
            "ETRN" => match self.texts.etrn {
                Some(etrn) => self.reply(&etrn.replace("{rcpt}", &argument)),
                None => self.reply(self.texts.unknown_command),
            },
            _ => self.reply(self.texts.unknown_command),
        }
    }

    /// The scenario's EHLO reply for this connection, if it set one: over TLS the `ehlo_tls`
    /// one where given.
    fn ehlo_override(&self) -> Option<&SmtpReply> {
        let replies = &self.config.replies;
        match (&replies.ehlo_tls, self.tls) {
            (Some(over_tls), true) => Some(over_tls),
            _ => replies.ehlo.as_ref(),
        }
    }

    /// An EHLO keyword, with the scenario's size limit in place of the personality's.
    fn size_keyword(&self, keyword: &str) -> String {
        match self.config.message_size_limit {
            Some(limit) if keyword.starts_with("SIZE ") => format!("SIZE {limit}"),
            _ => keyword.to_owned(),
        }
    }

    /// EHLO or HELO; `helo` is the name the client gave, for `{helo}` in the hello line.
    fn ehlo(&mut self, verb: &str, helo: &str) {
        if let Some(reply) = self.ehlo_override().cloned() {
            self.send(&reply);
            if reply.is_positive() {
                self.state = State::Ready;
            }
            return;
        }
        self.state = State::Ready;
        self.envelope = Envelope::default();
        // Only printable ASCII of the client's name goes back, at most a domain's length.
        let helo: String = helo
            .split_whitespace()
            .next()
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_graphic)
            .take(255)
            .collect();
        let hello = self.texts.ehlo_hello.replace("{helo}", &helo);
        if verb == "HELO" {
            return self.reply(&format!("250 {hello}"));
        }
        let mut lines = vec![hello];
        lines.extend(self.texts.ehlo_before.iter().map(|s| self.size_keyword(s)));
        if !self.tls {
            match self.config.security {
                Security::Starttls => lines.push("STARTTLS".into()),
                Security::StarttlsStripped => lines.push(personality::STRIPPED_STARTTLS.into()),
                Security::ImplicitTls | Security::Plaintext => {}
            }
        }
        if self.config.offer_auth && !self.login_needs_tls() {
            lines.push(self.ehlo_auth().into());
        }
        lines.extend(self.texts.ehlo_after.iter().map(|s| self.size_keyword(s)));
        let text = lines
            .iter()
            .map(|line| format!("250 {line}"))
            .collect::<Vec<_>>()
            .join("\n");
        self.reply(&text);
    }

    fn starttls(&mut self) {
        if self.tls {
            return self.reply("554 5.5.1 Error: TLS already active");
        }
        match self.config.security {
            Security::Starttls => {
                let replacement = self.config.replies.starttls.clone();
                if self.reply_or(replacement.as_ref(), self.texts.starttls_ok) {
                    self.actions.push_back(Action::StartTls);
                    self.state = State::AwaitingTls;
                }
            }
            // The middlebox rewrote the command, so the server does not know it.
            Security::StarttlsStripped => self.reply(self.texts.unknown_command),
            Security::ImplicitTls | Security::Plaintext => {
                self.reply(self.texts.starttls_unavailable)
            }
        }
    }

    fn auth(&mut self, argument: &str) {
        if self.authenticated_as.is_some() {
            return self.reply("503 5.5.1 Error: already authenticated");
        }
        if self.login_needs_tls() {
            // Postfix with smtpd_tls_security_level = encrypt (seen).
            return self.reply(self.texts.tls_required);
        }
        let Some(advertised) = self.advertised_auth() else {
            return self.reply(self.texts.auth_not_enabled);
        };
        let mut words = argument.split(' ');
        let mechanism = words.next().unwrap_or_default();
        let initial = words.next();
        let offered = advertised.iter().any(|m| m.eq_ignore_ascii_case(mechanism));
        match offered
            .then(|| SaslExchange::start(mechanism, initial.map(str::as_bytes)))
            .flatten()
        {
            Some((exchange, step)) => {
                self.state = State::Authenticating(exchange);
                self.sasl_step(step);
            }
            None => self.reply(self.texts.auth_bad_mechanism),
        }
    }

    /// The personality's `AUTH` line: its line for bearer tokens when it takes them and has
    /// one.
    fn ehlo_auth(&self) -> &'static str {
        self.config
            .bearer
            .as_ref()
            .and_then(|_| self.config.personality.bearer_ehlo_auth())
            .unwrap_or(self.texts.ehlo_auth)
    }

    /// The AUTH mechanisms the EHLO reply advertised: the personality's, or what a
    /// scenario's `replies.ehlo` says (its `AUTH` line); none when AUTH is not offered. The
    /// mock accepts exactly these.
    fn advertised_auth(&self) -> Option<Vec<String>> {
        if !self.config.offer_auth {
            return None;
        }
        let auth_line = match self.ehlo_override() {
            Some(ehlo) => ehlo
                .text()
                .lines()
                .find(|line| {
                    line.get(..5)
                        .is_some_and(|word| word.eq_ignore_ascii_case("AUTH "))
                })?
                .to_owned(),
            None => self.ehlo_auth().to_owned(),
        };
        Some(
            auth_line
                .split(' ')
                .skip(1)
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    fn sasl_response(&mut self, line: &[u8]) {
        let State::Authenticating(exchange) = &mut self.state else {
            return;
        };
        let step = exchange.respond(line);
        self.sasl_step(step);
    }

    fn sasl_step(&mut self, step: SaslStep) {
        match step {
            SaslStep::Challenge(challenge) => self.reply(&format!("334 {challenge}")),
            SaslStep::Done(Proof::Password(credentials)) => {
                self.state = State::Ready;
                let known = self.config.users.iter().any(|user| {
                    user.login == credentials.login && user.password == credentials.password
                });
                let verdict = if known {
                    Verdict::Known
                } else {
                    Verdict::WrongPassword
                };
                self.finish_auth(credentials.login, verdict);
            }
            SaslStep::Done(Proof::Bearer(bearer)) => match self.bearer_user(&bearer) {
                Some(user) => {
                    self.state = State::Ready;
                    self.finish_auth(user, Verdict::Known);
                }
                None => {
                    // The server's error challenge first, when it sends one; the refusal
                    // follows the client's answer (`SaslStep::Refused`).
                    let State::Authenticating(exchange) = &mut self.state else {
                        return;
                    };
                    match exchange.refuse_token(self.texts.bearer_challenge) {
                        Some(step) => self.sasl_step(step),
                        None => {
                            self.state = State::Ready;
                            self.finish_auth(bearer.login, Verdict::BadToken);
                        }
                    }
                }
            },
            SaslStep::Refused => {
                self.state = State::Ready;
                self.finish_auth(String::new(), Verdict::BadToken);
            }
            SaslStep::Cancelled => {
                self.state = State::Ready;
                self.reply("501 5.7.0 Authentication aborted");
            }
            SaslStep::Malformed => {
                self.state = State::Ready;
                self.reply("501 5.5.2 Cannot decode response");
            }
        }
    }

    /// The user a bearer token lets in, if it does (see `oauth::Tokens::check`).
    fn bearer_user(&self, bearer: &Bearer) -> Option<String> {
        let check = self.config.bearer.as_ref()?;
        let named = (!bearer.login.is_empty()).then_some(bearer.login.as_str());
        check.tokens.check(&bearer.token, named, &check.scope).ok()
    }

    /// Decides an AUTH whose credentials have been checked (`verdict`).
    fn finish_auth(&mut self, login: String, verdict: Verdict) {
        let config = self.config.clone();
        if let Some(policy) = &config.allowlist
            && policy.refuse_at == SmtpRefusal::Login
            && !policy.allows(self.peer.ip())
        {
            let text = policy
                .refusal_text
                .as_deref()
                .unwrap_or(personality::LOGIN_NOT_ALLOWED);
            return self.reply(text);
        }
        if verdict != Verdict::Known || config.auth != SmtpAuth::Ok {
            self.actions.push_back(Action::LoginRefused);
        }
        match &config.auth {
            _ if verdict == Verdict::WrongPassword => self.reply(self.texts.wrong_credentials),
            _ if verdict == Verdict::BadToken => {
                self.reply(
                    self.texts
                        .bearer_refused
                        .unwrap_or(self.texts.wrong_credentials),
                );
            }
            SmtpAuth::WrongCredentials => self.reply(self.texts.wrong_credentials),
            SmtpAuth::AppPasswordRequired => self.reply(personality::APP_PASSWORD_REQUIRED),
            SmtpAuth::Custom(reply) => {
                let reply = reply.clone();
                self.send_scenario_reply(&reply);
            }
            SmtpAuth::Ok => {
                self.authenticated_as = Some(login);
                self.reply(self.texts.auth_ok);
                self.actions
                    .push_back(Action::Reached(Milestone::AfterLogin));
            }
        }
    }

    /// The largest message accepted: the scenario's `message_size_limit`, else Postfix's
    /// default.
    fn size_limit(&self) -> usize {
        self.config.message_size_limit.map_or(MAX_MESSAGE, |limit| {
            usize::try_from(limit).unwrap_or(usize::MAX)
        })
    }

    fn mail(&mut self, argument: &str) {
        if self.login_needs_tls() {
            return self.reply(self.texts.tls_required);
        }
        let Some(address) = path_argument(argument, "FROM:") else {
            return self.reply("501 5.5.4 Syntax: MAIL FROM:<address>");
        };
        if self.envelope.from.is_some() {
            return self.reply("503 5.5.1 Error: nested MAIL command");
        }
        // RFC 1870: a declared size over the limit is refused at once (Postfix's words).
        let declared = argument.split_whitespace().find_map(|param| {
            param
                .to_ascii_uppercase()
                .strip_prefix("SIZE=")?
                .parse::<usize>()
                .ok()
        });
        if declared.is_some_and(|size| size > self.size_limit()) {
            return self.reply(personality::SIZE_EXCEEDED);
        }
        let replacement = self.config.replies.mail.clone();
        if self.reply_or(replacement.as_ref(), self.texts.mail_ok) {
            self.envelope.from = Some(address);
        }
    }

    fn rcpt(&mut self, argument: &str) {
        if self.envelope.from.is_none() {
            return self.reply("503 5.5.1 Error: need MAIL command");
        }
        let Some(address) = path_argument(argument, "TO:") else {
            return self.reply("501 5.5.4 Syntax: RCPT TO:<address>");
        };
        if let Some(policy) = &self.config.allowlist
            && policy.refuse_at == SmtpRefusal::Send
            && !policy.allows(self.peer.ip())
        {
            let text = policy
                .refusal_text
                .clone()
                .unwrap_or_else(|| personality::CLIENT_REJECTED.to_owned());
            return self.reply(&text);
        }
        let unauthenticated = self.config.require_auth && self.authenticated_as.is_none();
        if self.config.relay_denied || unauthenticated {
            return self.reply(&self.texts.relay_denied.replace("{rcpt}", &address));
        }
        if self.config.greylisting {
            let domain = address.rsplit_once('@').map_or("", |(_, domain)| domain);
            let text = personality::GREYLISTED
                .replace("{rcpt}", &address)
                .replace("{domain}", domain);
            return self.reply(&text);
        }
        let replacement = self.config.replies.rcpt.clone();
        if self.reply_or(replacement.as_ref(), self.texts.rcpt_ok) {
            self.envelope.to.push(address);
        }
    }

    /// VRFY: an address checked as a recipient, as Postfix's recipient restrictions do
    /// (relay denied unless the client may send).
    fn vrfy(&mut self, argument: &str) {
        let unauthenticated = self.config.require_auth && self.authenticated_as.is_none();
        if self.config.relay_denied || unauthenticated {
            let address = argument.trim_start_matches('<').trim_end_matches('>');
            return self.reply(&self.texts.relay_denied.replace("{rcpt}", address));
        }
        let ok = self.texts.vrfy_ok.unwrap_or(self.texts.unknown_command);
        self.reply(&ok.replace("{rcpt}", argument));
    }

    fn data(&mut self) {
        if self.envelope.to.is_empty() {
            return self.reply("554 5.5.1 Error: no valid recipients");
        }
        let replacement = self.config.replies.data.clone();
        if self.reply_or(replacement.as_ref(), self.texts.data_go_ahead) {
            self.message.clear();
            self.state = State::Data { overflow: false };
        }
    }

    fn data_line(&mut self, line: Vec<u8>) {
        let limit = self.size_limit();
        let State::Data { overflow } = &mut self.state else {
            return;
        };
        if line == b"." {
            let overflow = *overflow;
            self.transcript
                .client(format!("<message, {} bytes>", self.message.len()));
            self.transcript.client(".");
            self.state = State::Ready;
            let from = self.actions.len();
            self.finish_message(overflow);
            return self.hostile_at(Point::Command("MESSAGE"), from);
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        if self.message.len() + line.len() + 2 > limit {
            *overflow = true;
        }
        if !*overflow {
            self.message.extend_from_slice(line);
            self.message.extend_from_slice(b"\r\n");
        }
    }

    fn finish_message(&mut self, overflow: bool) {
        let envelope = std::mem::take(&mut self.envelope);
        let data = std::mem::take(&mut self.message);
        if overflow {
            return self.reply(personality::MESSAGE_TOO_BIG);
        }
        let replacement = self.config.replies.message.clone();
        let mut messages = self.messages.lock().expect("messages lock");
        let queue_id = format!("{:010X}", 0x4F2A1B2C3D_u64 + messages.len() as u64);
        let accepted = match replacement {
            Some(reply) => {
                self.actions.push_back(Action::Send(reply.to_wire()));
                reply.is_positive()
            }
            None => {
                let text = self.texts.queued.replace("{id}", &queue_id);
                self.actions.push_back(Action::Send(
                    SmtpReply::parse(&text).expect("valid reply").to_wire(),
                ));
                true
            }
        };
        if accepted {
            // A user of the scenario's IMAP server finds it in INBOX.
            self.store.deliver(&envelope.to, &data);
            messages.push(ReceivedMessage {
                peer: self.peer,
                authenticated_as: self.authenticated_as.clone(),
                tls: self.tls,
                mail_from: envelope.from.unwrap_or_default(),
                rcpt_to: envelope.to,
                headers: parse_headers(&data),
                data,
            });
        }
    }
}

/// The address in `FROM:<a@b> SIZE=123` or `TO:<a@b>`, without brackets; `<>` is empty.
fn path_argument(argument: &str, keyword: &str) -> Option<String> {
    let head = argument.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    let address = &rest[..end];
    (!address.contains([' ', '<'])).then(|| address.to_owned())
}

/// Header fields of a message, unfolded, up to the first empty line.
fn parse_headers(data: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(data);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in text.split("\r\n") {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    headers
}

impl Session for SmtpSession {
    fn start(&mut self) {
        self.greet();
        self.hostile_at(Point::Greeting, 0);
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
        // RFC 3207: after TLS the client starts over with EHLO.
        self.tls = true;
        self.state = State::Fresh;
        self.envelope = Envelope::default();
    }
}

#[cfg(test)]
mod tests;
