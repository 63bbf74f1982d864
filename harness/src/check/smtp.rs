//! The SMTP port's requirements (`Requirement::smtp()`). Reachability and EHLO, encryption, TLS versions and
//! certificate (see `tls`), then the client layer's SMTP steps (`probe::smtp`, lettre) for
//! AUTH and, only when asked, the test message, over OpenSSL at any TLS version the server
//! speaks.

use std::time::Duration;

use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::{Extension, ServerInfo};
use mailharness_mock_servers::TlsVersion;
use tokio::time::timeout;

use super::CheckConfig;
use super::report::{Row, Rows, Stop};
use super::requirement::Requirement;
use super::tls;
use crate::connector::{ConnectionSecurity, Settings};
use crate::outcome::{Detail, ErrorClass};
use crate::probe::legacy::Protocol;
use crate::probe::smtp as steps;

/// The EHLO reply in a line: the server's name, STARTTLS and the AUTH mechanisms.
fn describe(info: &ServerInfo) -> String {
    let mechanisms: Vec<&str> = [
        (Mechanism::Plain, "PLAIN"),
        (Mechanism::Login, "LOGIN"),
        (Mechanism::Xoauth2, "XOAUTH2"),
    ]
    .into_iter()
    .filter(|(m, _)| info.supports_auth_mechanism(*m))
    .map(|(_, name)| name)
    .collect();
    format!(
        "EHLO: {}; STARTTLS {}; AUTH {}",
        info.name(),
        if info.supports_feature(Extension::StartTls) {
            "offered"
        } else {
            "not offered"
        },
        if mechanisms.is_empty() {
            "not offered".to_owned()
        } else {
            mechanisms.join(" ")
        }
    )
}

/// The SMTP port's rows, in order.
pub async fn check(config: &CheckConfig, trust: &tls::Trust) -> Vec<Row> {
    let mut rows = Rows::new(Requirement::smtp().iter().copied());
    let result = async {
        let ehlo = reachable(config, &mut rows).await?;
        let probes = encryption(config, ehlo.as_ref(), &mut rows).await?;
        rows.push(tls::versions_row(
            Requirement::SmtpTlsVersions,
            ErrorClass::SmtpSettingsIncorrect,
            &probes,
            config.connector_tls,
        ));
        rows.push(tls::certificate_of(
            Requirement::SmtpCertificate,
            &probes,
            &config.account.smtp,
            trust,
            config.account.allow_insecure_certificate,
        ));
        let connection = auth(config, &mut rows).await?;
        rows.push(test_send(config, connection).await);
        Ok(())
    }
    .await;
    rows.finish(result)
}

const NOT_ENCRYPTED: &str = "not checked: no encrypted SMTP connection";

/// `SmtpReachable`: a TCP connection; on a STARTTLS port also the plaintext greeting and
/// EHLO, whose failure fails `SmtpEncryption`. Returns the plaintext EHLO reply.
async fn reachable(config: &CheckConfig, rows: &mut Rows) -> Result<Option<ServerInfo>, Stop> {
    let target = &config.account.smtp;
    let limit = config.account.step_timeout;
    let (_tcp, connected) = super::reach(
        target,
        limit,
        Requirement::SmtpReachable,
        ErrorClass::SmtpSettingsIncorrect,
    )
    .await
    .map_err(|row| Stop::new(row, "not checked: the SMTP port is not reachable"))?;
    if target.security != ConnectionSecurity::Starttls {
        rows.push(Row::pass(Requirement::SmtpReachable, connected));
        return Ok(None);
    }
    let plain = timeout(
        limit,
        steps::connect_plain(&target.host, target.port, None, config.account.limits),
    )
    .await;
    let failed = match plain {
        Ok(Ok(mut connection)) => {
            let info = connection.server_info().clone();
            connection.abort().await;
            rows.push(Row::pass(
                Requirement::SmtpReachable,
                format!("{connected}\n{}", describe(&info)),
            ));
            return Ok(Some(info));
        }
        Ok(Err(outcome)) => {
            Row::from_failure(Requirement::SmtpEncryption, outcome, "greeting or EHLO")
        }
        Err(_) => Row::fail(
            Requirement::SmtpEncryption,
            ErrorClass::SmtpSettingsIncorrect,
            Detail::NoGreeting,
            format!("no greeting or EHLO reply within {limit:?}"),
        ),
    };
    rows.push(Row::pass(Requirement::SmtpReachable, connected));
    Err(Stop::new(failed, NOT_ENCRYPTED))
}

/// `SmtpEncryption`: STARTTLS offered (on a STARTTLS port) and a TLS handshake at some version.
/// Returns the handshake at each version, for the versions and certificate rows.
async fn encryption(
    config: &CheckConfig,
    ehlo: Option<&ServerInfo>,
    rows: &mut Rows,
) -> Result<Vec<(TlsVersion, tls::Probe)>, Stop> {
    let target = &config.account.smtp;
    let limit = config.account.step_timeout;
    if let Some(info) = ehlo
        && !info.supports_feature(Extension::StartTls)
    {
        return Err(Stop::new(
            Row::fail(
                Requirement::SmtpEncryption,
                ErrorClass::SmtpSettingsIncorrect,
                Detail::TlsRequired,
                format!("STARTTLS is not offered\n{}", describe(info)),
            ),
            NOT_ENCRYPTED,
        ));
    }
    let probes = tls::probe_versions(target, Protocol::Smtp, limit).await;
    if tls::accepted(&probes).is_empty() {
        // An implicit-TLS port that greets in plaintext says why no handshake completed.
        let plaintext = match ehlo {
            None => super::first_line(target, limit).await,
            Some(_) => None,
        };
        let (detail, evidence) = match plaintext {
            Some(line) => (
                Detail::TlsRequired,
                format!("the implicit-TLS port answers in plaintext: {line}"),
            ),
            None => (
                Detail::TlsHandshakeFailed,
                format!("no TLS handshake completed\n{}", tls::refusals(&probes)),
            ),
        };
        let row = Row::fail(
            Requirement::SmtpEncryption,
            ErrorClass::SmtpSettingsIncorrect,
            detail,
            evidence,
        );
        return Err(Stop::new(row, NOT_ENCRYPTED));
    }
    rows.push(Row::pass(
        Requirement::SmtpEncryption,
        match ehlo {
            Some(_) => "STARTTLS offered and accepted",
            None => "implicit TLS: the port speaks TLS from the first byte",
        },
    ));
    Ok(probes)
}

/// `SmtpAuth`: AUTH with the client layer's SMTP steps, over OpenSSL at any TLS version the
/// server speaks, as the IMAP rows are. The certificate is `SmtpCertificate`'s business, so it
/// is not refused again here. Returns the authenticated connection, for `TestSend`.
async fn auth(config: &CheckConfig, rows: &mut Rows) -> Result<AsyncSmtpConnection, Stop> {
    let target = &config.account.smtp;
    let limit = config.account.step_timeout;
    let connected = timeout(
        limit,
        steps::connect_any_tls(
            &target.host,
            target.port,
            target.security,
            config.account.limits,
        ),
    )
    .await;
    let failed_connect = "not checked: the SMTP connection failed";
    let mut connection = match connected {
        Ok(Ok(connection)) => connection,
        Ok(Err(outcome)) => {
            let row = Row::from_failure(Requirement::SmtpAuth, outcome, "connecting");
            return Err(Stop::new(row, failed_connect));
        }
        Err(_) => {
            let row = Row::fail(
                Requirement::SmtpAuth,
                ErrorClass::SmtpSettingsIncorrect,
                Detail::Timeout,
                format!("no greeting or EHLO reply over TLS within {limit:?}"),
            );
            return Err(Stop::new(row, failed_connect));
        }
    };
    let offered = describe(connection.server_info());
    match steps::login(&mut connection, &config.account).await {
        Ok(()) => {
            rows.push(Row::pass(
                Requirement::SmtpAuth,
                format!("{offered}\nAUTH as {} accepted", config.account.login()),
            ));
            Ok(connection)
        }
        Err(outcome) => {
            let mut row = Row::from_failure(Requirement::SmtpAuth, outcome, "AUTH");
            row.evidence = format!("{offered}\n{}", row.evidence);
            connection.abort().await;
            Err(Stop::new(row, "not checked: SMTP AUTH failed"))
        }
    }
}

/// `TestSend`: the test message, only when asked.
async fn test_send(config: &CheckConfig, mut connection: AsyncSmtpConnection) -> Row {
    let Some(recipient) = &config.send_test_to else {
        let _ = timeout(Duration::from_secs(2), connection.quit()).await;
        return Row::skipped(
            Requirement::TestSend,
            "not run: no mail is sent unless --send-test-to ADDR names a recipient",
        );
    };
    match steps::send(&mut connection, &test_send_settings(config, recipient)).await {
        Ok(()) => Row::pass(
            Requirement::TestSend,
            format!(
                "MAIL FROM:<{}>, RCPT TO:<{recipient}> and the message accepted",
                config.account.email
            ),
        ),
        Err(outcome) => {
            connection.abort().await;
            Row::from_failure(Requirement::TestSend, outcome, "test send")
        }
    }
}

/// The settings of the test send: the account's, with the test recipient as the BCC.
fn test_send_settings(config: &CheckConfig, recipient: &str) -> Settings {
    Settings {
        bcc: recipient.to_owned(),
        ..config.account.clone()
    }
}
