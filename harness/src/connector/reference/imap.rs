//! The reference connector's IMAP steps, sequenced over the client layer (`probe::imap`)
//! on tokio-rustls.
//!
//! `imap-connect`: TCP (from the configured source address), TLS (implicit, or STARTTLS
//! after checking the capability), the greeting (Courier-IMAP is refused here when it names
//! itself) and the pre-login capabilities (Courier's fingerprint, STARTTLS).
//!
//! `imap-login`: LOGIN, then ID and the post-login capabilities (Courier again), LIST, and
//! the sessions the connector keeps for syncing, opened at the same time: INBOX, Sent, and a
//! third when LIST shows further folders.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::oauth::TokenCache;
use crate::classify;
use crate::connector::{ConnectionSecurity, OAuthSettings, Settings};
use crate::outcome::{Detail, ErrorClass, Outcome, Step};
use crate::probe::bearer::{self, BearerMechanism};
use crate::probe::bounded::{Bounded, Limits};
use crate::probe::imap::{Failed, Imap, io_failure, login_result};
use crate::probe::legacy;
use crate::probe::net::{tcp_connect, tls_failure};

type TlsStream = Bounded<tokio_rustls::client::TlsStream<TcpStream>>;
pub(super) type ImapSession = Imap<TlsStream>;

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
) -> Result<ImapSession, Outcome> {
    let mut progress = Progress::Connecting;
    match timeout(
        settings.step_timeout,
        connect_steps(settings, tls, &mut progress),
    )
    .await
    {
        Ok(Err(outcome)) if matches!(progress, Progress::Handshake) => {
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
    let legacy = connect_failure(ErrorClass::ImapValidationError, Detail::TlsVersion);
    legacy::diagnose_dropped(outcome, settings, legacy::Protocol::Imap, legacy).await
}

async fn connect_steps(
    settings: &Settings,
    tls: &Arc<ClientConfig>,
    progress: &mut Progress,
) -> Result<ImapSession, Outcome> {
    let endpoint = &settings.imap;
    let tcp = tcp_connect(&endpoint.host, endpoint.port, settings.source_address)
        .await
        .map_err(|(class, detail)| connect_failure(class, detail))?;
    match endpoint.security {
        ConnectionSecurity::ImplicitTls => {
            *progress = Progress::Handshake;
            let stream = handshake(tcp, &endpoint.host, tls, settings.limits).await?;
            *progress = Progress::Greeting;
            let mut imap = Imap::new(stream);
            greeting(&mut imap).await?;
            *progress = Progress::Capabilities;
            let caps = imap.capabilities().await?;
            check_capabilities(&caps)?;
            check_login_possible(&caps)?;
            Ok(imap)
        }
        ConnectionSecurity::Starttls => {
            *progress = Progress::Greeting;
            let mut imap = Imap::new(Bounded::new(tcp, settings.limits));
            greeting(&mut imap).await?;
            // Logged in before TLS could start: STARTTLS is no longer possible, and going on
            // would sync in the clear (RFC 9051 §7.1.4; Thunderbird's CVE-2020-12398). As a
            // stripped STARTTLS is read.
            if imap.preauthenticated() {
                return Err(connect_failure(
                    ErrorClass::ImapValidationError,
                    Detail::TlsRequired,
                ));
            }
            *progress = Progress::Capabilities;
            let caps = imap.capabilities().await?;
            check_capabilities(&caps)?;
            if !caps.iter().any(|cap| cap.eq_ignore_ascii_case("STARTTLS")) {
                return Err(connect_failure(
                    ErrorClass::ImapValidationError,
                    Detail::TlsRequired,
                ));
            }
            *progress = Progress::Starttls;
            imap.starttls().await?;
            *progress = Progress::Handshake;
            let tcp = imap.into_inner().into_inner();
            let stream = handshake(tcp, &endpoint.host, tls, settings.limits).await?;
            *progress = Progress::Capabilities;
            let mut imap = Imap::new(stream);
            let caps = imap.capabilities().await?;
            check_capabilities(&caps)?;
            check_login_possible(&caps)?;
            Ok(imap)
        }
    }
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

/// Reads the greeting: refuses no greeting, a non-IMAP one, BYE and Courier-IMAP.
async fn greeting(imap: &mut Imap<impl crate::probe::imap::Stream>) -> Result<(), Outcome> {
    let text = imap.greeting().await?;
    if classify::imap::is_courier_greeting(&text) {
        return Err(
            connect_failure(ErrorClass::ImapValidationError, Detail::CourierImap)
                .with_response(Some("OK".into()), text),
        );
    }
    Ok(())
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

/// Over TLS, a server must offer a way to log in: LOGIN, or AUTHENTICATE PLAIN when it
/// disables LOGIN.
fn check_login_possible(caps: &[String]) -> Result<(), Outcome> {
    let has = |name: &str| caps.iter().any(|cap| cap.eq_ignore_ascii_case(name));
    if has("LOGINDISABLED") && !has("AUTH=PLAIN") {
        return Err(connect_failure(
            ErrorClass::ImapValidationError,
            Detail::MissingCapability,
        ));
    }
    Ok(())
}

fn login_failure(class: ErrorClass, detail: Detail) -> Outcome {
    Outcome::failed(class, Step::ImapLogin, detail)
}

/// Logs in on a connected client, unless the server's `* PREAUTH` greeting (over TLS) did:
/// with the password as `probe::imap::Imap::log_in` says, or for an OAuth account with its
/// bearer token (see `login_bearer`).
async fn login(
    mut imap: ImapSession,
    settings: &Settings,
    tokens: Option<&TokenCache>,
) -> Result<ImapSession, Outcome> {
    match (&settings.oauth, tokens) {
        _ if imap.preauthenticated() => {}
        (Some(oauth), Some(tokens)) => login_bearer(&mut imap, settings, oauth, tokens).await?,
        _ => {
            imap.log_in(settings.login(), settings.password.expose())
                .await?;
        }
    }
    Ok(imap)
}

/// AUTHENTICATE with the account's access token: XOAUTH2 or OAUTHBEARER, as the server
/// offers (see `probe::bearer`). A token held from before that is refused is refreshed
/// once; a fresh token that is refused is `unauthorized`, with `insufficient-scope` when the
/// server's error challenge names a scope the token lacks, else `token-rejected`, unless
/// the refusal's response code says more (`[UNAVAILABLE]`, `[LIMIT]`, …).
async fn login_bearer(
    imap: &mut ImapSession,
    settings: &Settings,
    oauth: &OAuthSettings,
    tokens: &TokenCache,
) -> Result<(), Outcome> {
    let offered: Vec<&str> = ["XOAUTH2", "OAUTHBEARER"]
        .into_iter()
        .filter(|mechanism| imap.advertised(&format!("AUTH={mechanism}")))
        .collect();
    let Some(mechanism) = BearerMechanism::choose(offered) else {
        return Err(login_failure(
            ErrorClass::ImapValidationError,
            Detail::MissingCapability,
        ));
    };
    let mut token = tokens.get(settings, oauth).await?;
    loop {
        let payload = mechanism.payload(
            settings.login(),
            token.token.expose(),
            &settings.imap.host,
            settings.imap.port,
        );
        match imap.authenticate_bearer(mechanism, payload).await {
            Ok(()) => return Ok(()),
            Err((Failed::Refused(_), _)) if !token.fresh => {
                token = tokens.refresh(settings, oauth, &token).await?;
            }
            Err((Failed::Refused(refusal), challenge)) => {
                let (class, detail) = match classify::imap::login_refusal(&refusal.text) {
                    (_, Detail::WrongCredentials | Detail::Unspecified) => (
                        ErrorClass::Unauthorized,
                        bearer::refusal_detail(challenge.as_deref(), token.scopes.as_deref()),
                    ),
                    other => other,
                };
                return Err(login_failure(class, detail)
                    .with_response(Some(refusal.status.into()), refusal.text));
            }
            Err((failed, _)) => {
                return login_result(Err(failed)).map_err(|failure| failure.outcome);
            }
        }
    }
}

/// Runs `imap-login`; on success returns the sessions the connector keeps open.
pub(super) async fn login_and_open(
    client: ImapSession,
    settings: &Settings,
    tls: &Arc<ClientConfig>,
    tokens: Option<&TokenCache>,
) -> Result<Vec<ImapSession>, Outcome> {
    match timeout(
        settings.step_timeout,
        login_steps(client, settings, tls, tokens),
    )
    .await
    {
        Ok(result) => result,
        Err(_elapsed) => Err(login_failure(
            ErrorClass::ImapAuthenticationError,
            Detail::Timeout,
        )),
    }
}

async fn login_steps(
    client: ImapSession,
    settings: &Settings,
    tls: &Arc<ClientConfig>,
    tokens: Option<&TokenCache>,
) -> Result<Vec<ImapSession>, Outcome> {
    let mut session = login(client, settings, tokens).await?;
    // A Courier-IMAP server that hid its greeting still names itself in ID. A server
    // without ID says BAD, which is fine; a lost connection is not.
    match session.id().await {
        Ok(Some(id)) if classify::imap::is_courier_id(&id) => return Err(courier_after_login(&id)),
        Err(failed @ (Failed::Io(_) | Failed::Closed | Failed::Bye(_))) => {
            return Err(session_failure(failed, Detail::IdFailed));
        }
        _ => {}
    }
    match session.capabilities_after_login().await {
        Ok(names) if classify::imap::is_courier_capabilities(&names) => {
            return Err(login_failure(
                ErrorClass::ImapValidationError,
                Detail::CourierImap,
            ));
        }
        Err(failed @ Failed::Bye(_)) => return Err(session_failure(failed, Detail::IdFailed)),
        // A refusal whose response code gives a reason (Yahoo's `NO [LIMIT] CAPABILITY Rate
        // limit hit.`) ends the login; one without, from a server that has no CAPABILITY
        // after login, does not.
        Err(Failed::Refused(refusal))
            if classify::imap::response_code(&refusal.text).is_some_and(|code| {
                classify::imap::code_refusal(&code, &refusal.text).is_some()
            }) =>
        {
            return Err(session_failure(
                Failed::Refused(refusal),
                Detail::Unspecified,
            ));
        }
        _ => {}
    }
    let folders = session
        .folders()
        .await
        .map_err(|failed| session_failure(failed, Detail::ListFailed))?;
    session
        .select("INBOX")
        .await
        .map_err(|failed| session_failure(failed, Detail::SelectFailed))?;

    // The sync sessions, all at once: Sent, and a third for the further folders.
    let mut wanted = vec![folders.sent.clone().unwrap_or_else(|| "INBOX".into())];
    if let Some(first) = folders.further.first() {
        wanted.push(first.clone());
    }
    let opened = futures::future::join_all(
        wanted
            .iter()
            .map(|mailbox| open_sync_session(settings, tls, mailbox, tokens)),
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

/// A command after login failed. A `* BYE` ends the session (an autologout, an expired
/// token), and a connection dropped right after a successful login is how some servers
/// enforce limits: both an authentication error. A refused command is the login failing
/// for another reason (SPEC §6), unless its response code says more
/// (`classify::imap::session_refusal`).
fn session_failure(failed: Failed, refused: Detail) -> Outcome {
    match failed {
        Failed::Bye(text) => login_failure(ErrorClass::ImapAuthenticationError, Detail::ServerBye)
            .with_response(Some("BYE".into()), text),
        Failed::Io(error) => {
            io_failure(&error, Step::ImapLogin, ErrorClass::ImapAuthenticationError)
        }
        Failed::Closed => login_failure(
            ErrorClass::ImapAuthenticationError,
            Detail::ConnectionClosed,
        ),
        Failed::Refused(refusal) => {
            let (class, detail) = classify::imap::session_refusal(&refusal.text, refused);
            login_failure(class, detail).with_response(Some(refusal.status.into()), refusal.text)
        }
        Failed::Unsendable => login_failure(ErrorClass::ImapValidationError, refused),
    }
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
    tokens: Option<&TokenCache>,
) -> Result<ImapSession, Outcome> {
    let client = connect_steps(settings, tls, &mut Progress::Connecting)
        .await
        .map_err(|mut outcome| {
            outcome.step = Some(Step::ImapLogin);
            outcome
        })?;
    let mut session = login(client, settings, tokens)
        .await
        .map_err(limit_in_context)?;
    session
        .select(mailbox)
        .await
        .map_err(|failed| session_failure(failed, Detail::SelectFailed))?;
    Ok(session)
}

/// A sync session's login refused right after the first session logged in with the same
/// credentials, without a response code to say why (Exchange's `NO Server Unavailable. 15`
/// on the third session): that context makes it the per-user connection limit.
fn limit_in_context(mut outcome: Outcome) -> Outcome {
    let uncoded = outcome
        .response
        .as_ref()
        .is_some_and(|r| classify::imap::response_code(&r.text).is_none());
    let vague =
        outcome.detail == Detail::Unspecified || outcome.detail == Detail::TemporarilyUnavailable;
    if uncoded && vague {
        outcome.class = ErrorClass::ImapAuthenticationError;
        outcome.detail = Some(Detail::TooManyConnections.into());
    }
    outcome
}

pub(super) async fn logout_all(sessions: Vec<ImapSession>) {
    futures::future::join_all(sessions.into_iter().map(|mut session| async move {
        session.logout().await;
    }))
    .await;
}
