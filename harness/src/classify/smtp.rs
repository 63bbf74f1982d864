//! SMTP: the class of a refused AUTH, from the reply code and the enhanced status code in
//! the text (`5.7.8`, `5.7.9`, `5.7.139` …).

use crate::outcome::{Detail, ErrorClass};

pub fn auth_refusal(code: u16, text: &str) -> (ErrorClass, Detail) {
    let lower = text.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|needle| lower.contains(needle));
    if has(&["application-specific password", "invalidsecondfactor"]) {
        (
            ErrorClass::UnauthorizedAppPasswordRequired,
            Detail::AppPasswordRequired,
        )
    } else if has(&[
        "5.7.14",
        "webloginrequired",
        "log in via your web browser",
        "log in with your web browser",
    ]) {
        (ErrorClass::Unauthorized, Detail::WebLoginRequired)
    } else if has(&[
        "smtpclientauthentication is disabled",
        "basic authentication is disabled",
        "basic authentication is not supported",
        "authentication not enabled",
    ]) {
        (ErrorClass::SmtpSettingsIncorrect, Detail::AuthDisabled)
    } else if has(&[
        "did not meet the criteria",
        "client host rejected",
        "not allowed",
    ]) {
        (ErrorClass::SmtpSettingsIncorrect, Detail::PolicyRefused)
    } else if (400..500).contains(&code) {
        (
            ErrorClass::SmtpSettingsIncorrect,
            Detail::TemporarilyUnavailable,
        )
    } else if has(&[
        "5.7.8",
        "5.7.3",
        "authentication failed",
        "authentication unsuccessful",
        "username and password not accepted",
        "credentials invalid",
        "incorrect authentication data",
        "too many bad auth attempts",
    ]) || code == 535
    {
        (ErrorClass::Unauthorized, Detail::WrongCredentials)
    } else {
        (ErrorClass::SmtpSettingsIncorrect, Detail::AuthRefused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One real reply per arm, as the providers and servers send it.
    #[test]
    fn auth_refusals() {
        let cases = [
            (
                534,
                "5.7.9 Application-specific password required. Learn more at\n5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor o13sm2119833lfg.90 - gsmtp",
                ErrorClass::UnauthorizedAppPasswordRequired,
                Detail::AppPasswordRequired,
            ),
            (
                534,
                "5.7.14 <https://accounts.google.com/signin/continue?sarp=1> Please log in via your web browser and",
                ErrorClass::Unauthorized,
                Detail::WebLoginRequired,
            ),
            (
                535,
                "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
                ErrorClass::SmtpSettingsIncorrect,
                Detail::AuthDisabled,
            ),
            (
                535,
                "5.7.139 Authentication unsuccessful, basic authentication is disabled. [LO2P265CA0482.GBRP265.PROD.OUTLOOK.COM 2026-02-19T15:42:20.743Z 08DE6F7B77124F67]",
                ErrorClass::SmtpSettingsIncorrect,
                Detail::AuthDisabled,
            ),
            (
                550,
                "5.7.30 Basic authentication is not supported for Client Submission.",
                ErrorClass::SmtpSettingsIncorrect,
                Detail::AuthDisabled,
            ),
            (
                535,
                "5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                503,
                "5.5.1 Error: authentication not enabled",
                ErrorClass::SmtpSettingsIncorrect,
                Detail::AuthDisabled,
            ),
            (
                535,
                "5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
                ErrorClass::SmtpSettingsIncorrect,
                Detail::PolicyRefused,
            ),
            (
                454,
                "4.7.0 Too many login attempts, please try again later. f67sm20755463wmd.0 - gsmtp",
                ErrorClass::SmtpSettingsIncorrect,
                Detail::TemporarilyUnavailable,
            ),
            (
                535,
                "5.7.8 Error: authentication failed: authentication failure",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                535,
                "5.7.8 Username and Password not accepted. For more information, go to",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                535,
                "5.7.3 Authentication unsuccessful [ROAP284CA0191.BRAP284.PROD.OUTLOOK.COM]",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                535,
                "Incorrect authentication data",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                535,
                "5.7.0 (#AUTH005) Too many bad auth attempts.",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                504,
                "5.7.4 Unrecognized authentication type.",
                ErrorClass::SmtpSettingsIncorrect,
                Detail::AuthRefused,
            ),
        ];
        for (code, text, class, detail) in cases {
            assert_eq!(auth_refusal(code, text), (class, detail), "{code} {text}");
        }
    }
}
