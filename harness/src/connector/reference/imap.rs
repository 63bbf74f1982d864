//! The reference connector's IMAP steps, with async-imap over tokio-rustls.
//!
//! `imap-connect`: TCP (from the configured source address), TLS (implicit, or STARTTLS
//! after checking the capability), the greeting (Courier-IMAP is refused here when it names
//! itself) and the pre-login capabilities (Courier's fingerprint, STARTTLS).
//!
//! `imap-login`: LOGIN, then ID and the post-login capabilities (Courier again), LIST, and
//! the sessions the connector keeps for syncing, opened at the same time: INBOX, Sent, and a
//! third when LIST shows further folders.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_imap::imap_proto::{self, NameAttribute, Response, Status};
use async_imap::{Client, Session};
use futures::TryStreamExt;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};

use super::bounded::{Bounded, Limits};
use tokio::time::timeout;

use super::legacy_probe;
use crate::classify;
use crate::classify::tls::TlsFailure;
use crate::connector::{ConnectionSecurity, Settings};
use crate::outcome::{Detail, ErrorClass, Outcome, Step};

type TlsStream = Bounded<tokio_rustls::client::TlsStream<TcpStream>>;
pub(super) type ImapSession = Session<TlsStream>;

/// Where `imap-connect` was when its time ran out.
#[derive(Clone, Copy)]
enum Progress {
    Connecting,
    Handshake,
    Greeting,
    Capabilities,
    Starttls,
}

fn connect_failure(class: ErrorClass, detail: Detail) -> Outcome {
    Outcome::failed(class, Step::ImapConnect, detail)
}

/// Runs `imap-connect`, bounded by the step timeout.
pub(super) async fn connect(
    settings: &Settings,
    tls: &Arc<ClientConfig>,
) -> Result<Client<TlsStream>, Outcome> {
    let mut progress = Progress::Connecting;
    match timeout(
        settings.step_timeout,
        connect_steps(settings, tls, &mut progress),
    )
    .await
    {
        Ok(Err(outcome))
            if matches!(progress, Progress::Handshake) && legacy_probe::is_dropped(&outcome) =>
        {
            Err(diagnose_dropped_handshake(outcome, settings).await)
        }
        Ok(result) => result,
        Err(_elapsed) => Err(match progress {
            Progress::Connecting | Progress::Handshake => {
                connect_failure(ErrorClass::ImapSettingsIncorrect, Detail::Timeout)
            }
            Progress::Greeting => {
                connect_failure(ErrorClass::ImapValidationError, Detail::NoGreeting)
            }
            Progress::Capabilities | Progress::Starttls => {
                connect_failure(ErrorClass::ImapValidationError, Detail::NoResponse)
            }
        }),
    }
}

/// A handshake the server dropped: a legacy-only server (real Dovecot and Courier close on
/// a TLS 1.2+ ClientHello) is a TLS version problem, anything else stays as it was.
async fn diagnose_dropped_handshake(outcome: Outcome, settings: &Settings) -> Outcome {
    let legacy = legacy_probe::speaks_only_legacy_tls(
        &settings.imap.host,
        settings.imap.port,
        settings.imap.security,
        legacy_probe::Protocol::Imap,
        settings.source_address,
        settings.step_timeout,
    )
    .await;
    if legacy {
        connect_failure(ErrorClass::ImapValidationError, Detail::TlsVersion)
    } else {
        outcome
    }
}

async fn connect_steps(
    settings: &Settings,
    tls: &Arc<ClientConfig>,
    progress: &mut Progress,
) -> Result<Client<TlsStream>, Outcome> {
    let endpoint = &settings.imap;
    let tcp = tcp_connect(&endpoint.host, endpoint.port, settings.source_address)
        .await
        .map_err(|(class, detail)| connect_failure(class, detail))?;
    match endpoint.security {
        ConnectionSecurity::ImplicitTls => {
            *progress = Progress::Handshake;
            let stream = handshake(tcp, &endpoint.host, tls, settings.limits).await?;
            *progress = Progress::Greeting;
            let mut client = Client::new(stream);
            greeting(&mut client).await?;
            *progress = Progress::Capabilities;
            check_capabilities(&capabilities(&mut client).await?)?;
            Ok(client)
        }
        ConnectionSecurity::Starttls => {
            *progress = Progress::Greeting;
            let mut client = Client::new(Bounded::new(tcp, settings.limits));
            greeting(&mut client).await?;
            *progress = Progress::Capabilities;
            let caps = capabilities(&mut client).await?;
            check_capabilities(&caps)?;
            if !caps.iter().any(|cap| cap.eq_ignore_ascii_case("STARTTLS")) {
                return Err(connect_failure(
                    ErrorClass::ImapValidationError,
                    Detail::TlsRequired,
                ));
            }
            *progress = Progress::Starttls;
            if let Err(error) = client.run_command_and_check_ok("STARTTLS", None).await {
                return Err(command_failure(&error, Detail::StarttlsRefused));
            }
            *progress = Progress::Handshake;
            let tcp = client.into_inner().into_inner();
            let stream = handshake(tcp, &endpoint.host, tls, settings.limits).await?;
            *progress = Progress::Capabilities;
            let mut client = Client::new(stream);
            check_capabilities(&capabilities(&mut client).await?)?;
            Ok(client)
        }
    }
}

/// Resolves and connects, from the source address when one is set. The class is IMAP's;
/// SMTP keeps the detail only.
pub(super) async fn tcp_connect(
    host: &str,
    port: u16,
    source: Option<IpAddr>,
) -> Result<TcpStream, (ErrorClass, Detail)> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| (ErrorClass::ImapSettingsIncorrect, Detail::Dns))?
        .filter(|addr| source.is_none_or(|source| source.is_ipv4() == addr.is_ipv4()))
        .collect();
    let mut last = (ErrorClass::ImapSettingsIncorrect, Detail::Dns);
    for addr in addrs {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        };
        let attempt = async {
            let socket = socket?;
            if let Some(source) = source {
                socket.bind(SocketAddr::new(source, 0))?;
            }
            socket.connect(addr).await
        };
        match attempt.await {
            Ok(stream) => {
                // async-imap writes a command in pieces; without this, Nagle's algorithm
                // holds each piece back until the server's delayed ACK.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(error) => {
                last = (
                    ErrorClass::ImapSettingsIncorrect,
                    classify::net::io_detail(&error),
                )
            }
        }
    }
    Err(last)
}

/// The TLS handshake, classified when it fails; the session above it is bounded.
async fn handshake(
    tcp: TcpStream,
    host: &str,
    config: &Arc<ClientConfig>,
    limits: Limits,
) -> Result<TlsStream, Outcome> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| connect_failure(ErrorClass::ImapSettingsIncorrect, Detail::InvalidHost))?;
    let connector = tokio_rustls::TlsConnector::from(config.clone());
    let tls = connector.connect(name, tcp).await.map_err(|error| {
        tls_failure(
            &error,
            ErrorClass::ImapValidationError,
            ErrorClass::ImapSettingsIncorrect,
            Step::ImapConnect,
        )
    })?;
    Ok(Bounded::new(tls, limits))
}

/// Class and detail of a failed handshake. `validation` is the protocol's class for a
/// server that cannot be validated (TLS version, no TLS), `settings` for a lost connection.
pub(super) fn tls_failure(
    error: &std::io::Error,
    validation: ErrorClass,
    settings: ErrorClass,
    step: Step,
) -> Outcome {
    match classify::net::find_rustls_error(error).map(classify::tls::classify) {
        Some(TlsFailure::Certificate(detail)) => {
            Outcome::failed(ErrorClass::UnauthorizedUntrustedCertificate, step, detail)
        }
        Some(failure) => Outcome::failed(validation, step, failure.detail()),
        None => Outcome::failed(settings, step, classify::net::io_detail(error)),
    }
}

/// Reads the greeting: refuses no greeting, a non-IMAP one, BYE and Courier-IMAP.
async fn greeting<T>(client: &mut Client<T>) -> Result<(), Outcome>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    let response = client
        .read_response()
        .await
        .map_err(|e| read_failure(&e))?
        .ok_or_else(closed)?;
    match response.parsed() {
        Response::Data {
            status: Status::Ok | Status::PreAuth,
            outcome,
        } => {
            let text = outcome.information.as_deref().unwrap_or_default();
            if classify::imap::is_courier_greeting(text) {
                return Err(
                    connect_failure(ErrorClass::ImapValidationError, Detail::CourierImap)
                        .with_response(Some("OK".into()), text),
                );
            }
            Ok(())
        }
        Response::Data {
            status: Status::Bye,
            outcome,
        } => Err(
            connect_failure(ErrorClass::ImapValidationError, Detail::ServerRefused).with_response(
                Some("BYE".into()),
                outcome.information.as_deref().unwrap_or_default(),
            ),
        ),
        _ => Err(connect_failure(
            ErrorClass::ImapValidationError,
            Detail::NotImap,
        )),
    }
}

/// The connection ended where a response was due.
fn closed() -> Outcome {
    connect_failure(ErrorClass::ImapSettingsIncorrect, Detail::ConnectionClosed)
}

/// A failed read or write at `step`: async-imap reports what it cannot parse as an `Other`
/// I/O error (the server does not speak IMAP), and a reply past the bound (see `bounded`) is
/// no usable server either: both `imap_validation_error`. Anything else is the connection
/// failing, `lost`: before login a settings problem, after a good connect how some servers
/// enforce limits (an authentication error).
fn io_failure(error: &std::io::Error, step: Step, lost: ErrorClass) -> Outcome {
    let detail = classify::net::io_detail(error);
    if error.kind() == std::io::ErrorKind::Other {
        Outcome::failed(ErrorClass::ImapValidationError, step, Detail::NotImap)
    } else if detail == Detail::ReplyTooLong {
        Outcome::failed(ErrorClass::ImapValidationError, step, detail)
    } else {
        Outcome::failed(lost, step, detail)
    }
}

/// A failed read or write before login.
fn read_failure(error: &std::io::Error) -> Outcome {
    io_failure(error, Step::ImapConnect, ErrorClass::ImapSettingsIncorrect)
}

fn capability_name(cap: &imap_proto::Capability<'_>) -> String {
    match cap {
        imap_proto::Capability::Imap4rev1 => "IMAP4rev1".into(),
        imap_proto::Capability::Auth(mechanism) => format!("AUTH={mechanism}"),
        imap_proto::Capability::Atom(atom) => atom.to_string(),
    }
}

/// The tag of the raw pre-login CAPABILITY; async-imap's own tags are `A0001` and up.
const CAPABILITY_TAG: &str = "mh1";

/// Runs CAPABILITY before login. async-imap offers it only after login, so the command is
/// written to the stream underneath and the responses read until its tagged reply.
pub(crate) async fn capabilities<T>(client: &mut Client<T>) -> Result<Vec<String>, Outcome>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    use tokio::io::AsyncWriteExt;
    let lost = |detail| connect_failure(ErrorClass::ImapValidationError, detail);
    let command = format!("{CAPABILITY_TAG} CAPABILITY\r\n");
    let stream = client.get_mut();
    let written = async {
        stream.write_all(command.as_bytes()).await?;
        stream.flush().await
    };
    written.await.map_err(|e| read_failure(&e))?;
    let mut caps = Vec::new();
    loop {
        let response = client
            .read_response()
            .await
            .map_err(|e| read_failure(&e))?
            .ok_or_else(closed)?;
        match response.parsed() {
            Response::Capabilities(list) => caps.extend(list.iter().map(capability_name)),
            // The server is closing the connection: as a BYE greeting is.
            Response::Data {
                status: Status::Bye,
                outcome,
            } => {
                return Err(lost(Detail::ServerRefused).with_response(
                    Some("BYE".into()),
                    outcome.information.as_deref().unwrap_or_default(),
                ));
            }
            Response::Done {
                tag: done, status, ..
            } if done.0 == CAPABILITY_TAG => {
                return match status {
                    Status::Ok => Ok(caps),
                    _ => Err(lost(Detail::CapabilityRefused)),
                };
            }
            _ => {}
        }
    }
}

fn check_capabilities(caps: &[String]) -> Result<(), Outcome> {
    if classify::imap::is_courier_capabilities(caps) {
        return Err(connect_failure(
            ErrorClass::ImapValidationError,
            Detail::CourierImap,
        ));
    }
    if !caps.iter().any(|cap| cap.eq_ignore_ascii_case("IMAP4rev1")) {
        return Err(connect_failure(
            ErrorClass::ImapValidationError,
            Detail::MissingCapability,
        ));
    }
    Ok(())
}

/// The outcome of a failed command, from async-imap's error.
fn command_failure(error: &async_imap::error::Error, refused: Detail) -> Outcome {
    use async_imap::error::Error;
    match error {
        Error::No(text) | Error::Bad(text) => {
            connect_failure(ErrorClass::ImapValidationError, refused)
                .with_response(None, reply_text(text))
        }
        Error::Io(io) => connect_failure(
            ErrorClass::ImapSettingsIncorrect,
            classify::net::io_detail(io),
        ),
        _ => connect_failure(ErrorClass::ImapValidationError, Detail::ConnectionLost),
    }
}

/// async-imap formats a NO/BAD as `code: Some(Alert), info: Some("text")`; this gives back
/// the server's text.
pub(crate) fn reply_text(error: &str) -> String {
    match error.split_once("info: Some(\"") {
        Some((_, rest)) => rest.trim_end_matches("\")").replace("\\\"", "\""),
        None => error.to_owned(),
    }
}

fn login_failure(class: ErrorClass, detail: Detail) -> Outcome {
    Outcome::failed(class, Step::ImapLogin, detail)
}

/// Logs in on a connected client.
async fn login(client: Client<TlsStream>, settings: &Settings) -> Result<ImapSession, Outcome> {
    use async_imap::error::Error;
    match client
        .login(settings.login(), settings.password.expose())
        .await
    {
        Ok(session) => Ok(session),
        Err((Error::No(text) | Error::Bad(text), _)) => {
            let (class, detail) = classify::imap::login_refusal(&text);
            Err(login_failure(class, detail).with_response(Some("NO".into()), reply_text(&text)))
        }
        Err((Error::Io(io), _)) => Err(io_after_connect(&io)),
        Err((Error::Validate(_), _)) => Err(login_failure(
            ErrorClass::Unauthorized,
            Detail::CredentialsNotSendable,
        )),
        Err(_) => Err(login_failure(
            ErrorClass::ImapAuthenticationError,
            Detail::ConnectionLost,
        )),
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

/// LIST's folders, taken one response at a time: async-imap gives each response a buffer of
/// its own (4 KiB at least), so collecting a hostile server's 1 MiB of tiny LIST lines
/// first held over 150 MB.
pub(crate) async fn folders<T>(
    session: &mut Session<T>,
) -> Result<Folders, async_imap::error::Error>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    let mut folders = Folders {
        sent: None,
        further: Vec::new(),
    };
    let mut names = session.list(Some(""), Some("*")).await?;
    while let Some(name) = names.try_next().await? {
        let selectable = !name
            .attributes()
            .iter()
            .any(|a| matches!(a, NameAttribute::NoSelect));
        if name.name().eq_ignore_ascii_case("INBOX") || !selectable {
            continue;
        }
        if folders.sent.is_none() && is_sent(name.name(), name.attributes()) {
            folders.sent = Some(name.name().to_owned());
        } else {
            folders.further.push(name.name().to_owned());
        }
    }
    Ok(folders)
}

/// Runs `imap-login`; on success returns the sessions the connector keeps open.
pub(super) async fn login_and_open(
    client: Client<TlsStream>,
    settings: &Settings,
    tls: &Arc<ClientConfig>,
) -> Result<Vec<ImapSession>, Outcome> {
    match timeout(settings.step_timeout, login_steps(client, settings, tls)).await {
        Ok(result) => result,
        Err(_elapsed) => Err(login_failure(
            ErrorClass::ImapAuthenticationError,
            Detail::Timeout,
        )),
    }
}

async fn login_steps(
    client: Client<TlsStream>,
    settings: &Settings,
    tls: &Arc<ClientConfig>,
) -> Result<Vec<ImapSession>, Outcome> {
    let mut session = login(client, settings).await?;
    // A Courier-IMAP server that hid its greeting still names itself in ID. A server
    // without ID says BAD, which is fine; a lost connection is not.
    match session.id([("name", Some("mailharness"))]).await {
        Ok(Some(id)) if classify::imap::is_courier_id(&id) => return Err(courier_after_login(&id)),
        Err(error) if is_connection_error(&error) => {
            return Err(failed_after_login(&session, &error, Detail::IdFailed));
        }
        _ => {}
    }
    check_bye(&session)?;
    if let Ok(caps) = session.capabilities().await {
        let names: Vec<String> = caps
            .iter()
            .map(|cap| match cap {
                async_imap::types::Capability::Imap4rev1 => "IMAP4rev1".to_owned(),
                async_imap::types::Capability::Auth(m) => format!("AUTH={m}"),
                async_imap::types::Capability::Atom(a) => a.clone(),
            })
            .collect();
        if classify::imap::is_courier_capabilities(&names) {
            return Err(login_failure(
                ErrorClass::ImapValidationError,
                Detail::CourierImap,
            ));
        }
    }
    check_bye(&session)?;
    let folders = folders(&mut session)
        .await
        .map_err(|e| failed_after_login(&session, &e, Detail::ListFailed))?;
    check_bye(&session)?;
    let selected = session.select("INBOX").await;
    selected.map_err(|e| failed_after_login(&session, &e, Detail::SelectFailed))?;
    check_bye(&session)?;

    // The sync sessions, all at once: Sent, and a third for the further folders.
    let mut wanted = vec![folders.sent.clone().unwrap_or_else(|| "INBOX".into())];
    if let Some(first) = folders.further.first() {
        wanted.push(first.clone());
    }
    let opened = futures::future::join_all(
        wanted
            .iter()
            .map(|mailbox| open_sync_session(settings, tls, mailbox)),
    )
    .await;
    let mut sessions = vec![session];
    let mut failure = None;
    for result in opened {
        match result {
            Ok(session) => sessions.push(session),
            Err(outcome) => failure = failure.or(Some(outcome)),
        }
    }
    match failure {
        Some(outcome) => {
            logout_all(sessions).await;
            Err(outcome)
        }
        None => Ok(sessions),
    }
}

fn is_connection_error(error: &async_imap::error::Error) -> bool {
    matches!(
        error,
        async_imap::error::Error::Io(_) | async_imap::error::Error::ConnectionLost
    )
}

/// A command after login failed. A connection dropped right after a successful login is
/// how some servers enforce limits: an authentication error. A refused command means the
/// server cannot serve the connector: a validation error.
fn session_failure(error: &async_imap::error::Error, refused: Detail) -> Outcome {
    use async_imap::error::Error;
    match error {
        Error::Io(io) => io_after_connect(io),
        Error::ConnectionLost => login_failure(
            ErrorClass::ImapAuthenticationError,
            Detail::ConnectionClosed,
        ),
        Error::No(text) | Error::Bad(text) => {
            login_failure(ErrorClass::ImapValidationError, refused)
                .with_response(None, reply_text(text))
        }
        _ => login_failure(ErrorClass::ImapValidationError, refused),
    }
}

/// A failed read or write at `imap-login`.
fn io_after_connect(error: &std::io::Error) -> Outcome {
    io_failure(error, Step::ImapLogin, ErrorClass::ImapAuthenticationError)
}

/// The text of an unsolicited `* BYE` the session has received, if any: the server ended
/// the session (an autologout, an expired token) whether or not it closed the connection.
fn bye(session: &ImapSession) -> Option<String> {
    while let Ok(response) = session.unsolicited_responses.try_recv() {
        if let async_imap::types::UnsolicitedResponse::Other(data) = response
            && let Response::Data {
                status: Status::Bye,
                outcome,
            } = data.parsed()
        {
            return Some(
                outcome
                    .information
                    .as_deref()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    None
}

/// Fails on a BYE received after login: the session is over. Like a connection dropped
/// after login, an authentication error.
fn check_bye(session: &ImapSession) -> Result<(), Outcome> {
    match bye(session) {
        Some(text) => Err(
            login_failure(ErrorClass::ImapAuthenticationError, Detail::ServerBye)
                .with_response(Some("BYE".into()), text),
        ),
        None => Ok(()),
    }
}

/// A command after login failed: a BYE before the failure says why, else `session_failure`.
fn failed_after_login(
    session: &ImapSession,
    error: &async_imap::error::Error,
    refused: Detail,
) -> Outcome {
    check_bye(session)
        .err()
        .unwrap_or_else(|| session_failure(error, refused))
}

fn courier_after_login(id: &HashMap<String, String>) -> Outcome {
    let text = id
        .iter()
        .map(|(k, v)| format!("\"{k}\" \"{v}\""))
        .collect::<Vec<_>>()
        .join(" ");
    login_failure(ErrorClass::ImapValidationError, Detail::CourierImap)
        .with_response(Some("ID".into()), format!("({text})"))
}

/// One more connection, logged in, with `mailbox` selected. Any failure counts as a login
/// failure: the server already accepted the same settings once.
async fn open_sync_session(
    settings: &Settings,
    tls: &Arc<ClientConfig>,
    mailbox: &str,
) -> Result<ImapSession, Outcome> {
    let client = connect_steps(settings, tls, &mut Progress::Connecting)
        .await
        .map_err(|mut outcome| {
            outcome.step = Some(Step::ImapLogin);
            outcome
        })?;
    let mut session = login(client, settings).await?;
    let selected = session.select(mailbox).await;
    selected.map_err(|e| failed_after_login(&session, &e, Detail::SelectFailed))?;
    check_bye(&session)?;
    Ok(session)
}

pub(super) async fn logout_all(sessions: Vec<ImapSession>) {
    futures::future::join_all(sessions.into_iter().map(|mut session| async move {
        let _ = session.logout().await;
    }))
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_text_unwraps_async_imap_errors() {
        assert_eq!(
            reply_text(
                r#"code: Some(Alert), info: Some("Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)")"#
            ),
            "Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)"
        );
        assert_eq!(reply_text("plain"), "plain");
    }

    #[test]
    fn sent_folders_by_attribute_or_well_known_name() {
        assert!(is_sent("Gesendet", &[NameAttribute::Sent]));
        assert!(is_sent("[Gmail]/Sent Mail", &[]));
        assert!(is_sent("INBOX.Sent", &[]));
        assert!(!is_sent("Archive", &[]));
    }
}
