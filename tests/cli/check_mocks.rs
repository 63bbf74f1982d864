//! `mailharness check` against the mock servers: every requirement row in a configuration
//! where it passes and one where it fails, with the class and detail a connector would
//! report.

use crate::support::check::{
    assert_row, assert_skipped, assert_verdicts, check_with, evidence, setup,
};
use mailharness::check::{Requirement as R, Verdict};
use mailharness::outcome::{ErrorClass, Step};

use Verdict::{Fail, Pass, Skipped as Skip, Warn};

const IMPLICIT: &str = "[imap]\nsecurity = \"implicit-tls\"\n[smtp]\nsecurity = \"implicit-tls\"\n";

#[tokio::test]
async fn a_good_server_passes_every_row_and_the_test_message_arrives() {
    let mut setup = setup(IMPLICIT).await;
    setup.config.send_test_to = Some("bcc@crm.example".into());
    let report = setup.check().await;
    assert_verdicts(&report, Pass, &[]);
    assert!(!report.failed());
    assert_eq!(report.summary.class, ErrorClass::Ok);
    let messages = setup.servers.smtp_mock().expect("mock").messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].rcpt_to, vec!["bcc@crm.example".to_owned()]);
    assert!(messages[0].tls && messages[0].authenticated_as.is_some());
    assert!(evidence(&report, R::ImapSessions).starts_with("5 of 5"));
    assert!(evidence(&report, R::ImapCertificate).contains("trusted root: complete"));
}

#[tokio::test]
async fn over_starttls_no_mail_is_sent_without_send_test_to() {
    let setup = setup("[imap]\nsecurity = \"starttls\"\n[smtp]\nsecurity = \"starttls\"\n").await;
    let report = setup.check().await;
    assert_verdicts(&report, Pass, &[(R::TestSend, Skip)]);
    assert!(!report.failed());
    assert!(setup.servers.smtp_mock().unwrap().messages().is_empty());
    assert!(evidence(&report, R::ImapEncryption).contains("STARTTLS offered and accepted"));
    assert!(report.summary_line().contains("test send not run"));
}

#[tokio::test]
async fn row_1_an_unreachable_imap_port_fails_and_the_rest_of_imap_is_skipped() {
    let report = check_with("[imap]\nserver = \"closed\"\n", |_| {}).await;
    assert_row(
        &report,
        R::ImapReachable,
        Fail,
        Some((ErrorClass::ImapSettingsIncorrect, "connection-refused")),
    );
    assert_skipped(&report, R::ImapEncryption..=R::ImapFolders);
    // SMTP is checked all the same.
    assert_row(&report, R::SmtpAuth, Pass, None);
    assert_eq!(
        report.summary.to_string(),
        "imap_settings_incorrect at imap-connect (connection-refused)"
    );
}

#[tokio::test]
async fn row_2_plaintext_only_fails_on_a_starttls_port_and_on_an_implicit_tls_port() {
    let starttls = check_with("[imap]\nsecurity = \"plaintext\"\n", |_| {}).await;
    assert_row(
        &starttls,
        R::ImapEncryption,
        Fail,
        Some((ErrorClass::ImapValidationError, "tls-required")),
    );
    assert!(evidence(&starttls, R::ImapEncryption).contains("STARTTLS is not offered"));
    let implicit = check_with(
        "[imap]\nsecurity = \"plaintext\"\nconnector-security = \"implicit-tls\"\n",
        |_| {},
    )
    .await;
    assert_row(
        &implicit,
        R::ImapEncryption,
        Fail,
        Some((ErrorClass::ImapValidationError, "tls-required")),
    );
    assert!(evidence(&implicit, R::ImapEncryption).contains("answers in plaintext: * OK"));
    assert_skipped(&implicit, R::ImapTlsVersions..=R::ImapFolders);
}

#[tokio::test]
async fn row_3_tls_versions_are_compared_with_the_connectors_range() {
    let body = "[imap]\ntls-versions = \"1.3\"\n";
    let vendor = check_with(body, |_| {}).await;
    assert_row(
        &vendor,
        R::ImapTlsVersions,
        Fail,
        Some((ErrorClass::ImapValidationError, "tls-version")),
    );
    let seen = evidence(&vendor, R::ImapTlsVersions);
    assert!(
        seen.contains("TLS 1.2: refused") && seen.contains("TLS 1.3: accepted"),
        "{seen}"
    );
    let modern = check_with(body, |c| c.connector_tls = "1.2-1.3".parse().unwrap()).await;
    assert_row(&modern, R::ImapTlsVersions, Pass, None);
}

#[tokio::test]
async fn row_3_a_tls_1_0_only_server_suits_the_vendor_and_is_checked_past_its_tls() {
    let report = check_with("[imap]\ntls-versions = \"1.0\"\n", |_| {}).await;
    assert_row(&report, R::ImapTlsVersions, Pass, None);
    assert!(evidence(&report, R::ImapTlsVersions).contains("would use TLS 1.0"));
    // The sessions use OpenSSL, so login, sessions and LIST are still checked.
    assert_row(&report, R::ImapLogin, Pass, None);
    assert_row(&report, R::ImapSessions, Pass, None);
}

#[tokio::test]
async fn row_11_a_tls_1_0_only_smtp_server_is_checked_past_its_tls_on_both_kinds_of_port() {
    for security in ["implicit-tls", "starttls"] {
        let body = format!("[smtp]\ntls-versions = \"1.0\"\nsecurity = \"{security}\"\n");
        let report = check_with(&body, |c| {
            c.send_test_to = Some("someone@example.com".into());
        })
        .await;
        assert!(
            evidence(&report, R::SmtpTlsVersions).contains("would use TLS 1.0"),
            "{security}"
        );
        // AUTH and the test send run over OpenSSL, as the IMAP sessions do.
        assert_row(&report, R::SmtpAuth, Pass, None);
        assert_row(&report, R::TestSend, Pass, None);
    }
}

#[tokio::test]
async fn row_4_certificate_problems_fail_with_the_connectors_detail() {
    for (kind, detail, says) in [
        ("expired", "certificate-expired", "days left"),
        (
            "not-yet-valid",
            "certificate-not-yet-valid",
            "not valid yet",
        ),
        (
            "wrong-host",
            "certificate-wrong-host",
            "is not among the certificate's names",
        ),
        ("cn-only", "certificate-wrong-host", "only in the CN"),
        (
            "self-signed",
            "certificate-unknown-authority",
            "self-signed certificate that is not trusted",
        ),
        (
            "incomplete-chain",
            "certificate-unknown-authority",
            "neither sent nor is it trusted",
        ),
        (
            "unknown-ca",
            "certificate-unknown-authority",
            "neither sent nor is it trusted",
        ),
    ] {
        let body = format!("[imap]\nsecurity = \"implicit-tls\"\ncertificate = \"{kind}\"\n");
        let report = check_with(&body, |_| {}).await;
        assert_row(
            &report,
            R::ImapCertificate,
            Fail,
            Some((ErrorClass::UnauthorizedUntrustedCertificate, detail)),
        );
        let seen = evidence(&report, R::ImapCertificate);
        assert!(seen.contains(says), "{kind}: {seen}");
        // The check goes on past the certificate, as an admin wants the whole picture.
        assert_row(&report, R::ImapLogin, Pass, None);
    }
}

#[tokio::test]
async fn row_4_a_full_chain_passes_and_allowing_insecure_certificates_turns_failure_into_warning() {
    let chain = check_with("[imap]\ncertificate = \"valid-chain\"\n", |_| {}).await;
    assert_row(&chain, R::ImapCertificate, Pass, None);
    assert!(evidence(&chain, R::ImapCertificate).contains("2 sent"));
    let insecure = check_with("[imap]\ncertificate = \"expired\"\n", |c| {
        c.account.allow_insecure_certificate = true
    })
    .await;
    assert_row(&insecure, R::ImapCertificate, Warn, None);
    assert!(!insecure.failed());
}

#[tokio::test]
async fn row_5_courier_imap_fails_as_a_connector_would_report_it() {
    let report = check_with("[imap]\npersonality = \"courier\"\n", |_| {}).await;
    assert_row(
        &report,
        R::ImapServerSoftware,
        Fail,
        Some((ErrorClass::ImapValidationError, "courier-imap")),
    );
    assert!(evidence(&report, R::ImapServerSoftware).contains("Courier"));
    assert_eq!(report.summary.class, ErrorClass::ImapValidationError);
    assert_eq!(report.summary.step, Some(Step::ImapConnect));
    let dovecot = check_with("[imap]\npersonality = \"dovecot\"\n", |_| {}).await;
    assert_row(&dovecot, R::ImapServerSoftware, Pass, None);
}

#[tokio::test]
async fn row_6_login_failures_tell_wrong_credentials_from_app_passwords() {
    let wrong = check_with("", |c| {
        c.account.password = mailharness::connector::Secret::new("not the password")
    })
    .await;
    assert_row(
        &wrong,
        R::ImapLogin,
        Fail,
        Some((ErrorClass::Unauthorized, "wrong-credentials")),
    );
    assert_skipped(&wrong, R::ImapSessions..=R::ImapFolders);
    let app = check_with(
        "[imap]\npersonality = \"gmail\"\nlogin = \"app-password-required\"\n",
        |_| {},
    )
    .await;
    assert_row(
        &app,
        R::ImapLogin,
        Fail,
        Some((
            ErrorClass::UnauthorizedAppPasswordRequired,
            "app-password-required",
        )),
    );
    assert!(evidence(&app, R::ImapLogin).contains("Application-specific password required"));
}

#[tokio::test]
async fn row_6_logs_in_as_a_connector_does_after_preauth_and_where_login_is_disabled() {
    // A `* PREAUTH` greeting over TLS: logged in already, nothing is sent.
    let preauth = check_with(
        "[imap]\nsecurity = \"implicit-tls\"\ngreeting = { custom = \"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] Logged in as alice@example.com\" }\n",
        |_| {},
    )
    .await;
    assert_row(&preauth, R::ImapLogin, Pass, None);
    assert!(evidence(&preauth, R::ImapLogin).contains("PREAUTH"));
    assert!(evidence(&preauth, R::ImapServerSoftware).contains("greeting: * PREAUTH "));
    // LOGINDISABLED over TLS with AUTH=PLAIN: AUTHENTICATE PLAIN, as the connector does.
    let disabled = check_with(
        "[imap]\nsecurity = \"implicit-tls\"\ncapabilities = \"IMAP4rev1 LOGINDISABLED IDLE\"\nauth-mechanisms = [\"PLAIN\"]\n",
        |_| {},
    )
    .await;
    assert_row(&disabled, R::ImapLogin, Pass, None);
    assert!(evidence(&disabled, R::ImapLogin).contains("AUTHENTICATE PLAIN as "));
    // Neither LOGIN nor AUTH=PLAIN: no way to send a password, and none is sent.
    let none = check_with(
        "[imap]\nsecurity = \"implicit-tls\"\ncapabilities = \"IMAP4rev1 LOGINDISABLED\"\nauth-mechanisms = []\n",
        |_| {},
    )
    .await;
    assert_row(
        &none,
        R::ImapLogin,
        Fail,
        Some((ErrorClass::ImapValidationError, "missing-capability")),
    );
}

#[tokio::test]
async fn row_7_a_server_allowing_fewer_than_five_sessions_fails_and_says_how_many() {
    let report = check_with("[imap]\nmax-connections-per-user = 2\n", |_| {}).await;
    assert_row(
        &report,
        R::ImapSessions,
        Fail,
        Some((ErrorClass::ImapAuthenticationError, "too-many-connections")),
    );
    let seen = evidence(&report, R::ImapSessions);
    assert!(seen.starts_with("2 of 5"), "{seen}");
    assert!(seen.contains("mail_max_userip_connections"), "{seen}");
    // INBOX and Sent fit in two.
    assert_row(&report, R::ImapFolders, Pass, None);
}

#[tokio::test]
async fn row_8_further_folders_need_a_third_connection() {
    let body = "[imap]\nfolders = [\"Archive\", \"Projects\"]\nmax-connections-per-user = 2\n";
    let report = check_with(body, |_| {}).await;
    assert_row(
        &report,
        R::ImapFolders,
        Fail,
        Some((ErrorClass::ImapAuthenticationError, "too-many-connections")),
    );
    let roomy = check_with("[imap]\nfolders = [\"Archive\", \"Projects\"]\n", |_| {}).await;
    assert_row(&roomy, R::ImapFolders, Pass, None);
    assert!(
        evidence(&roomy, R::ImapFolders).contains("a third permanent connection will be needed")
    );
}

#[tokio::test]
async fn row_9_an_unreachable_smtp_port_fails() {
    let report = check_with("[smtp]\nserver = \"closed\"\n", |_| {}).await;
    assert_row(
        &report,
        R::SmtpReachable,
        Fail,
        Some((ErrorClass::SmtpSettingsIncorrect, "connection-refused")),
    );
    assert_skipped(&report, R::SmtpEncryption..=R::TestSend);
    assert_row(&report, R::ImapFolders, Pass, None);
    assert_eq!(report.summary.step, Some(Step::SmtpConnect));
}

#[tokio::test]
async fn row_10_smtp_without_starttls_fails() {
    let report = check_with("[smtp]\nsecurity = \"plaintext\"\n", |_| {}).await;
    assert_row(
        &report,
        R::SmtpEncryption,
        Fail,
        Some((ErrorClass::SmtpSettingsIncorrect, "tls-required")),
    );
    let stripped = check_with("[smtp]\nsecurity = \"starttls-stripped\"\n", |_| {}).await;
    assert_row(
        &stripped,
        R::SmtpEncryption,
        Fail,
        Some((ErrorClass::SmtpSettingsIncorrect, "tls-required")),
    );
}

#[tokio::test]
async fn row_11_smtp_tls_versions_outside_the_connectors_range_fail() {
    let report = check_with("[smtp]\ntls-versions = \"1.3\"\n", |_| {}).await;
    assert_row(
        &report,
        R::SmtpTlsVersions,
        Fail,
        Some((ErrorClass::SmtpSettingsIncorrect, "tls-version")),
    );
}

#[tokio::test]
async fn row_12_a_self_signed_smtp_certificate_fails() {
    let report = check_with(
        "[smtp]\nsecurity = \"implicit-tls\"\ncertificate = \"self-signed\"\n",
        |_| {},
    )
    .await;
    assert_row(
        &report,
        R::SmtpCertificate,
        Fail,
        Some((
            ErrorClass::UnauthorizedUntrustedCertificate,
            "certificate-unknown-authority",
        )),
    );
    assert_row(&report, R::ImapCertificate, Pass, None);
}

#[tokio::test]
async fn row_13_smtp_auth_not_offered_or_refused_fails() {
    let off = check_with("[smtp]\noffer-auth = false\n", |_| {}).await;
    assert_row(
        &off,
        R::SmtpAuth,
        Fail,
        Some((ErrorClass::SmtpSettingsIncorrect, "auth-not-offered")),
    );
    let wrong = check_with("[smtp]\nauth = \"wrong-credentials\"\n", |_| {}).await;
    assert_row(
        &wrong,
        R::SmtpAuth,
        Fail,
        Some((ErrorClass::Unauthorized, "wrong-credentials")),
    );
    assert!(evidence(&wrong, R::SmtpAuth).contains("535"));
}

#[tokio::test]
async fn row_14_a_refused_test_message_fails() {
    let mut setup = setup("[smtp]\nrelay-denied = true\n").await;
    setup.config.send_test_to = Some("bcc@crm.example".into());
    let report = setup.check().await;
    assert_row(
        &report,
        R::TestSend,
        Fail,
        Some((ErrorClass::TestEmailFailed, "rcpt-refused")),
    );
    assert!(evidence(&report, R::TestSend).contains("Relay access denied"));
    assert_eq!(report.summary.step, Some(Step::TestSend));
}

/// Hostile servers get a classified row, never a hang: each probe and step is bounded by
/// the step timeout (the outer limit only turns a hang into a failure).
#[tokio::test]
async fn hostile_servers_are_classified_within_the_step_timeout() {
    let short = |c: &mut mailharness::check::CheckConfig| {
        c.account.step_timeout = std::time::Duration::from_secs(2)
    };
    let limit = std::time::Duration::from_secs(60);
    let stalled = tokio::time::timeout(
        limit,
        check_with(
            "[imap]\nfaults = { stall = true }\n[smtp]\nfaults = { stall = true }\n",
            short,
        ),
    )
    .await
    .expect("a stalled server does not hang the check");
    assert_row(
        &stalled,
        R::ImapEncryption,
        Fail,
        Some((ErrorClass::ImapValidationError, "tls-handshake-failed")),
    );
    assert!(evidence(&stalled, R::ImapEncryption).contains("TLS 1.2: timeout"));
    assert_row(
        &stalled,
        R::SmtpEncryption,
        Fail,
        Some((ErrorClass::SmtpSettingsIncorrect, "tls-handshake-failed")),
    );

    let garbage = tokio::time::timeout(
        limit,
        check_with(
            "[imap]\nsecurity = \"starttls\"\ngreeting = \"garbage\"\n\
             [smtp]\nsecurity = \"starttls\"\ngreeting = \"garbage\"\n",
            short,
        ),
    )
    .await
    .expect("garbage does not hang the check");
    assert_row(
        &garbage,
        R::ImapEncryption,
        Fail,
        Some((ErrorClass::ImapValidationError, "not-imap")),
    );
    assert_row(
        &garbage,
        R::SmtpEncryption,
        Fail,
        Some((ErrorClass::SmtpSettingsIncorrect, "not-smtp")),
    );
}
