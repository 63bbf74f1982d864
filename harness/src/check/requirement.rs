//! The requirements `check` reports on, in the connector's step order: their
//! stable numbers, titles and the step at which a failure shows. Rows, remedies and
//! renderings (`report`, `remedy`) are built on this list; nothing else numbers them.

use serde::Serialize;

use crate::outcome::Step;

/// The requirements an inbox's servers must meet, in the order they are checked (the
/// connector's step order). The number is the row's stable number in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    ImapReachable,
    ImapEncryption,
    ImapTlsVersions,
    ImapCertificate,
    ImapServerSoftware,
    ImapLogin,
    ImapSessions,
    ImapFolders,
    SmtpReachable,
    SmtpEncryption,
    SmtpTlsVersions,
    SmtpCertificate,
    SmtpAuth,
    TestSend,
}

impl Requirement {
    pub const ALL: [Requirement; 14] = [
        Requirement::ImapReachable,
        Requirement::ImapEncryption,
        Requirement::ImapTlsVersions,
        Requirement::ImapCertificate,
        Requirement::ImapServerSoftware,
        Requirement::ImapLogin,
        Requirement::ImapSessions,
        Requirement::ImapFolders,
        Requirement::SmtpReachable,
        Requirement::SmtpEncryption,
        Requirement::SmtpTlsVersions,
        Requirement::SmtpCertificate,
        Requirement::SmtpAuth,
        Requirement::TestSend,
    ];

    /// The IMAP port's requirements: those whose failure shows at an IMAP step.
    pub fn imap() -> &'static [Requirement] {
        let smtp = Requirement::ALL
            .iter()
            .position(|r| r.step() == Step::SmtpConnect)
            .expect("SMTP requirements follow the IMAP ones");
        &Requirement::ALL[..smtp]
    }

    /// The SMTP port's requirements: the rest.
    pub fn smtp() -> &'static [Requirement] {
        &Requirement::ALL[Requirement::imap().len()..]
    }

    /// The row's number: 1 to `ALL.len()`, in step order.
    pub fn number(self) -> usize {
        Requirement::ALL
            .iter()
            .position(|r| *r == self)
            .expect("every requirement is in ALL")
            + 1
    }

    pub fn title(self) -> &'static str {
        match self {
            Requirement::ImapReachable => "IMAP port reachable",
            Requirement::ImapEncryption => "IMAP encryption offered",
            Requirement::ImapTlsVersions => "IMAP TLS versions",
            Requirement::ImapCertificate => "IMAP certificate",
            Requirement::ImapServerSoftware => "IMAP server software",
            Requirement::ImapLogin => "IMAP login",
            Requirement::ImapSessions => "Simultaneous IMAP sessions",
            Requirement::ImapFolders => "Folders (LIST)",
            Requirement::SmtpReachable => "SMTP port reachable",
            Requirement::SmtpEncryption => "SMTP encryption offered",
            Requirement::SmtpTlsVersions => "SMTP TLS versions",
            Requirement::SmtpCertificate => "SMTP certificate",
            Requirement::SmtpAuth => "SMTP AUTH",
            Requirement::TestSend => "Test send",
        }
    }

    /// The connector step in which a failure of this requirement shows.
    pub fn step(self) -> Step {
        match self {
            Requirement::ImapReachable
            | Requirement::ImapEncryption
            | Requirement::ImapTlsVersions
            | Requirement::ImapCertificate
            | Requirement::ImapServerSoftware => Step::ImapConnect,
            Requirement::ImapLogin | Requirement::ImapSessions | Requirement::ImapFolders => {
                Step::ImapLogin
            }
            Requirement::SmtpReachable
            | Requirement::SmtpEncryption
            | Requirement::SmtpTlsVersions
            | Requirement::SmtpCertificate => Step::SmtpConnect,
            Requirement::SmtpAuth => Step::SmtpLogin,
            Requirement::TestSend => Step::TestSend,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_are_numbered_from_one_in_step_order() {
        let numbers: Vec<usize> = Requirement::ALL.iter().map(|r| r.number()).collect();
        assert_eq!(numbers, (1..=Requirement::ALL.len()).collect::<Vec<_>>());
        let steps: Vec<Step> = Requirement::ALL.iter().map(|r| r.step()).collect();
        assert!(steps.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn the_ports_split_the_list_in_step_order() {
        assert!(!Requirement::imap().is_empty() && !Requirement::smtp().is_empty());
        assert_eq!(
            Requirement::imap().len() + Requirement::smtp().len(),
            Requirement::ALL.len()
        );
        assert!(
            Requirement::imap()
                .iter()
                .all(|r| r.step() <= Step::ImapLogin)
        );
        assert!(
            Requirement::smtp()
                .iter()
                .all(|r| r.step() >= Step::SmtpConnect)
        );
        assert_eq!(Requirement::TestSend.number(), Requirement::ALL.len());
    }
}
