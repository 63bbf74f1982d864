//! The IMAP exchanges: greeting, CAPABILITY, STARTTLS, LOGIN, ID, LIST, SELECT and LOGOUT,
//! for the reference connector and `check` alike.
//!
//! async-imap frames the server's responses and imap-proto parses them; the commands are
//! written here, one at a time under our own tags, and each is answered from the parsed
//! responses. So a refusal keeps the server's words as sent, response code included
//! (async-imap's own commands hand them back only inside a `Debug` string), and a `* BYE`
//! is noticed wherever it comes. Failures before login are classified here (`imap-connect`,
//! and LOGIN at `imap-login`); what a failed command after login means is the caller's
//! to say, from [`Failed`].

use std::collections::HashMap;
use std::io;

use async_imap::Client;
use async_imap::imap_proto::{Capability, MailboxDatum, NameAttribute, Response, Status};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::Failure;
use super::bearer::BearerMechanism;
use crate::classify;
use crate::outcome::{Detail, ErrorClass, Outcome, Step};

/// A stream an IMAP connection runs over: TCP, TLS, bounded.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

/// How a command ended when it did not end OK.
#[derive(Debug)]
pub(crate) enum Failed {
    /// A tagged `NO` or `BAD`, with the server's text.
    Refused(Refusal),
    /// A `* BYE` came before the tagged reply, with its text: the server ended the session
    /// (a shutdown, an autologout, an expired token), whether or not it closed the
    /// connection yet.
    Bye(String),
    /// The connection closed before the tagged reply.
    Closed,
    /// The command cannot be sent: an argument with a CR or LF (a mailbox name from a
    /// literal in LIST).
    Unsendable,
    /// A read or write failed. Bytes that are no IMAP response are an `Other` error (how
    /// async-imap reports what it cannot parse); a reply past the bounds is
    /// `bounded::ReplyTooLong`.
    Io(io::Error),
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Refused(refusal) => write!(f, "{} {}", refusal.status, refusal.text),
            Failed::Bye(text) => write!(f, "* BYE {text}"),
            Failed::Closed => f.write_str("the connection closed"),
            Failed::Unsendable => f.write_str("a name with a line break cannot be sent"),
            Failed::Io(error) => write!(f, "{error}"),
        }
    }
}

/// A tagged `NO` or `BAD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// `NO` or `BAD`.
    pub(crate) status: &'static str,
    /// What follows the status, as the server sent it: `[AUTHENTICATIONFAILED] …`.
    pub(crate) text: String,
}

/// One IMAP connection.
pub(crate) struct Imap<T: Stream> {
    client: Client<T>,
    tags: u32,
    /// The greeting was `* PREAUTH`: the session is logged in already.
    preauthenticated: bool,
    /// What the last CAPABILITY before login listed.
    capabilities: Vec<String>,
}

/// The text after a status response's tag (or `*`) and status, as the server sent it, so a
/// response code stays in it. `raw` is the buffer the response was parsed from, which
/// starts with the response and may hold more after it; a status response is one line (it
/// cannot carry a literal).
fn said(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == b'\n').unwrap_or(raw.len());
    let line = String::from_utf8_lossy(&raw[..end]);
    let line = line.trim_end_matches('\r');
    line.splitn(3, ' ').nth(2).unwrap_or_default().to_owned()
}

/// An untagged status response (`* OK`, `* BYE`, …): its status and text.
fn untagged_status<'a>(parsed: &'a Response<'_>, raw: &[u8]) -> Option<(&'a Status, String)> {
    match parsed {
        Response::Data { status, .. } => Some((status, said(raw))),
        _ => None,
    }
}

fn connect_failure(class: ErrorClass, detail: Detail) -> Outcome {
    Outcome::failed(class, Step::ImapConnect, detail)
}

fn login_failure(class: ErrorClass, detail: Detail) -> Outcome {
    Outcome::failed(class, Step::ImapLogin, detail)
}

/// A failed read or write at `step`: what async-imap cannot parse (an `Other` error: the
/// server does not speak IMAP) and a reply past the bound (see `bounded`) are no usable
/// server, `imap_validation_error`. Anything else is the connection failing, `lost`: before
/// login a settings problem, after a good connect how some servers enforce limits (an
/// authentication error).
pub(crate) fn io_failure(error: &io::Error, step: Step, lost: ErrorClass) -> Outcome {
    let detail = classify::net::io_detail(error);
    if error.kind() == io::ErrorKind::Other {
        Outcome::failed(ErrorClass::ImapValidationError, step, Detail::NotImap)
    } else if detail == Detail::ReplyTooLong {
        Outcome::failed(ErrorClass::ImapValidationError, step, detail)
    } else {
        Outcome::failed(lost, step, detail)
    }
}

/// A failed read or write before login, saying what failed.
fn read_failure(error: &io::Error) -> Failure {
    Failure::from(io_failure(
        error,
        Step::ImapConnect,
        ErrorClass::ImapSettingsIncorrect,
    ))
    .because(error)
}

/// The connection ended where a response was due, before login.
fn closed() -> Outcome {
    connect_failure(ErrorClass::ImapSettingsIncorrect, Detail::ConnectionClosed)
}

/// The outcome of a LOGIN or AUTHENTICATE.
pub(crate) fn login_result(result: Result<(), Failed>) -> Result<(), Failure> {
    let failed = |outcome: Outcome| Err(Failure::from(outcome));
    match result {
        Ok(()) => Ok(()),
        Err(Failed::Refused(refusal)) => {
            let (class, detail) = classify::imap::login_refusal(&refusal.text);
            failed(login_failure(class, detail).with_response(Some("NO".into()), refusal.text))
        }
        Err(Failed::Io(error)) => Err(Failure::from(io_failure(
            &error,
            Step::ImapLogin,
            ErrorClass::ImapAuthenticationError,
        ))
        .because(error)),
        Err(Failed::Closed | Failed::Unsendable) => failed(login_failure(
            ErrorClass::ImapAuthenticationError,
            Detail::ConnectionLost,
        )),
        // As a BYE after login is (see `connector::reference::imap`).
        Err(Failed::Bye(text)) => failed(
            login_failure(ErrorClass::ImapAuthenticationError, Detail::ServerBye)
                .with_response(Some("BYE".into()), text),
        ),
    }
}

/// An IMAP quoted string, as async-imap quotes; a CR or LF cannot be sent in one.
fn quoted(value: &str) -> Option<String> {
    (!value.contains(['\r', '\n']))
        .then(|| format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")))
}

fn capability_name(cap: &Capability<'_>) -> String {
    match cap {
        Capability::Imap4rev1 => "IMAP4rev1".into(),
        Capability::Auth(mechanism) => format!("AUTH={mechanism}"),
        Capability::Atom(atom) => atom.to_string(),
    }
}

/// The folders LIST shows, and which of them is Sent.
pub(crate) struct Folders {
    pub(crate) sent: Option<String>,
    /// Selectable folders other than INBOX and Sent: they need a third sync session.
    pub(crate) further: Vec<String>,
}

fn is_sent(name: &str, attributes: &[NameAttribute<'_>]) -> bool {
    attributes.iter().any(|a| matches!(a, NameAttribute::Sent))
        || [
            "Sent",
            "Sent Items",
            "Sent Messages",
            "INBOX.Sent",
            "[Gmail]/Sent Mail",
        ]
        .iter()
        .any(|known| known.eq_ignore_ascii_case(name))
}

/// How [`Imap::log_in`] logs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PasswordLogin {
    /// The greeting was `* PREAUTH`.
    Preauthenticated,
    AuthenticatePlain,
    Login,
}

impl PasswordLogin {
    /// The command, as a report names it.
    pub(crate) fn command(self) -> &'static str {
        match self {
            PasswordLogin::Preauthenticated => "PREAUTH",
            PasswordLogin::AuthenticatePlain => "AUTHENTICATE PLAIN",
            PasswordLogin::Login => "LOGIN",
        }
    }
}

impl<T: Stream> Imap<T> {
    pub(crate) fn new(stream: T) -> Imap<T> {
        Imap {
            client: Client::new(stream),
            tags: 0,
            preauthenticated: false,
            capabilities: Vec::new(),
        }
    }

    /// Whether the last CAPABILITY before login listed `capability`.
    pub(crate) fn advertised(&self, capability: &str) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case(capability))
    }

    /// Whether the greeting was `* PREAUTH` (RFC 3501 §7.1.4): the server logged the
    /// connection in without a LOGIN.
    pub(crate) fn preauthenticated(&self) -> bool {
        self.preauthenticated
    }

    /// The stream underneath, for STARTTLS.
    pub(crate) fn into_inner(self) -> T {
        self.client.into_inner()
    }

    /// Writes `command` under a tag of ours and reads until its tagged reply, or a `* BYE`;
    /// every other response goes to `each`, in order, as it arrives (a hostile server's
    /// endless LIST is never held whole).
    pub(crate) async fn command(
        &mut self,
        command: &str,
        each: impl FnMut(&Response<'_>),
    ) -> Result<(), Failed> {
        self.exchange(command, |_| None, each).await
    }

    /// Writes `line` (with its CRLF) and flushes it.
    async fn send(&mut self, line: &str) -> Result<(), Failed> {
        let stream = self.client.get_mut();
        stream
            .write_all(line.as_bytes())
            .await
            .map_err(Failed::Io)?;
        stream.flush().await.map_err(Failed::Io)
    }

    /// As [`Imap::command`], answering each `+` continuation with what `answer` makes of
    /// its text (a SASL response); a continuation it has no answer for is passed to `each`.
    async fn exchange(
        &mut self,
        command: &str,
        mut answer: impl FnMut(&str) -> Option<String>,
        mut each: impl FnMut(&Response<'_>),
    ) -> Result<(), Failed> {
        self.tags += 1;
        let tag = format!("mh{}", self.tags);
        self.send(&format!("{tag} {command}\r\n")).await?;
        loop {
            let response = self
                .client
                .read_response()
                .await
                .map_err(Failed::Io)?
                .ok_or(Failed::Closed)?;
            let raw = response.borrow_owner();
            match response.parsed() {
                Response::Done {
                    tag: done, status, ..
                } if done.0 == tag => {
                    let status = match status {
                        Status::Ok => return Ok(()),
                        Status::No => "NO",
                        Status::Bad => "BAD",
                        other => {
                            return Err(Failed::Io(io::Error::other(format!(
                                "tagged reply with status {other:?}"
                            ))));
                        }
                    };
                    return Err(Failed::Refused(Refusal {
                        status,
                        text: said(raw),
                    }));
                }
                Response::Data {
                    status: Status::Bye,
                    ..
                } => return Err(Failed::Bye(said(raw))),
                Response::Continue(outcome) => {
                    match answer(outcome.information.as_deref().unwrap_or_default()) {
                        Some(line) => self.send(&format!("{line}\r\n")).await?,
                        None => each(response.parsed()),
                    }
                }
                parsed => each(parsed),
            }
        }
    }

    /// Reads the greeting and returns its text. No greeting, one that is not IMAP's and a
    /// `* BYE` or `* NO` are failures at `imap-connect`.
    pub(crate) async fn greeting(&mut self) -> Result<String, Failure> {
        let response = self
            .client
            .read_response()
            .await
            .map_err(|error| read_failure(&error))?
            .ok_or_else(closed)?;
        let failed = |detail| {
            Err(Failure::from(connect_failure(
                ErrorClass::ImapValidationError,
                detail,
            )))
        };
        match untagged_status(response.parsed(), response.borrow_owner()) {
            Some((status @ (Status::Ok | Status::PreAuth), text)) => {
                self.preauthenticated = matches!(status, Status::PreAuth);
                Ok(text)
            }
            // A greeting that refuses service (SPEC §6): as SMTP's refusing greeting.
            Some((status @ (Status::Bye | Status::No), text)) => {
                let status = if matches!(status, Status::Bye) {
                    "BYE"
                } else {
                    "NO"
                };
                Err(
                    connect_failure(ErrorClass::ImapSettingsIncorrect, Detail::GreetingRefused)
                        .with_response(Some(status.into()), text)
                        .into(),
                )
            }
            _ => failed(Detail::NotImap),
        }
    }

    /// CAPABILITY before login (or right after STARTTLS): the capability names.
    pub(crate) async fn capabilities(&mut self) -> Result<Vec<String>, Failure> {
        let mut caps = Vec::new();
        let result = self
            .command("CAPABILITY", |response| {
                if let Response::Capabilities(list) = response {
                    caps.extend(list.iter().map(capability_name));
                }
            })
            .await;
        match result {
            Ok(()) => {
                self.capabilities = caps.clone();
                Ok(caps)
            }
            // The server is closing the connection: as a BYE greeting is.
            Err(Failed::Bye(text)) => Err(connect_failure(
                ErrorClass::ImapValidationError,
                Detail::ServerRefused,
            )
            .with_response(Some("BYE".into()), text)
            .into()),
            Err(Failed::Refused(refusal)) => Err(connect_failure(
                ErrorClass::ImapValidationError,
                Detail::CapabilityRefused,
            )
            .with_response(Some(refusal.status.into()), refusal.text)
            .into()),
            Err(Failed::Unsendable) => Err(connect_failure(
                ErrorClass::ImapValidationError,
                Detail::CapabilityRefused,
            )
            .into()),
            Err(Failed::Closed) => Err(closed().into()),
            Err(Failed::Io(error)) => Err(read_failure(&error)),
        }
    }

    /// STARTTLS; on `OK` the caller makes the handshake on [`Imap::into_inner`].
    pub(crate) async fn starttls(&mut self) -> Result<(), Failure> {
        self.command("STARTTLS", |_| {}).await.map_err(|failed| {
            Failure::from(match failed {
                Failed::Refused(refusal) => {
                    connect_failure(ErrorClass::ImapValidationError, Detail::StarttlsRefused)
                        .with_response(Some(refusal.status.into()), refusal.text)
                }
                Failed::Io(error) => {
                    return Failure::from(connect_failure(
                        ErrorClass::ImapSettingsIncorrect,
                        classify::net::io_detail(&error),
                    ))
                    .because(error);
                }
                Failed::Closed | Failed::Unsendable => {
                    connect_failure(ErrorClass::ImapValidationError, Detail::ConnectionLost)
                }
                Failed::Bye(text) => {
                    connect_failure(ErrorClass::ImapValidationError, Detail::ServerRefused)
                        .with_response(Some("BYE".into()), text)
                }
            })
        })
    }

    /// Logs in with a password as a connector should: not at all after a `* PREAUTH`
    /// greeting (the server vouches for the connection, and a LOGIN would be refused in that
    /// state), AUTHENTICATE PLAIN where the server disables LOGIN (`LOGINDISABLED`, even over
    /// TLS), and without sending the credentials when it offers no AUTH=PLAIN either
    /// (`missing-capability`), else LOGIN.
    pub(crate) async fn log_in(&mut self, user: &str, password: &str) -> Result<(), Failure> {
        match self.password_login() {
            PasswordLogin::Preauthenticated => Ok(()),
            PasswordLogin::AuthenticatePlain if !self.advertised("AUTH=PLAIN") => Err(
                login_failure(ErrorClass::ImapValidationError, Detail::MissingCapability).into(),
            ),
            PasswordLogin::AuthenticatePlain => self.authenticate_plain(user, password).await,
            PasswordLogin::Login => self.login(user, password).await,
        }
    }

    /// How [`Imap::log_in`] logs in on this connection.
    pub(crate) fn password_login(&self) -> PasswordLogin {
        if self.preauthenticated() {
            PasswordLogin::Preauthenticated
        } else if self.advertised("LOGINDISABLED") {
            PasswordLogin::AuthenticatePlain
        } else {
            PasswordLogin::Login
        }
    }

    /// LOGIN, its refusal classified at `imap-login` by what the server said.
    pub(crate) async fn login(&mut self, user: &str, password: &str) -> Result<(), Failure> {
        let (Some(user), Some(password)) = (quoted(user), quoted(password)) else {
            return Err(
                login_failure(ErrorClass::Unauthorized, Detail::CredentialsNotSendable).into(),
            );
        };
        let result = self
            .command(&format!("LOGIN {user} {password}"), |_| {})
            .await;
        login_result(result)
    }

    /// AUTHENTICATE PLAIN (RFC 4616), for a server that disables LOGIN: the credentials
    /// in the command when the server has SASL-IR, else after its continuation.
    pub(crate) async fn authenticate_plain(
        &mut self,
        user: &str,
        password: &str,
    ) -> Result<(), Failure> {
        use base64::Engine as _;
        let payload =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        let result = if self.advertised("SASL-IR") {
            self.command(&format!("AUTHENTICATE PLAIN {payload}"), |_| {})
                .await
        } else {
            let mut payload = Some(payload);
            self.exchange("AUTHENTICATE PLAIN", |_| payload.take(), |_| {})
                .await
        };
        login_result(result)
    }

    /// AUTHENTICATE with a bearer token (XOAUTH2 or OAUTHBEARER, see `probe::bearer`): the
    /// token in the command when the server has SASL-IR, else after its continuation. A
    /// continuation after the token is the server's error challenge: it is answered as the
    /// mechanism requires, and its text comes back with the refusal that follows.
    pub(crate) async fn authenticate_bearer(
        &mut self,
        mechanism: BearerMechanism,
        payload: String,
    ) -> Result<(), (Failed, Option<String>)> {
        let mut challenge = None;
        // With SASL-IR the token rides in the command; else it answers the first `+`.
        let (command, mut pending) = if self.advertised("SASL-IR") {
            (format!("AUTHENTICATE {} {payload}", mechanism.name()), None)
        } else {
            (format!("AUTHENTICATE {}", mechanism.name()), Some(payload))
        };
        let result = self
            .exchange(
                &command,
                |text| {
                    pending.take().or_else(|| {
                        challenge = Some(text.to_owned());
                        Some(mechanism.error_answer().to_owned())
                    })
                },
                |_| {},
            )
            .await;
        result.map_err(|failed| (failed, challenge))
    }

    /// ID with our name: the server's fields, or none for `ID NIL`.
    pub(crate) async fn id(&mut self) -> Result<Option<HashMap<String, String>>, Failed> {
        let mut fields = None;
        self.command("ID (\"name\" \"mailharness\")", |response| {
            if let Response::Id(Some(map)) = response {
                fields = Some(
                    map.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                );
            }
        })
        .await?;
        Ok(fields)
    }

    /// CAPABILITY after login.
    pub(crate) async fn capabilities_after_login(&mut self) -> Result<Vec<String>, Failed> {
        let mut caps = Vec::new();
        self.command("CAPABILITY", |response| {
            if let Response::Capabilities(list) = response {
                caps.extend(list.iter().map(capability_name));
            }
        })
        .await?;
        Ok(caps)
    }

    /// LIST's folders, taken one response at a time.
    pub(crate) async fn folders(&mut self) -> Result<Folders, Failed> {
        let mut folders = Folders {
            sent: None,
            further: Vec::new(),
        };
        self.command("LIST \"\" *", |response| {
            let Response::MailboxData(MailboxDatum::List(list)) = response else {
                return;
            };
            let selectable = !list
                .name_attributes
                .iter()
                .any(|a| matches!(a, NameAttribute::NoSelect));
            let name = list.name.as_ref();
            if name.eq_ignore_ascii_case("INBOX") || !selectable {
                return;
            }
            if folders.sent.is_none() && is_sent(name, &list.name_attributes) {
                folders.sent = Some(name.to_owned());
            } else {
                folders.further.push(name.to_owned());
            }
        })
        .await?;
        Ok(folders)
    }

    /// SELECT of `mailbox`.
    pub(crate) async fn select(&mut self, mailbox: &str) -> Result<(), Failed> {
        let Some(name) = quoted(mailbox) else {
            return Err(Failed::Unsendable);
        };
        self.command(&format!("SELECT {name}"), |_| {}).await
    }

    /// LOGOUT, whatever the server answers.
    pub(crate) async fn logout(&mut self) {
        let _ = self.command("LOGOUT", |_| {}).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers with `script` whatever it is sent.
    async fn scripted(script: &'static [u8]) -> Imap<tokio::io::DuplexStream> {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            server.write_all(script).await.unwrap();
            let mut sink = Vec::new();
            let _ = server.read_to_end(&mut sink).await;
        });
        Imap::new(client)
    }

    #[tokio::test]
    async fn a_refusal_keeps_the_servers_words_with_their_code() {
        let mut imap = scripted(
            b"* OK [CAPABILITY IMAP4rev1] ready\r\n\
              mh1 NO [ALERT] Application-specific password required: \"see\" https://x (Failure)\r\n",
        )
        .await;
        assert_eq!(
            imap.greeting().await.unwrap(),
            "[CAPABILITY IMAP4rev1] ready"
        );
        let outcome = imap.login("a@b", "pw").await.unwrap_err().outcome;
        assert_eq!(outcome.class, ErrorClass::UnauthorizedAppPasswordRequired);
        assert_eq!(
            outcome.response.unwrap().text,
            "[ALERT] Application-specific password required: \"see\" https://x (Failure)"
        );
    }

    #[tokio::test]
    async fn a_bye_ends_the_command_with_its_text() {
        let mut imap =
            scripted(b"* OK [ALERT] soon\r\n* BYE Autologout; idle for too long\r\n").await;
        match imap.select("INBOX").await {
            Err(Failed::Bye(text)) => assert_eq!(text, "Autologout; idle for too long"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn list_finds_sent_by_attribute_or_name_and_skips_noselect() {
        let mut imap = scripted(
            b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n\
              * LIST (\\HasNoChildren \\Sent) \"/\" Gesendet\r\n\
              * LIST (\\Noselect) \"/\" Archive\r\n\
              * LIST () \"/\" Projects\r\n\
              mh1 OK LIST completed\r\n",
        )
        .await;
        let folders = imap.folders().await.unwrap();
        assert_eq!(folders.sent.as_deref(), Some("Gesendet"));
        assert_eq!(folders.further, ["Projects"]);
    }

    #[tokio::test]
    async fn credentials_with_a_line_break_are_not_sent() {
        let mut imap = scripted(b"").await;
        let outcome = imap
            .login("a@b", "pass\r\nA2 LOGOUT")
            .await
            .unwrap_err()
            .outcome;
        assert_eq!(outcome.detail, Detail::CredentialsNotSendable);
    }

    #[test]
    fn sent_folders_by_attribute_or_well_known_name() {
        assert!(is_sent("Gesendet", &[NameAttribute::Sent]));
        assert!(is_sent("[Gmail]/Sent Mail", &[]));
        assert!(is_sent("INBOX.Sent", &[]));
        assert!(!is_sent("Archive", &[]));
    }
}
