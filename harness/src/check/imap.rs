//! The IMAP port's requirements (`Requirement::imap()`). Reachability and the plaintext greeting, encryption,
//! TLS versions and certificate (see `tls`), then real sessions — over OpenSSL at any TLS
//! version the server speaks, so that a legacy-only server is still checked past its TLS —
//! for Courier-IMAP detection, login, five simultaneous sessions and LIST.

use std::time::Duration;

use mailharness_mock_servers::TlsVersion;
use openssl::ssl::SslVersion;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_openssl::SslStream;

use super::CheckConfig;
use super::report::{Row, Rows, Stop};
use super::requirement::Requirement;
use super::tls::{self, Probe};
use crate::classify;
use crate::connector::{ConnectionSecurity, Endpoint};
use crate::outcome::{Detail, ErrorClass, Outcome, Step};
use crate::probe::Failure;
use crate::probe::bounded::{Bounded, Limits};
use crate::probe::imap::{Failed, Folders, Imap, PasswordLogin};
use crate::probe::legacy::{self, Protocol};

type Session = Imap<Bounded<SslStream<TcpStream>>>;

/// The vendor's maximum of simultaneous connections per inbox (its technical requirements:
/// two permanent sessions, a third for further folders, two while sending).
pub const SESSIONS_WANTED: usize = 5;

/// The IMAP port's rows, in order.
pub async fn check(config: &CheckConfig, trust: &tls::Trust) -> Vec<Row> {
    let mut rows = Rows::new(Requirement::imap().iter().copied());
    let result = async {
        let plaintext = reachable(config, &mut rows).await?;
        let probes = encryption(config, plaintext.as_ref(), &mut rows).await?;
        rows.push(tls::versions_row(
            Requirement::ImapTlsVersions,
            ErrorClass::ImapValidationError,
            &probes,
            config.connector_tls,
        ));
        rows.push(tls::certificate_of(
            Requirement::ImapCertificate,
            &probes,
            &config.account.imap,
            trust,
            config.account.allow_insecure_certificate,
        ));
        // Server software, login, sessions and folders on real sessions.
        rows.extend(session_rows(config, plaintext.as_ref()).await);
        Ok(())
    }
    .await;
    rows.finish(result)
}

const NOT_ENCRYPTED: &str = "not checked: no encrypted IMAP connection";

/// `ImapReachable`: a TCP connection; on a STARTTLS port also the plaintext greeting,
/// CAPABILITY and STARTTLS, whose failure fails `ImapEncryption`. Returns what the plaintext phase saw.
async fn reachable(config: &CheckConfig, rows: &mut Rows) -> Result<Option<Plaintext>, Stop> {
    let target = &config.account.imap;
    let limit = config.account.step_timeout;
    let (tcp, connected) = super::reach(
        target,
        limit,
        Requirement::ImapReachable,
        ErrorClass::ImapSettingsIncorrect,
    )
    .await
    .map_err(|row| Stop::new(row, "not checked: the IMAP port is not reachable"))?;
    if target.security == ConnectionSecurity::ImplicitTls {
        rows.push(Row::pass(Requirement::ImapReachable, connected));
        return Ok(None);
    }
    let failed = match timeout(limit, plaintext_phase(tcp, config.account.limits)).await {
        Ok(Ok(seen)) => {
            rows.push(Row::pass(
                Requirement::ImapReachable,
                format!("{connected}\ngreeting: * OK {}", seen.greeting),
            ));
            return Ok(Some(seen));
        }
        Ok(Err(row)) => row,
        Err(_) => Row::fail(
            Requirement::ImapEncryption,
            ErrorClass::ImapValidationError,
            Detail::NoGreeting,
            format!("no greeting or no answer to CAPABILITY/STARTTLS within {limit:?}"),
        ),
    };
    rows.push(Row::pass(Requirement::ImapReachable, connected));
    Err(Stop::new(failed, NOT_ENCRYPTED))
}

/// `ImapEncryption` once the versions are probed: on a STARTTLS port the plaintext phase said it; on
/// an implicit-TLS port, encryption is offered when any version completes a handshake, and
/// if none does, a plaintext greeting says why. Returns the handshake at each version, for
/// the versions and certificate rows.
async fn encryption(
    config: &CheckConfig,
    plaintext: Option<&Plaintext>,
    rows: &mut Rows,
) -> Result<Vec<(TlsVersion, Probe)>, Stop> {
    let target = &config.account.imap;
    let limit = config.account.step_timeout;
    let probes = tls::probe_versions(target, Protocol::Imap, limit).await;
    let row = if let Some(seen) = plaintext {
        Row::pass(
            Requirement::ImapEncryption,
            format!(
                "STARTTLS offered and accepted\nCAPABILITY {}",
                seen.capabilities.join(" ")
            ),
        )
    } else if !tls::accepted(&probes).is_empty() {
        Row::pass(
            Requirement::ImapEncryption,
            "implicit TLS: the port speaks TLS from the first byte",
        )
    } else {
        let row = match super::first_line(target, limit).await {
            Some(line) => Row::fail(
                Requirement::ImapEncryption,
                ErrorClass::ImapValidationError,
                Detail::TlsRequired,
                format!("the implicit-TLS port answers in plaintext: {line}"),
            ),
            None => Row::fail(
                Requirement::ImapEncryption,
                ErrorClass::ImapValidationError,
                Detail::TlsHandshakeFailed,
                format!("no TLS handshake completed\n{}", tls::refusals(&probes)),
            ),
        };
        return Err(Stop::new(row, NOT_ENCRYPTED));
    };
    rows.push(row);
    Ok(probes)
}

/// What a STARTTLS port says before TLS.
struct Plaintext {
    greeting: String,
    capabilities: Vec<String>,
}

/// Greeting, CAPABILITY and STARTTLS on a plaintext connection.
async fn plaintext_phase(tcp: TcpStream, limits: Limits) -> Result<Plaintext, Row> {
    let row =
        |failure: Failure, what| Row::from_failure(Requirement::ImapEncryption, failure, what);
    let mut imap = Imap::new(Bounded::new(tcp, limits));
    let greeting = imap.greeting().await.map_err(|o| row(o, "greeting"))?;
    let caps = imap
        .capabilities()
        .await
        .map_err(|o| row(o, "CAPABILITY"))?;
    if !caps.iter().any(|cap| cap.eq_ignore_ascii_case("STARTTLS")) {
        return Err(Row::fail(
            Requirement::ImapEncryption,
            ErrorClass::ImapValidationError,
            Detail::TlsRequired,
            format!(
                "STARTTLS is not offered: CAPABILITY {}\nthe port offers plaintext only",
                caps.join(" ")
            ),
        ));
    }
    imap.starttls().await.map_err(|o| row(o, "STARTTLS"))?;
    Ok(Plaintext {
        greeting,
        capabilities: caps,
    })
}

/// An encrypted connection, greeted and asked for its capabilities.
struct Opened {
    imap: Session,
    /// The greeting, on an implicit-TLS port (a STARTTLS port greets in plaintext).
    greeting: Option<String>,
    capabilities: Vec<String>,
}

/// One encrypted connection, greeted and asked for its capabilities, over OpenSSL at any
/// TLS version the server speaks.
async fn open(target: &Endpoint, limits: Limits) -> Result<Opened, Failure> {
    let stream = legacy::handshake(
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
        Failure::from(Outcome::failed(
            ErrorClass::ImapSettingsIncorrect,
            Step::ImapConnect,
            Detail::ConnectionFailed,
        ))
        .because(why)
    })?;
    let mut imap = Imap::new(Bounded::new(stream, limits));
    let greeting = match target.security {
        ConnectionSecurity::ImplicitTls => Some(imap.greeting().await?),
        ConnectionSecurity::Starttls => None,
    };
    let capabilities = imap.capabilities().await?;
    Ok(Opened {
        imap,
        greeting,
        capabilities,
    })
}

/// Logs in as a connector would (LOGIN, AUTHENTICATE PLAIN where LOGIN is disabled, nothing
/// after a `* PREAUTH` greeting: `Imap::log_in`), a refusal classified as it would be.
async fn login(opened: Opened, config: &CheckConfig) -> Result<Session, Failure> {
    let mut imap = opened.imap;
    imap.log_in(config.account.login(), config.account.password.expose())
        .await?;
    Ok(imap)
}

/// `ImapServerSoftware`, `ImapLogin`, `ImapSessions` and `ImapFolders`.
async fn session_rows(config: &CheckConfig, plaintext: Option<&Plaintext>) -> Vec<Row> {
    let limit = config.account.step_timeout;
    let sessions = Requirement::ImapServerSoftware..=Requirement::ImapFolders;
    let mut rows = Rows::new(
        Requirement::imap()
            .iter()
            .copied()
            .filter(|r| sessions.contains(r)),
    );
    let opened = match timeout(limit, open(&config.account.imap, config.account.limits)).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(outcome)) => {
            return rows.stop(
                Row::from_failure(
                    Requirement::ImapServerSoftware,
                    outcome,
                    "opening a session",
                ),
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
    let status = if opened.imap.preauthenticated() {
        "PREAUTH"
    } else {
        "OK"
    };
    let mut software = vec![format!("greeting: * {status} {greeting}")];
    let courier_before_login = if classify::imap::is_courier_greeting(&greeting) {
        Some("the greeting names Courier-IMAP")
    } else if classify::imap::is_courier_capabilities(&caps) {
        Some("the capabilities are Courier-IMAP's (ACL2=UNION)")
    } else {
        None
    };

    // 6. Login.
    let method = opened.imap.password_login();
    let login_result = timeout(limit, login(opened, config)).await;
    let mut session = match login_result {
        Ok(Ok(session)) => session,
        Ok(Err(outcome)) => {
            rows.push(software_row(software, courier_before_login));
            return rows.stop(
                Row::from_failure(Requirement::ImapLogin, outcome, method.command()),
                "not checked: the login failed",
            );
        }
        Err(_) => {
            rows.push(software_row(software, courier_before_login));
            return rows.stop(
                Row::fail(
                    Requirement::ImapLogin,
                    ErrorClass::ImapAuthenticationError,
                    Detail::Timeout,
                    format!("no answer to {} within {limit:?}", method.command()),
                ),
                "not checked: the login failed",
            );
        }
    };
    let mut courier = courier_before_login;
    let id = timeout(limit, session.id()).await;
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
        Ok(Err(Failed::Refused(refusal))) => software.push(format!(
            "ID: not supported ({} {})",
            refusal.status, refusal.text
        )),
        Ok(Err(other)) => software.push(format!("ID: no answer ({other})")),
        Err(_) => software.push("ID: no answer".to_owned()),
    }
    rows.push(software_row(software, courier));
    rows.push(Row::pass(
        Requirement::ImapLogin,
        match method {
            PasswordLogin::Preauthenticated => {
                "the greeting was * PREAUTH: the server logged the connection in".to_owned()
            }
            _ => format!(
                "{} as {} accepted",
                method.command(),
                config.account.login()
            ),
        },
    ));

    // 8's data first (LIST on the first session), then 7 with this session held open.
    let listed = timeout(limit, session.folders()).await;
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

/// `ImapSessions`: the first session stays open while four more log in at the same time. Returns
/// how many were authenticated at once, the row, and the sessions to close.
async fn simultaneous(config: &CheckConfig, first: Session) -> (usize, Row, Vec<Session>) {
    let limit = config.account.step_timeout;
    let attempts = (1..SESSIONS_WANTED).map(|_| async {
        match timeout(limit, async {
            login(
                open(&config.account.imap, config.account.limits).await?,
                config,
            )
            .await
        })
        .await
        {
            Ok(result) => result,
            Err(_) => Err(Failure::from(Outcome::failed(
                ErrorClass::ImapAuthenticationError,
                Step::ImapLogin,
                Detail::Timeout,
            ))
            .because(format!("no session within {limit:?}"))),
        }
    });
    let results = futures::future::join_all(attempts).await;
    let mut sessions = vec![first];
    let mut refusals = Vec::new();
    for result in results {
        match result {
            Ok(session) => sessions.push(session),
            Err(outcome) => refusals.push(outcome),
        }
    }
    let allowed = sessions.len();
    let row = match refusals.into_iter().next() {
        None => Row::pass(
            Requirement::ImapSessions,
            format!("{allowed} of {SESSIONS_WANTED} sessions authenticated at once"),
        ),
        Some(first_refusal) => {
            let class = match first_refusal.outcome.class {
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
                    Row::from_failure(Requirement::ImapSessions, first_refusal, "session").evidence
                ),
            )
        }
    };
    (allowed, row, sessions)
}

/// `ImapFolders`: what LIST shows, and whether the sessions the connector keeps fit in what the
/// server allowed.
fn folders_row(
    listed: Result<Result<Folders, Failed>, tokio::time::error::Elapsed>,
    allowed: usize,
    limit: Duration,
) -> Row {
    let folders = match listed {
        Ok(Ok(folders)) => folders,
        Ok(Err(Failed::Refused(refusal))) => {
            return Row::fail(
                Requirement::ImapFolders,
                ErrorClass::ImapValidationError,
                Detail::ListFailed,
                format!("LIST refused: {} {}", refusal.status, refusal.text),
            );
        }
        Ok(Err(other)) => {
            return Row::fail(
                Requirement::ImapFolders,
                ErrorClass::ImapAuthenticationError,
                Detail::ConnectionLost,
                format!("no answer to LIST: {other}"),
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
