//! `mailharness check` against the real servers in containers: Dovecot and Postfix meet
//! every requirement (the test message included, which Postfix discards); Courier-IMAP
//! fails requirement 5. Without Docker these tests are ignored, saying why, unless
//! `MAILHARNESS_REQUIRE_DOCKER=1` makes that a failure (CI).

use crate::support::check::{assert_row, assert_verdicts, setup};
use crate::support::tools::{Need, Test, block_on};
use mailharness::check::{Requirement as R, Verdict};
use mailharness::outcome::ErrorClass;

async fn real_dovecot_and_postfix_meet_every_requirement() {
    let mut setup = setup(
        "[imap]\nserver = \"dovecot\"\nsecurity = \"implicit-tls\"\n\
         [smtp]\nserver = \"postfix\"\nsecurity = \"starttls\"\n",
    )
    .await;
    setup.config.send_test_to = Some("bcc@crm.example".into());
    let report = setup.check().await;
    setup.env.shutdown().await;
    assert_verdicts(&report, Verdict::Pass, &[]);
    assert!(
        report
            .row(R::ImapServerSoftware)
            .evidence
            .contains("Dovecot"),
        "{}",
        report.human(false)
    );
}

async fn real_courier_imap_fails_requirement_5() {
    let setup = setup("[imap]\nserver = \"courier\"\nsecurity = \"implicit-tls\"\n").await;
    let report = setup.check().await;
    setup.env.shutdown().await;
    for requirement in [
        R::ImapReachable,
        R::ImapEncryption,
        R::ImapTlsVersions,
        R::ImapCertificate,
    ] {
        assert_row(&report, requirement, Verdict::Pass, None);
    }
    assert_row(
        &report,
        R::ImapServerSoftware,
        Verdict::Fail,
        Some((ErrorClass::ImapValidationError, "courier-imap")),
    );
    assert_eq!(
        report.summary.to_string(),
        "imap_validation_error at imap-connect (courier-imap)"
    );
}

/// A TLS 1.0-only Dovecot suits the vendor's range and is checked past its TLS (the check's
/// IMAP sessions speak any version); Postfix's expired certificate fails row 12 while AUTH
/// is still checked.
async fn real_legacy_dovecot_is_checked_past_tls_and_an_expired_postfix_certificate_fails() {
    let setup = setup(
        "[imap]\nserver = \"dovecot\"\ntls-versions = \"1.0\"\n\
         [smtp]\nserver = \"postfix\"\nsecurity = \"starttls\"\ncertificate = \"expired\"\n",
    )
    .await;
    let report = setup.check().await;
    setup.env.shutdown().await;
    assert_row(&report, R::ImapTlsVersions, Verdict::Pass, None);
    let versions = &report.row(R::ImapTlsVersions).evidence;
    assert!(versions.contains("TLS 1.2: refused"), "{versions}");
    assert!(versions.contains("would use TLS 1.0"), "{versions}");
    for requirement in [
        R::ImapServerSoftware,
        R::ImapLogin,
        R::ImapSessions,
        R::ImapFolders,
    ] {
        assert_row(&report, requirement, Verdict::Pass, None);
    }
    assert_row(
        &report,
        R::SmtpCertificate,
        Verdict::Fail,
        Some((
            ErrorClass::UnauthorizedUntrustedCertificate,
            "certificate-expired",
        )),
    );
    assert_row(&report, R::SmtpAuth, Verdict::Pass, None);
    assert_eq!(
        report.summary.to_string(),
        "unauthorized_untrusted_certificate at smtp-connect (certificate-expired)"
    );
}

/// The tests of this file, for `main.rs`.
pub fn tests() -> Vec<Test> {
    const DOCKER: &[Need] = &[Need::Docker];
    vec![
        Test {
            name: "real_dovecot_and_postfix_meet_every_requirement",
            needs: DOCKER,
            run: || block_on(real_dovecot_and_postfix_meet_every_requirement()),
        },
        Test {
            name: "real_courier_imap_fails_requirement_5",
            needs: DOCKER,
            run: || block_on(real_courier_imap_fails_requirement_5()),
        },
        Test {
            name: "real_legacy_dovecot_is_checked_past_tls_and_an_expired_postfix_certificate_fails",
            needs: DOCKER,
            run: || {
                block_on(
                    real_legacy_dovecot_is_checked_past_tls_and_an_expired_postfix_certificate_fails(),
                )
            },
        },
    ]
}
