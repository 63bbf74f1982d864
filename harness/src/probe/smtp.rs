//! The SMTP exchanges, with lettre's step-by-step async connection.
//!
//! `smtp-connect`: implicit TLS or STARTTLS (refused when the server does not offer it),
//! trusting the system roots plus the settings' CA. The harness makes the connection and
//! the TLS handshake (the policy of `tls`, implicit or after STARTTLS, see `starttls`) and
//! hands it to lettre bounded (see `bounded`); lettre runs the greeting, EHLO and STARTTLS.
//! `smtp-login`: AUTH PLAIN or LOGIN. `test-send`: MAIL, RCPT, DATA and the message, one
//! command at a time so that a refusal names the command that was refused.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Starttls};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, Message};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::classify;
use crate::classify::tls::TlsFailure;
use crate::connector::{ConnectionSecurity, Settings};
use crate::outcome::{Detail, ErrorClass, Outcome, Step};

use super::bearer::BearerMechanism;
use super::bounded::{Bounded, Limits};
use super::legacy;
use super::net;
use super::starttls::{AfterStarttls, Handover};

/// The name the connector gives in EHLO.
const HELLO_NAME: &str = "mailharness.localhost";

pub(crate) fn client_id() -> ClientId {
    ClientId::Domain(HELLO_NAME.into())
}

/// The server's reply text inside a lettre error (the message of a negative reply).
fn reply_text(error: &lettre::transport::smtp::Error) -> String {
    std::error::Error::source(error)
        .map(|source| source.to_string())
        .unwrap_or_else(|| error.to_string())
}

fn reply_code(error: &lettre::transport::smtp::Error) -> Option<u16> {
    error.status().map(u16::from)
}

/// Class and detail of a failed connect, STARTTLS or greeting.
pub(crate) fn connect_error(error: &lettre::transport::smtp::Error) -> Outcome {
    let fail = |class, detail: Detail| Outcome::failed(class, Step::SmtpConnect, detail);
    if let Some(rustls) = classify::net::find_rustls_error(error) {
        return match classify::tls::classify(rustls) {
            TlsFailure::Certificate(detail) => {
                fail(ErrorClass::UnauthorizedUntrustedCertificate, detail)
            }
            other => fail(ErrorClass::SmtpSettingsIncorrect, other.detail()),
        };
    }
    if let Some(code) = reply_code(error) {
        // 421 is a refusal for now (RFC 5321 §3.1), 554 for good.
        let detail = if (400..500).contains(&code) {
            Detail::GreetingTemporarilyRefused
        } else {
            Detail::GreetingRefused
        };
        return fail(ErrorClass::SmtpSettingsIncorrect, detail)
            .with_response(Some(code.to_string()), reply_text(error));
    }
    if let Some(problem) = response_problem(error) {
        return fail(
            ErrorClass::SmtpSettingsIncorrect,
            problem.detail(Detail::ConnectionClosed),
        );
    }
    let detail = classify::net::find_io_error(error)
        .map(io_detail)
        .unwrap_or(Detail::ConnectionFailed);
    fail(ErrorClass::SmtpSettingsIncorrect, detail)
}

/// The detail of an I/O error under lettre: bytes it cannot read as text (not UTF-8) are no
/// SMTP reply; the rest as `classify::net::io_detail`.
fn io_detail(error: &std::io::Error) -> Detail {
    match classify::net::io_detail(error) {
        Detail::ConnectionFailed if error.kind() == std::io::ErrorKind::InvalidData => {
            Detail::NotSmtp
        }
        detail => detail,
    }
}

/// What lettre's response error (no reply code) says was wrong with a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ResponseProblem {
    /// The connection ended before a whole reply.
    Incomplete,
    /// Past lettre's own bounds: a line over 1,000 bytes (RFC 5321 allows 512) or a reply
    /// over 100,000; the same as ours in `bounded`.
    TooLong,
    /// Not an SMTP reply: no code, a code outside 2xx–5xx, lines with different codes.
    NotSmtp,
}

impl ResponseProblem {
    /// The detail, with the step's own word for an incomplete reply.
    fn detail(self, incomplete: Detail) -> Detail {
        match self {
            ResponseProblem::Incomplete => incomplete,
            ResponseProblem::TooLong => Detail::ReplyTooLong,
            ResponseProblem::NotSmtp => Detail::NotSmtp,
        }
    }
}

/// lettre reports garbage, overlong replies and a connection closed before a full reply as
/// response errors without a code, told apart only by their message.
fn response_problem(error: &lettre::transport::smtp::Error) -> Option<ResponseProblem> {
    if !error.is_response() || reply_code(error).is_some() {
        return None;
    }
    let text = reply_text(error);
    Some(if text.contains("incomplete") {
        ResponseProblem::Incomplete
    } else if text.contains("too long") || text.contains("too large") {
        ResponseProblem::TooLong
    } else {
        ResponseProblem::NotSmtp
    })
}

pub(crate) async fn bounded<T>(
    limit: Duration,
    step: Step,
    class: ErrorClass,
    work: impl Future<Output = Result<T, Outcome>>,
) -> Result<T, Outcome> {
    timeout(limit, work)
        .await
        .unwrap_or_else(|_| Err(Outcome::failed(class, step, Detail::Timeout)))
}

/// Runs `smtp-connect`; a connection the server dropped is checked for a legacy-only
/// server (see `legacy`).
pub(crate) async fn connect(settings: &Settings) -> Result<AsyncSmtpConnection, Outcome> {
    match connect_steps(settings).await {
        Err(outcome) => {
            let legacy = Outcome::failed(
                ErrorClass::SmtpSettingsIncorrect,
                Step::SmtpConnect,
                Detail::TlsVersion,
            );
            Err(legacy::diagnose_dropped(outcome, settings, legacy::Protocol::Smtp, legacy).await)
        }
        ok => ok,
    }
}

async fn connect_steps(settings: &Settings) -> Result<AsyncSmtpConnection, Outcome> {
    bounded(
        settings.step_timeout,
        Step::SmtpConnect,
        ErrorClass::SmtpSettingsIncorrect,
        async {
            let endpoint = &settings.smtp;
            // Each TLS configuration is built before connecting: a bad CA file is
            // `tls-setup-failed` whatever the server does.
            Ok(if endpoint.security == ConnectionSecurity::ImplicitTls {
                let config = tls_config(settings)?;
                let tcp =
                    tcp_connect(&endpoint.host, endpoint.port, settings.source_address).await?;
                greet(tls_handshake(tcp, settings, config).await?, settings.limits).await?
            } else {
                let config = tls_config(settings)?;
                let handover = Handover::new(
                    tcp_connect(&endpoint.host, endpoint.port, settings.source_address).await?,
                );
                let mut plain = greet(handover.clone(), settings.limits).await?;
                if !plain.can_starttls() {
                    plain.abort().await;
                    return Err(Outcome::failed(
                        ErrorClass::SmtpSettingsIncorrect,
                        Step::SmtpConnect,
                        Detail::TlsRequired,
                    ));
                }
                if let Err(error) = plain.command(Starttls).await {
                    let outcome = connect_error(&error);
                    return Err(match reply_code(&error) {
                        Some(_) => outcome.with_detail(Detail::StarttlsRefused),
                        None => outcome,
                    });
                }
                // Whatever lettre read past the 220 goes with it (see `starttls`).
                drop(plain);
                let tcp = handover.take_socket().ok_or_else(|| {
                    Outcome::failed(
                        ErrorClass::SmtpSettingsIncorrect,
                        Step::SmtpConnect,
                        Detail::ConnectionClosed,
                    )
                })?;
                let tls = tls_handshake(tcp, settings, config).await?;
                greet(AfterStarttls::new(tls), settings.limits).await?
            })
        },
    )
    .await
}

/// A connection over OpenSSL at any TLS version from 1.0 to 1.3 (`legacy::handshake`,
/// after STARTTLS on a STARTTLS port), greeted: how `check` runs AUTH and the test send on
/// a server a modern connector could not talk to at all. The certificate is not checked
/// (`check` judges it on its own row).
pub(crate) async fn connect_any_tls(
    host: &str,
    port: u16,
    security: ConnectionSecurity,
    limits: Limits,
) -> Result<AsyncSmtpConnection, super::Failure> {
    let tls = legacy::handshake(
        host,
        port,
        security,
        legacy::Protocol::Smtp,
        None,
        openssl::ssl::SslVersion::TLS1,
        openssl::ssl::SslVersion::TLS1_3,
    )
    .await
    .map_err(|why| {
        super::Failure::from(Outcome::failed(
            ErrorClass::SmtpSettingsIncorrect,
            Step::SmtpConnect,
            Detail::TlsHandshakeFailed,
        ))
        .because(why)
    })?;
    Ok(match security {
        ConnectionSecurity::ImplicitTls => greet(tls, limits).await?,
        ConnectionSecurity::Starttls => greet(AfterStarttls::new(tls), limits).await?,
    })
}

/// A TCP connection for SMTP; refusals keep the detail of IMAP's (`net::tcp_connect`).
async fn tcp_connect(host: &str, port: u16, source: Option<IpAddr>) -> Result<TcpStream, Outcome> {
    net::tcp_connect(host, port, source)
        .await
        .map_err(|(_, detail)| {
            Outcome::failed(ErrorClass::SmtpSettingsIncorrect, Step::SmtpConnect, detail)
        })
}

/// The greeting and EHLO over `stream` bounded (see `bounded`), by lettre. A refusal after
/// the client spoke refused the EHLO, not the connection.
async fn greet<S: 'static>(stream: S, limits: Limits) -> Result<AsyncSmtpConnection, Outcome>
where
    Bounded<S>: AsyncTokioStream,
{
    let spoke = Arc::new(AtomicBool::new(false));
    let stream = Box::new(Bounded::smtp(stream, limits).flag_writes(spoke.clone()));
    AsyncSmtpConnection::connect_with_transport(stream, &client_id())
        .await
        .map_err(|error| {
            let outcome = connect_error(&error);
            if reply_code(&error).is_some() && spoke.load(Ordering::Relaxed) {
                outcome.with_detail(Detail::EhloRefused)
            } else {
                outcome
            }
        })
}

/// A plaintext connection, greeted: connections are made here, not by lettre, so that what
/// the server may send is bounded (see `bounded`); lettre runs STARTTLS over it.
pub(crate) async fn connect_plain(
    host: &str,
    port: u16,
    source: Option<IpAddr>,
    limits: Limits,
) -> Result<AsyncSmtpConnection, Outcome> {
    greet(tcp_connect(host, port, source).await?, limits).await
}

/// The TLS configuration, for implicit TLS and STARTTLS alike: the policy of IMAP's (`tls`:
/// TLS 1.2 and 1.3, the system roots unless switched off, the settings' CA, any
/// certificate when insecure ones are allowed).
fn tls_config(settings: &Settings) -> Result<Arc<ClientConfig>, Outcome> {
    super::tls::client_config(settings).map_err(|detail| {
        Outcome::failed(
            ErrorClass::SmtpSettingsIncorrect,
            Step::SmtpConnect,
            Detail::TlsSetupFailed,
        )
        .with_response(None, detail)
    })
}

/// The TLS handshake (implicit, or after STARTTLS), classified as IMAP's is.
async fn tls_handshake(
    tcp: TcpStream,
    settings: &Settings,
    config: Arc<ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Outcome> {
    let name = ServerName::try_from(settings.smtp.host.clone()).map_err(|_| {
        Outcome::failed(
            ErrorClass::SmtpSettingsIncorrect,
            Step::SmtpConnect,
            Detail::InvalidHost,
        )
    })?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|error| {
            net::tls_failure(
                &error,
                ErrorClass::SmtpSettingsIncorrect,
                ErrorClass::SmtpSettingsIncorrect,
                Step::SmtpConnect,
            )
        })
}

/// Runs `smtp-login`.
pub(crate) async fn login(
    connection: &mut AsyncSmtpConnection,
    settings: &Settings,
) -> Result<(), Outcome> {
    bounded(
        settings.step_timeout,
        Step::SmtpLogin,
        ErrorClass::SmtpSettingsIncorrect,
        async {
            let mechanisms = [Mechanism::Plain, Mechanism::Login];
            if connection
                .server_info()
                .get_auth_mechanism(&mechanisms)
                .is_none()
            {
                return Err(Outcome::failed(
                    ErrorClass::SmtpSettingsIncorrect,
                    Step::SmtpLogin,
                    Detail::AuthNotOffered,
                ));
            }
            let credentials = Credentials::new(
                settings.login().to_owned(),
                settings.password.expose().to_owned(),
            );
            match connection.auth(&mechanisms, &credentials).await {
                Ok(_) => Ok(()),
                Err(error) => Err(auth_error(&error)),
            }
        },
    )
    .await
}

/// What a failed AUTH means: the server's refusal, or what happened to the connection.
pub(crate) fn auth_error(error: &lettre::transport::smtp::Error) -> Outcome {
    let code = reply_code(error);
    let text = reply_text(error);
    let (class, detail) = match code {
        Some(code) => classify::smtp::auth_refusal(code, &text),
        None => (
            ErrorClass::SmtpSettingsIncorrect,
            match response_problem(error) {
                Some(problem) => problem.detail(Detail::ConnectionClosed),
                None => classify::net::find_io_error(error)
                    .map(io_detail)
                    .unwrap_or(Detail::AuthFailed),
            },
        ),
    };
    Outcome::failed(class, Step::SmtpLogin, detail).with_response(code.map(|c| c.to_string()), text)
}

/// The mechanisms of the EHLO reply's AUTH line as the server sent them: lettre keeps only
/// those it implements (no OAUTHBEARER), so EHLO is sent again (RFC 5321 allows it) and its
/// reply read.
pub(crate) async fn offered_mechanisms(connection: &mut AsyncSmtpConnection) -> Vec<String> {
    let Ok(reply) = connection.command(format!("EHLO {HELLO_NAME}\r\n")).await else {
        return Vec::new();
    };
    reply
        .message()
        .find_map(|line| {
            let (keyword, rest) = line.split_once(' ')?;
            keyword
                .eq_ignore_ascii_case("AUTH")
                .then(|| rest.split_whitespace().map(str::to_owned).collect())
        })
        .unwrap_or_default()
}

/// AUTH with a bearer token (XOAUTH2 or OAUTHBEARER, see `bearer`), the token in the
/// command. A `334` after it is the server's error challenge: it is answered as the
/// mechanism requires, and its text comes back with the refusal that follows.
pub(crate) async fn auth_bearer(
    connection: &mut AsyncSmtpConnection,
    mechanism: BearerMechanism,
    payload: &str,
) -> Result<(), (lettre::transport::smtp::Error, Option<String>)> {
    let command = format!("AUTH {} {payload}\r\n", mechanism.name());
    let reply = connection.command(command).await.map_err(|e| (e, None))?;
    if reply.code().to_string() != "334" {
        return Ok(());
    }
    let challenge: String = reply.message().collect();
    let answer = format!("{}\r\n", mechanism.error_answer());
    match connection.command(answer).await {
        // A server that lets the client in after all.
        Ok(_) => Ok(()),
        Err(error) => Err((error, Some(challenge))),
    }
}

/// The test message from the inbox to the BCC address.
fn test_message(settings: &Settings) -> Result<(Address, Address, Vec<u8>), String> {
    let from: Address = settings
        .email
        .parse()
        .map_err(|e| format!("email {}: {e}", settings.email))?;
    let to: Address = settings
        .bcc
        .parse()
        .map_err(|e| format!("BCC address {}: {e}", settings.bcc))?;
    let message = Message::builder()
        .from(Mailbox::new(None, from.clone()))
        .to(Mailbox::new(None, to.clone()))
        .subject("mailharness test message")
        .body("This message checks that the inbox can send. It can be deleted.\r\n".to_owned())
        .map_err(|e| e.to_string())?;
    Ok((from, to, message.formatted()))
}

/// The message after DATA, dot-stuffed and with its terminator, as one write.
///
/// lettre's `message()` writes the message and the terminating `.` in two writes; on a
/// socket without TCP_NODELAY (lettre sets none) the second waits for the server's delayed
/// ACK, about 40 ms on Linux. For the test message (UTF-8) the bytes on the wire are the
/// same as lettre's.
struct MessageData<'a>(&'a [u8]);

impl std::fmt::Display for MessageData<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = String::from_utf8_lossy(self.0);
        for (index, line) in text.split("\r\n").enumerate() {
            if index > 0 {
                f.write_str("\r\n")?;
            }
            if line.starts_with('.') {
                f.write_str(".")?;
            }
            f.write_str(line)?;
        }
        f.write_str("\r\n.\r\n")
    }
}

/// Runs `test-send`.
pub(crate) async fn send(
    connection: &mut AsyncSmtpConnection,
    settings: &Settings,
) -> Result<(), Outcome> {
    bounded(
        settings.step_timeout,
        Step::TestSend,
        ErrorClass::TestEmailFailed,
        async {
            // A refusal names its command; a connection lost mid-send names no reply.
            let refused =
                |detail: Detail, error: &lettre::transport::smtp::Error| match reply_code(error) {
                    // A 4xx is temporary and says so (SPEC §6): greylisting, a full queue.
                    Some(code) => Outcome::failed(
                        ErrorClass::TestEmailFailed,
                        Step::TestSend,
                        if (400..500).contains(&code) {
                            detail.temporary()
                        } else {
                            detail
                        },
                    )
                    .with_response(Some(code.to_string()), reply_text(error)),
                    None => Outcome::failed(
                        ErrorClass::TestEmailFailed,
                        Step::TestSend,
                        match response_problem(error) {
                            Some(problem) => problem.detail(Detail::ConnectionLost),
                            None => classify::net::find_io_error(error)
                                .map(io_detail)
                                .filter(|&detail| {
                                    matches!(detail, Detail::ReplyTooLong | Detail::NotSmtp)
                                })
                                .unwrap_or(Detail::ConnectionLost),
                        },
                    )
                    .with_response(None, reply_text(error)),
                };
            let (from, to, message) = test_message(settings).map_err(|e| {
                Outcome::failed(
                    ErrorClass::TestEmailFailed,
                    Step::TestSend,
                    Detail::InvalidAddress,
                )
                .with_response(None, e)
            })?;
            connection
                .command(Mail::new(Some(from), vec![]))
                .await
                .map_err(|e| refused(Detail::MailFromRefused, &e))?;
            connection
                .command(Rcpt::new(to, vec![]))
                .await
                .map_err(|e| refused(Detail::RcptRefused, &e))?;
            let go_ahead = connection
                .command(Data)
                .await
                .map_err(|e| refused(Detail::DataRefused, &e))?;
            // RFC 5321 §4.3.2: DATA is answered 354; any other positive reply leaves client
            // and server disagreeing on whether the message has begun.
            if u16::from(go_ahead.code()) != 354 {
                // No QUIT: the server may be reading the message by now.
                return Err(Outcome::failed(
                    ErrorClass::TestEmailFailed,
                    Step::TestSend,
                    Detail::UnexpectedReply,
                )
                .with_response(
                    Some(go_ahead.code().to_string()),
                    go_ahead.message().collect::<Vec<_>>().join("\n"),
                ));
            }
            connection
                .command(MessageData(&message))
                .await
                .map_err(|e| refused(Detail::MessageRefused, &e))?;
            let _ = connection.quit().await;
            Ok(())
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::MessageData;

    #[test]
    fn message_data_is_dot_stuffed_and_terminated() {
        assert_eq!(
            MessageData(b".a\r\nb\r\n..c\r\n").to_string(),
            "..a\r\nb\r\n...c\r\n\r\n.\r\n"
        );
        assert_eq!(MessageData(b"x").to_string(), "x\r\n.\r\n");
    }
}
