//! Requirements 9–14: the SMTP port. Reachability and EHLO, encryption, TLS versions and
//! certificate (see `tls`), then the client layer's SMTP steps (`probe::smtp`, lettre) for
//! AUTH and, only when asked, the test message, over OpenSSL at any TLS version the server
//! speaks.

use std::time::Duration;

use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::extension::{Extension, ServerInfo};
use tokio::time::timeout;

use super::CheckConfig;
use super::report::{Row, Rows};
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

/// The SMTP rows, 9 to 14, in order.
pub async fn check(config: &CheckConfig, trust: &tls::Trust) -> Vec<Row> {
    let mut rows = Rows::new(Requirement::smtp().iter().copied());
    let target = &config.account.smtp;
    let limit = config.account.step_timeout;

    // 9. Reachable; on a STARTTLS port, the plaintext greeting and EHLO.
    let connected = match super::reach(
        target,
        limit,
        Requirement::SmtpReachable,
        ErrorClass::SmtpSettingsIncorrect,
    )
    .await
    {
        Ok((_tcp, connected)) => connected,
        Err(row) => {
            return rows.stop(row, "not checked: the SMTP port is not reachable");
        }
    };
    let mut ehlo = None;
    if target.security == ConnectionSecurity::Starttls {
        let plain = timeout(
            limit,
            steps::connect_plain(
                target.host.as_str(),
                target.port,
                None,
                config.account.limits,
            ),
        )
        .await;
        match plain {
            Ok(Ok(mut connection)) => {
                let info = connection.server_info().clone();
                connection.abort().await;
                ehlo = Some(info);
            }
            Ok(Err(outcome)) => {
                rows.push(Row::pass(Requirement::SmtpReachable, connected));
                return rows.stop(
                    Row::from_failure(Requirement::SmtpEncryption, outcome, "greeting or EHLO"),
                    "not checked: no encrypted SMTP connection",
                );
            }
            Err(_) => {
                rows.push(Row::pass(Requirement::SmtpReachable, connected));
                return rows.stop(
                    Row::fail(
                        Requirement::SmtpEncryption,
                        ErrorClass::SmtpSettingsIncorrect,
                        Detail::NoGreeting,
                        format!("no greeting or EHLO reply within {limit:?}"),
                    ),
                    "not checked: no encrypted SMTP connection",
                );
            }
        }
    }
    rows.push(Row::pass(
        Requirement::SmtpReachable,
        match &ehlo {
            Some(info) => format!("{connected}\n{}", describe(info)),
            None => connected,
        },
    ));

    // 10. Encryption.
    if let Some(info) = &ehlo
        && !info.supports_feature(Extension::StartTls)
    {
        return rows.stop(
            Row::fail(
                Requirement::SmtpEncryption,
                ErrorClass::SmtpSettingsIncorrect,
                Detail::TlsRequired,
                format!("STARTTLS is not offered\n{}", describe(info)),
            ),
            "not checked: no encrypted SMTP connection",
        );
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
        return rows.stop(
            Row::fail(
                Requirement::SmtpEncryption,
                ErrorClass::SmtpSettingsIncorrect,
                detail,
                evidence,
            ),
            "not checked: no encrypted SMTP connection",
        );
    }
    rows.push(Row::pass(
        Requirement::SmtpEncryption,
        match &ehlo {
            Some(_) => "STARTTLS offered and accepted",
            None => "implicit TLS: the port speaks TLS from the first byte",
        },
    ));

    // 11. Versions, 12. certificate.
    rows.push(tls::versions_row(
        Requirement::SmtpTlsVersions,
        ErrorClass::SmtpSettingsIncorrect,
        &probes,
        config.connector_tls,
    ));
    match tls::chain(&probes) {
        Some(chain) => rows.push(tls::certificate_row(
            Requirement::SmtpCertificate,
            chain,
            &target.host,
            trust,
            config.account.allow_insecure_certificate,
        )),
        None => rows.push(Row::skipped(
            Requirement::SmtpCertificate,
            "not checked: the server sent no certificate",
        )),
    }

    // 13, 14 with the client layer's SMTP steps, over OpenSSL at any TLS version the
    // server speaks, as the IMAP rows are. The certificate is row 12's business, so it is
    // not refused again here.
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
    let mut connection = match connected {
        Ok(Ok(connection)) => connection,
        Ok(Err(outcome)) => {
            return rows.stop(
                Row::from_failure(Requirement::SmtpAuth, outcome, "connecting"),
                "not checked: the SMTP connection failed",
            );
        }
        Err(_) => {
            return rows.stop(
                Row::fail(
                    Requirement::SmtpAuth,
                    ErrorClass::SmtpSettingsIncorrect,
                    Detail::Timeout,
                    format!("no greeting or EHLO reply over TLS within {limit:?}"),
                ),
                "not checked: the SMTP connection failed",
            );
        }
    };
    let offered = describe(connection.server_info());
    match steps::login(&mut connection, &config.account).await {
        Ok(()) => rows.push(Row::pass(
            Requirement::SmtpAuth,
            format!("{offered}\nAUTH as {} accepted", config.account.login()),
        )),
        Err(outcome) => {
            let mut row = Row::from_failure(Requirement::SmtpAuth, outcome, "AUTH");
            row.evidence = format!("{offered}\n{}", row.evidence);
            rows.push(row);
            connection.abort().await;
            return rows.skip("not checked: SMTP AUTH failed");
        }
    }

    // 14. Only when asked.
    match &config.send_test_to {
        None => {
            let _ = timeout(Duration::from_secs(2), connection.quit()).await;
            rows.push(Row::skipped(
                Requirement::TestSend,
                "not run: no mail is sent unless --send-test-to ADDR names a recipient",
            ));
        }
        Some(recipient) => {
            match steps::send(&mut connection, &test_send(config, recipient)).await {
                Ok(()) => rows.push(Row::pass(
                    Requirement::TestSend,
                    format!(
                        "MAIL FROM:<{}>, RCPT TO:<{recipient}> and the message accepted",
                        config.account.email
                    ),
                )),
                Err(outcome) => {
                    rows.push(Row::from_failure(
                        Requirement::TestSend,
                        outcome,
                        "test send",
                    ));
                    connection.abort().await;
                }
            }
        }
    }
    rows.done()
}

/// The settings of the test send: the account's, with the test recipient as the BCC.
fn test_send(config: &CheckConfig, recipient: &str) -> Settings {
    Settings {
        bcc: recipient.to_owned(),
        ..config.account.clone()
    }
}
