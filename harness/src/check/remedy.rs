//! What an administrator should change when a requirement fails: the advice of the vendor's
//! troubleshooting article for IMAP/SMTP connection errors and its technical requirements,
//! in our own words, chosen by requirement and detail.

use super::requirement::Requirement;
use crate::outcome::{Detail, ErrorClass};

/// Advice for a failed requirement that stops a connector with `class` (`detail`).
pub fn remedy(requirement: Requirement, class: ErrorClass, detail: &str) -> String {
    use Requirement as R;
    // An unknown detail (an external connector's own) gets the requirement's advice.
    let text = match (requirement, Detail::parse(detail)) {
        (R::ImapReachable, _) => {
            "Check the IMAP host name and port (usually 993 for implicit TLS or 143 for \
             STARTTLS), that the IMAP service is running, and that the firewall lets in the \
             connector's egress IP addresses."
        }
        (R::SmtpReachable, _) => {
            "Check the SMTP host name and port (usually 465 for implicit TLS or 587 for \
             STARTTLS), that the submission service is running, and that the firewall lets \
             in the connector's egress IP addresses."
        }
        (
            R::ImapEncryption | R::SmtpEncryption,
            Some(
                Detail::NotImap
                | Detail::NotSmtp
                | Detail::NoGreeting
                | Detail::ServerRefused
                | Detail::GreetingRefused
                | Detail::GreetingTemporarilyRefused
                | Detail::ConnectionClosed,
            ),
        ) => {
            "The port does not answer like a mail server of that protocol: check the port \
             number (IMAP 993/143, SMTP 465/587) and its security setting, and that no other \
             service or proxy listens there."
        }
        (R::ImapEncryption | R::SmtpEncryption, Some(Detail::StarttlsRefused)) => {
            "The server advertises STARTTLS but refuses it: configure its TLS certificate and \
             key, or use the implicit-TLS port."
        }
        (R::ImapEncryption | R::SmtpEncryption, _) => {
            "Enable TLS on this port: implicit TLS (993/465) or STARTTLS (143/587). A \
             connector never logs in over an unencrypted connection; if a middlebox strips \
             STARTTLS, switch that inspection off."
        }
        (R::ImapTlsVersions | R::SmtpTlsVersions, _) => {
            "Enable a TLS version the connector supports on this port. The vendor's connector \
             speaks TLS 1.0 to 1.2; a server that offers only TLS 1.3 (or only versions \
             below what the connector accepts) cannot be connected."
        }
        (R::ImapCertificate | R::SmtpCertificate, Some(Detail::CertificateExpired)) => {
            "Renew the certificate. Until then, users can only connect by ticking \"allow \
             insecure certificate\"."
        }
        (R::ImapCertificate | R::SmtpCertificate, Some(Detail::CertificateNotYetValid)) => {
            "The certificate is not valid yet: check the server's clock and the certificate's \
             start date."
        }
        (R::ImapCertificate | R::SmtpCertificate, Some(Detail::CertificateWrongHost)) => {
            "Install a certificate whose subject alternative names (or, for old clients, CN) \
             contain the exact host name users enter, or tell users to enter the name the \
             certificate carries."
        }
        (R::ImapCertificate | R::SmtpCertificate, _) => {
            "Install a certificate signed by a publicly trusted certificate authority and send \
             the full chain (server certificate and intermediates). Otherwise each user has \
             to tick \"allow insecure certificate\" when connecting."
        }
        (R::ImapServerSoftware, Some(Detail::CourierImap)) => {
            "Courier-IMAP is not supported: replies to mail in such an inbox cannot be logged. \
             Serve the mailbox from other IMAP software (Dovecot, Cyrus, Exchange, …)."
        }
        (R::ImapServerSoftware, _) => {
            "No IMAP session could be completed after TLS: check that the server sends an \
             IMAP greeting and answers CAPABILITY once TLS is up, at the versions the TLS row \
             lists."
        }
        (R::ImapLogin | R::SmtpAuth, _) if class == ErrorClass::UnauthorizedAppPasswordRequired => {
            "The provider requires an app-specific password: create one in the account's \
             security settings and use it instead of the account password."
        }
        (R::ImapLogin, Some(Detail::TooManyConnections)) | (R::ImapSessions, _) => {
            "Allow at least five simultaneous IMAP connections per user from one address \
             (Dovecot: mail_max_userip_connections; Courier: MAXPERIP): the connector keeps \
             up to three open and opens two more when sending."
        }
        (R::ImapLogin | R::SmtpAuth, _) if class == ErrorClass::Unauthorized => {
            "Check the email address and password; some servers need a custom username \
             rather than the address; some need an app-specific password; and some only \
             accept logins from allowlisted IP addresses."
        }
        (R::ImapLogin, Some(Detail::MissingCapability)) => {
            "The server disables LOGIN (LOGINDISABLED) and offers no AUTH=PLAIN, so a password \
             cannot be sent: allow LOGIN over TLS, or offer PLAIN (Dovecot: auth_mechanisms = \
             plain login)."
        }
        (R::ImapLogin, _) => {
            "The server refused the login without saying the credentials are wrong: ask the \
             mail provider for its logs. Common causes are an IP allowlist for \
             authentication and too many simultaneous connections."
        }
        (R::ImapFolders, _) => {
            "The connector needs LIST to find the Sent folder and further folders, and a \
             third permanent connection when there are further folders: allow LIST and \
             enough connections per user."
        }
        (R::SmtpAuth, Some(Detail::AuthNotOffered)) => {
            "Offer SMTP AUTH (PLAIN or LOGIN) on this port once TLS is up; the connector \
             always authenticates before sending."
        }
        (R::SmtpAuth, _) => {
            "The server refused SMTP authentication: check that the account may submit mail \
             over SMTP, and that the connector's egress IP addresses are allowed to \
             authenticate."
        }
        (R::TestSend, _) => {
            "The server refused the test message: allow authenticated users to send to any \
             recipient from their own address, and allowlist the connector's egress IP \
             addresses for sending."
        }
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remedy_follows_the_detail_not_only_the_requirement() {
        let courier = remedy(
            Requirement::ImapServerSoftware,
            ErrorClass::ImapValidationError,
            "courier-imap",
        );
        assert!(courier.starts_with("Courier-IMAP is not supported"));
        let no_session = remedy(
            Requirement::ImapServerSoftware,
            ErrorClass::ImapSettingsIncorrect,
            "connection-failed",
        );
        assert!(!no_session.contains("Courier"));
        let not_imap = remedy(
            Requirement::ImapEncryption,
            ErrorClass::ImapValidationError,
            "not-imap",
        );
        assert!(not_imap.contains("port number"));
        let app = remedy(
            Requirement::SmtpAuth,
            ErrorClass::UnauthorizedAppPasswordRequired,
            "app-password-required",
        );
        assert!(app.contains("app-specific password"));
        let limit = remedy(
            Requirement::ImapLogin,
            ErrorClass::ImapAuthenticationError,
            "too-many-connections",
        );
        assert!(limit.contains("five simultaneous"));
    }
}
