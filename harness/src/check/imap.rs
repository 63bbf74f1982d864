//! Requirements 1–8: the IMAP port. Reachability and the plaintext greeting, encryption,
//! TLS versions and certificate (see `tls`), then real sessions — over OpenSSL at any TLS
//! version the server speaks, so that a legacy-only server is still checked past its TLS —
//! for Courier-IMAP detection, login, five simultaneous sessions and LIST.

use std::time::Duration;

use async_imap::Client;
use async_imap::imap_proto::{Response, Status};
use openssl::ssl::SslVersion;
use tokio::net::TcpStream;

use crate::connector::reference::bounded::{Bounded, Limits};
use tokio::time::timeout;
use tokio_openssl::SslStream;

use super::report::{Row, Rows};
use super::requirement::Requirement;
use super::tls::{self, Probe};
use super::{CheckConfig, Target};
use crate::classify;
use crate::connector::ConnectionSecurity;
use crate::connector::reference::imap::{capabilities, folders, reply_text};
use crate::connector::reference::legacy_probe::{self, Protocol};
use crate::outcome::{Detail, ErrorClass, Outcome};

type Session = async_imap::Session<Bounded<SslStream<TcpStream>>>;

/// The vendor's maximum of simultaneous connections per inbox (its technical requirements:
/// two permanent sessions, a third for further folders, two while sending).
pub const SESSIONS_WANTED: usize = 5;

/// A requirement that failed, before it is turned into a row.
struct Failure {
    class: ErrorClass,
    detail: String,
    evidence: String,
}

impl Failure {
    fn new(class: ErrorClass, detail: impl AsRef<str>, evidence: impl Into<String>) -> Failure {
        Failure {
            class,
            detail: detail.as_ref().to_owned(),
            evidence: evidence.into(),
        }
    }

    fn from_outcome(outcome: &Outcome, what: &str) -> Failure {
        let said = outcome
            .response
            .as_ref()
            .map(|r| format!(": {}", r.text))
            .unwrap_or_default();
        Failure::new(
            outcome.class,
            outcome.detail.as_deref().unwrap_or("failed"),
            format!(
                "{what}: {}{said}",
                outcome.detail.as_deref().unwrap_or("failed")
            ),
        )
    }

    fn row(self, requirement: Requirement) -> Row {
        Row::fail(requirement, self.class, &self.detail, self.evidence)
    }
}

/// The IMAP rows, 1 to 8, in order.
pub async fn check(config: &CheckConfig, trust: &tls::Trust) -> Vec<Row> {
    let mut rows = Rows::new(Requirement::imap().iter().copied());
    let target = &config.imap;
    let limit = config.step_timeout;
    // 1. Reachable.
    let (tcp, connected) = match super::reach(
        target,
        limit,
        Requirement::ImapReachable,
        ErrorClass::ImapSettingsIncorrect,
    )
    .await
    {
        Ok(reached) => reached,
        Err(row) => {
            return rows.stop(row, "not checked: the IMAP port is not reachable");
        }
    };

    // 2. Encryption. On a STARTTLS port the plaintext greeting and capabilities say it.
    let plaintext = match target.security {
        ConnectionSecurity::Starttls => {
            match timeout(limit, plaintext_phase(tcp, config.limits)).await {
                Ok(Ok(seen)) => Some(seen),
                Ok(Err(failure)) => {
                    rows.push(Row::pass(Requirement::ImapReachable, connected));
                    return rows.stop(
                        failure.row(Requirement::ImapEncryption),
                        "not checked: no encrypted IMAP connection",
                    );
                }
                Err(_) => {
                    rows.push(Row::pass(Requirement::ImapReachable, connected));
                    return rows.stop(
                        Row::fail(
                            Requirement::ImapEncryption,
                            ErrorClass::ImapValidationError,
                            Detail::NoGreeting,
                            format!(
                                "no greeting or no answer to CAPABILITY/STARTTLS within {limit:?}"
                            ),
                        ),
                        "not checked: no encrypted IMAP connection",
                    );
                }
            }
        }
        ConnectionSecurity::ImplicitTls => {
            drop(tcp);
            None
        }
    };
    let reachable = match &plaintext {
        Some(seen) => format!("{connected}\ngreeting: * OK {}", seen.greeting),
        None => connected,
    };
    rows.push(Row::pass(Requirement::ImapReachable, reachable));

    let probes = tls::probe_versions(target, Protocol::Imap, limit).await;
    match encryption_row(target, plaintext.as_ref(), &probes, limit).await {
        Ok(row) => rows.push(row),
        Err(failure) => {
            return rows.stop(
                failure.row(Requirement::ImapEncryption),
                "not checked: no encrypted IMAP connection",
            );
        }
    }

    // 3. Versions, 4. certificate.
    rows.push(tls::versions_row(
        Requirement::ImapTlsVersions,
        ErrorClass::ImapValidationError,
        &probes,
        config.connector_tls,
    ));
    let Some(chain) = tls::chain(&probes) else {
        return rows.skip("not checked: no TLS handshake completed");
    };
    rows.push(tls::certificate_row(
        Requirement::ImapCertificate,
        chain,
        &target.host,
        trust,
        config.allow_insecure_certificate,
    ));

    // 5–8 on real sessions.
    rows.extend(session_rows(config, plaintext.as_ref()).await);
    rows.done()
}

/// What a STARTTLS port says before TLS.
struct Plaintext {
    greeting: String,
    capabilities: Vec<String>,
}

/// Greeting, CAPABILITY and STARTTLS on a plaintext connection.
async fn plaintext_phase(tcp: TcpStream, limits: Limits) -> Result<Plaintext, Failure> {
    let mut client = Client::new(Bounded::new(tcp, limits));
    let greeting = read_greeting(&mut client).await?;
    let caps = capabilities(&mut client)
        .await
        .map_err(|outcome| Failure::from_outcome(&outcome, "CAPABILITY"))?;
    if !caps.iter().any(|cap| cap.eq_ignore_ascii_case("STARTTLS")) {
        return Err(Failure::new(
            ErrorClass::ImapValidationError,
            Detail::TlsRequired,
            format!(
                "STARTTLS is not offered: CAPABILITY {}\nthe port offers plaintext only",
                caps.join(" ")
            ),
        ));
    }
    if let Err(error) = client.run_command_and_check_ok("STARTTLS", None).await {
        return Err(Failure::new(
            ErrorClass::ImapValidationError,
            Detail::StarttlsRefused,
            format!("STARTTLS refused: {}", reply_text(&error.to_string())),
        ));
    }
    Ok(Plaintext {
        greeting,
        capabilities: caps,
    })
}

/// Reads the greeting and returns its text; BYE and non-IMAP greetings are failures.
async fn read_greeting<T>(client: &mut Client<T>) -> Result<String, Failure>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    let response = client
        .read_response()
        .await
        .map_err(|error| {
            Failure::new(
                ErrorClass::ImapValidationError,
                Detail::NotImap,
                format!("no IMAP greeting: {error}"),
            )
        })?
        .ok_or_else(|| {
            Failure::new(
                ErrorClass::ImapSettingsIncorrect,
                Detail::ConnectionClosed,
                "the server closed the connection before its greeting",
            )
        })?;
    match response.parsed() {
        Response::Data {
            status: Status::Ok | Status::PreAuth,
            outcome,
        } => Ok(outcome
            .information
            .as_deref()
            .unwrap_or_default()
            .to_owned()),
        Response::Data {
            status: Status::Bye,
            outcome,
        } => Err(Failure::new(
            ErrorClass::ImapValidationError,
            Detail::ServerRefused,
            format!(
                "greeting: * BYE {}",
                outcome.information.as_deref().unwrap_or_default()
            ),
        )),
        _ => Err(Failure::new(
            ErrorClass::ImapValidationError,
            Detail::NotImap,
            "the greeting is not an IMAP greeting",
        )),
    }
}

/// Row 2 once the versions are probed: on an implicit-TLS port, encryption is offered when
/// any version completes a handshake; if none does, a plaintext greeting says why.
async fn encryption_row(
    target: &Target,
    plaintext: Option<&Plaintext>,
    probes: &[(mailharness_mock_servers::TlsVersion, Probe)],
    limit: Duration,
) -> Result<Row, Failure> {
    let accepted = tls::accepted(probes);
    if let Some(seen) = plaintext {
        return Ok(Row::pass(
            Requirement::ImapEncryption,
            format!(
                "STARTTLS offered and accepted\nCAPABILITY {}",
                seen.capabilities.join(" ")
            ),
        ));
    }
    if !accepted.is_empty() {
        return Ok(Row::pass(
            Requirement::ImapEncryption,
            "implicit TLS: the port speaks TLS from the first byte",
        ));
    }
    if let Some(line) = super::first_line(target, limit).await {
        return Err(Failure::new(
            ErrorClass::ImapValidationError,
            Detail::TlsRequired,
            format!("the implicit-TLS port answers in plaintext: {line}"),
        ));
    }
    Err(Failure::new(
        ErrorClass::ImapValidationError,
        Detail::TlsHandshakeFailed,
        format!("no TLS handshake completed\n{}", tls::refusals(probes)),
    ))
}

/// A logged-in session, or why not.
struct Opened {
    client: Client<Bounded<SslStream<TcpStream>>>,
    /// The greeting, on an implicit-TLS port (a STARTTLS port greets in plaintext).
    greeting: Option<String>,
    capabilities: Vec<String>,
}

/// One encrypted connection, greeted and asked for its capabilities.
async fn open(target: &Target, limits: Limits) -> Result<Opened, Failure> {
    let stream = legacy_probe::handshake(
        &target.host,
        target.port,
        target.security,
        Protocol::Imap,
        None,
        SslVersion::TLS1,
        SslVersion::TLS1_3,
    )
    .await
    .map_err(|why| {
        Failure::new(
            ErrorClass::ImapSettingsIncorrect,
            Detail::ConnectionFailed,
            format!("cannot open an IMAP session: {why}"),
        )
    })?;
    let mut client = Client::new(Bounded::new(stream, limits));
    let greeting = match target.security {
        ConnectionSecurity::ImplicitTls => Some(read_greeting(&mut client).await?),
        ConnectionSecurity::Starttls => None,
    };
    let capabilities = capabilities(&mut client)
        .await
        .map_err(|outcome| Failure::from_outcome(&outcome, "CAPABILITY"))?;
    Ok(Opened {
        client,
        greeting,
        capabilities,
    })
}

/// LOGIN, classified as a connector would classify a refusal.
async fn login(opened: Opened, config: &CheckConfig) -> Result<Session, Failure> {
    use async_imap::error::Error;
    match opened
        .client
        .login(config.login(), config.password.expose())
        .await
    {
        Ok(session) => Ok(session),
        Err((Error::No(text) | Error::Bad(text), _)) => {
            let (class, detail) = classify::imap::login_refusal(&text);
            Err(Failure::new(
                class,
                detail,
                format!("LOGIN: NO {}", reply_text(&text)),
            ))
        }
        Err((error, _)) => Err(Failure::new(
            ErrorClass::ImapAuthenticationError,
            Detail::ConnectionLost,
            format!("LOGIN: {error}"),
        )),
    }
}

/// Rows 5–8.
async fn session_rows(config: &CheckConfig, plaintext: Option<&Plaintext>) -> Vec<Row> {
    let limit = config.step_timeout;
    let sessions = Requirement::ImapServerSoftware..=Requirement::ImapFolders;
    let mut rows = Rows::new(
        Requirement::imap()
            .iter()
            .copied()
            .filter(|r| sessions.contains(r)),
    );
    let opened = match timeout(limit, open(&config.imap, config.limits)).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(failure)) => {
            return rows.stop(
                failure.row(Requirement::ImapServerSoftware),
                "not checked: no IMAP session could be opened",
            );
        }
        Err(_) => {
            return rows.stop(
                Row::fail(
                    Requirement::ImapServerSoftware,
                    ErrorClass::ImapValidationError,
                    Detail::NoGreeting,
                    format!("no IMAP greeting within {limit:?}"),
                ),
                "not checked: no IMAP session could be opened",
            );
        }
    };
    let greeting = opened
        .greeting
        .clone()
        .or_else(|| plaintext.map(|p| p.greeting.clone()))
        .unwrap_or_default();
    let mut caps = opened.capabilities.clone();
    if let Some(plain) = plaintext {
        caps.extend(plain.capabilities.iter().cloned());
    }
    let mut software = vec![format!("greeting: * OK {greeting}")];
    let courier_before_login = if classify::imap::is_courier_greeting(&greeting) {
        Some("the greeting names Courier-IMAP")
    } else if classify::imap::is_courier_capabilities(&caps) {
        Some("the capabilities are Courier-IMAP's (ACL2=UNION)")
    } else {
        None
    };

    // 6. Login.
    let login_result = timeout(limit, login(opened, config))
        .await
        .unwrap_or_else(|_| {
            Err(Failure::new(
                ErrorClass::ImapAuthenticationError,
                Detail::Timeout,
                format!("no answer to LOGIN within {limit:?}"),
            ))
        });
    let mut session = match login_result {
        Ok(session) => session,
        Err(failure) => {
            rows.push(software_row(software, courier_before_login));
            return rows.stop(
                failure.row(Requirement::ImapLogin),
                "not checked: the login failed",
            );
        }
    };
    let mut courier = courier_before_login;
    let id = timeout(limit, session.id([("name", Some("mailharness"))])).await;
    match id {
        Ok(Ok(Some(fields))) => {
            let mut pairs: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            pairs.sort();
            software.push(format!("ID: {}", pairs.join(", ")));
            if courier.is_none() && classify::imap::is_courier_id(&fields) {
                courier = Some("ID names Courier-IMAP");
            }
        }
        Ok(Ok(None)) => software.push("ID: NIL".to_owned()),
        Ok(Err(error)) => software.push(format!(
            "ID: not supported ({})",
            reply_text(&error.to_string())
        )),
        Err(_) => software.push("ID: no answer".to_owned()),
    }
    rows.push(software_row(software, courier));
    rows.push(Row::pass(
        Requirement::ImapLogin,
        format!("LOGIN as {} accepted", config.login()),
    ));

    // 8's data first (LIST on the first session), then 7 with this session held open.
    let listed = timeout(limit, folders(&mut session)).await;
    let (allowed, sessions_row, extra) = simultaneous(config, session).await;
    rows.push(sessions_row);
    rows.push(folders_row(listed, allowed, limit));
    close_all(extra).await;
    rows.done()
}

fn software_row(evidence: Vec<String>, courier: Option<&str>) -> Row {
    match courier {
        Some(why) => Row::fail(
            Requirement::ImapServerSoftware,
            ErrorClass::ImapValidationError,
            Detail::CourierImap,
            format!(
                "{}\n{why}: Courier-IMAP is not supported",
                evidence.join("\n")
            ),
        ),
        None => Row::pass(Requirement::ImapServerSoftware, evidence.join("\n")),
    }
}

/// Row 7: the first session stays open while four more log in at the same time. Returns
/// how many were authenticated at once, the row, and the sessions to close.
async fn simultaneous(config: &CheckConfig, first: Session) -> (usize, Row, Vec<Session>) {
    let limit = config.step_timeout;
    let attempts = (1..SESSIONS_WANTED).map(|_| async {
        match timeout(limit, async {
            login(open(&config.imap, config.limits).await?, config).await
        })
        .await
        {
            Ok(result) => result,
            Err(_) => Err(Failure::new(
                ErrorClass::ImapAuthenticationError,
                Detail::Timeout,
                format!("no session within {limit:?}"),
            )),
        }
    });
    let results = futures::future::join_all(attempts).await;
    let mut sessions = vec![first];
    let mut refusals = Vec::new();
    for result in results {
        match result {
            Ok(session) => sessions.push(session),
            Err(failure) => refusals.push(failure),
        }
    }
    let allowed = sessions.len();
    let row = match refusals.into_iter().next() {
        None => Row::pass(
            Requirement::ImapSessions,
            format!("{allowed} of {SESSIONS_WANTED} sessions authenticated at once"),
        ),
        Some(first_refusal) => {
            let class = match first_refusal.class {
                ErrorClass::ImapSettingsIncorrect | ErrorClass::ImapValidationError => {
                    ErrorClass::ImapAuthenticationError
                }
                other => other,
            };
            Row::fail(
                Requirement::ImapSessions,
                class,
                Detail::TooManyConnections,
                format!(
                    "{allowed} of {SESSIONS_WANTED} sessions authenticated at once; the next \
                     was refused\n{}",
                    first_refusal.evidence
                ),
            )
        }
    };
    (allowed, row, sessions)
}

/// Row 8: what LIST shows, and whether the sessions the connector keeps fit in what the
/// server allowed.
fn folders_row(
    listed: Result<
        Result<crate::connector::reference::imap::Folders, async_imap::error::Error>,
        tokio::time::error::Elapsed,
    >,
    allowed: usize,
    limit: Duration,
) -> Row {
    let folders = match listed {
        Ok(Ok(folders)) => folders,
        Ok(Err(error)) => {
            return Row::fail(
                Requirement::ImapFolders,
                ErrorClass::ImapValidationError,
                Detail::ListFailed,
                format!("LIST refused: {}", reply_text(&error.to_string())),
            );
        }
        Err(_) => {
            return Row::fail(
                Requirement::ImapFolders,
                ErrorClass::ImapAuthenticationError,
                Detail::Timeout,
                format!("no answer to LIST within {limit:?}"),
            );
        }
    };
    let permanent = if folders.further.is_empty() { 2 } else { 3 };
    let sent = match &folders.sent {
        Some(sent) => format!("Sent folder: {sent}"),
        None => "no Sent folder found: the connector syncs INBOX only".to_owned(),
    };
    let further = if folders.further.is_empty() {
        "no further folders: two permanent connections (INBOX, Sent)".to_owned()
    } else {
        format!(
            "{} further folder(s) ({}): a third permanent connection will be needed",
            folders.further.len(),
            folders.further.join(", ")
        )
    };
    let evidence = format!("{sent}\n{further}");
    if allowed < permanent {
        Row::fail(
            Requirement::ImapFolders,
            ErrorClass::ImapAuthenticationError,
            Detail::TooManyConnections,
            format!("{evidence}\nbut the server allowed only {allowed} simultaneous session(s)"),
        )
    } else {
        Row::pass(Requirement::ImapFolders, evidence)
    }
}

/// Logs every session out, each given two seconds.
async fn close_all(sessions: Vec<Session>) {
    futures::future::join_all(sessions.into_iter().map(|mut session| async move {
        let _ = timeout(Duration::from_secs(2), session.logout()).await;
    }))
    .await;
}
