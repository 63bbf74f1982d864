//! What a connector reports: the error class (the snapshot's vocabulary), the step it
//! reached, a detail, and the server's own words.
//!
//! The class names are stable identifiers: they appear in scenario files, snapshots, JSON
//! and JUnit output. A new class is added here and nowhere else.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crate::detail::Detail;

/// The nine classes a connector run ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// All five steps passed.
    Ok,
    /// No connection to the IMAP host/port (refused, DNS, timeout, dropped before greeting).
    ImapSettingsIncorrect,
    /// Connected, but the server cannot be validated: no IMAP greeting, no encryption, an
    /// unsupported TLS version, Courier-IMAP, a missing capability.
    ImapValidationError,
    /// Login failed for a reason other than wrong credentials.
    ImapAuthenticationError,
    /// Wrong credentials.
    Unauthorized,
    /// The provider demands an application-specific password.
    UnauthorizedAppPasswordRequired,
    /// The certificate is expired, not yet valid, self-signed, from an unknown authority,
    /// for another host or malformed.
    UnauthorizedUntrustedCertificate,
    /// No usable SMTP connection on that host/port.
    SmtpSettingsIncorrect,
    /// The server refused the test message.
    TestEmailFailed,
}

impl ErrorClass {
    /// Every class, in the order of the specification's table.
    pub const ALL: [ErrorClass; 9] = [
        ErrorClass::Ok,
        ErrorClass::ImapSettingsIncorrect,
        ErrorClass::ImapValidationError,
        ErrorClass::ImapAuthenticationError,
        ErrorClass::Unauthorized,
        ErrorClass::UnauthorizedAppPasswordRequired,
        ErrorClass::UnauthorizedUntrustedCertificate,
        ErrorClass::SmtpSettingsIncorrect,
        ErrorClass::TestEmailFailed,
    ];

    /// The stable name, e.g. `imap_validation_error`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Ok => "ok",
            ErrorClass::ImapSettingsIncorrect => "imap_settings_incorrect",
            ErrorClass::ImapValidationError => "imap_validation_error",
            ErrorClass::ImapAuthenticationError => "imap_authentication_error",
            ErrorClass::Unauthorized => "unauthorized",
            ErrorClass::UnauthorizedAppPasswordRequired => "unauthorized_app_password_required",
            ErrorClass::UnauthorizedUntrustedCertificate => "unauthorized_untrusted_certificate",
            ErrorClass::SmtpSettingsIncorrect => "smtp_settings_incorrect",
            ErrorClass::TestEmailFailed => "test_email_failed",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ErrorClass {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorClass::ALL
            .into_iter()
            .find(|class| class.name() == s)
            .ok_or_else(|| format!("unknown error class `{s}`"))
    }
}

/// The connector's five steps, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    ImapConnect,
    ImapLogin,
    SmtpConnect,
    SmtpLogin,
    TestSend,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::ImapConnect,
        Step::ImapLogin,
        Step::SmtpConnect,
        Step::SmtpLogin,
        Step::TestSend,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::ImapConnect => "imap-connect",
            Step::ImapLogin => "imap-login",
            Step::SmtpConnect => "smtp-connect",
            Step::SmtpLogin => "smtp-login",
            Step::TestSend => "test-send",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The server's own reply behind an outcome, where there was one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerResponse {
    /// SMTP reply code, or the IMAP status (`NO`, `BAD`, `BYE`).
    pub code: Option<String>,
    pub text: String,
}

/// The result of one connector run against one scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub class: ErrorClass,
    /// The step that failed; for `ok`, none.
    pub step: Option<Step>,
    /// A finer reason: a [`Detail`]'s name (`certificate-expired`, …), or an external
    /// connector's own text.
    pub detail: Option<String>,
    pub response: Option<ServerResponse>,
}

impl Outcome {
    /// All five steps passed.
    pub fn ok() -> Outcome {
        Outcome {
            class: ErrorClass::Ok,
            step: None,
            detail: None,
            response: None,
        }
    }

    pub fn failed(class: ErrorClass, step: Step, detail: Detail) -> Outcome {
        Outcome {
            class,
            step: Some(step),
            detail: Some(detail.into()),
            response: None,
        }
    }

    /// The same outcome with a finer detail.
    pub fn with_detail(mut self, detail: Detail) -> Outcome {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_response(mut self, code: Option<String>, text: impl Into<String>) -> Outcome {
        self.response = Some(ServerResponse {
            code,
            text: text.into(),
        });
        self
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.class.name())?;
        if let Some(step) = self.step {
            write!(f, " at {step}")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_from_str() {
        for class in ErrorClass::ALL {
            let json = serde_json::to_string(&class).unwrap();
            assert_eq!(json, format!("\"{}\"", class.name()));
            assert_eq!(class.name().parse::<ErrorClass>().unwrap(), class);
        }
        for step in Step::ALL {
            assert_eq!(serde_json::to_string(&step).unwrap(), format!("\"{step}\""));
        }
        assert!("imap_error".parse::<ErrorClass>().is_err());
    }

    #[test]
    fn outcomes_print_class_step_and_detail() {
        let outcome = Outcome::failed(
            ErrorClass::ImapValidationError,
            Step::ImapConnect,
            crate::outcome::Detail::CourierImap,
        );
        assert_eq!(
            outcome.to_string(),
            "imap_validation_error at imap-connect (courier-imap)"
        );
        assert_eq!(Outcome::ok().to_string(), "ok");
    }
}
