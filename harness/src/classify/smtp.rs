//! SMTP: the class of a refused AUTH, from the reply code and the enhanced status code in
//! the text (`5.7.8`, `5.7.9`, `5.7.139` …).

use crate::outcome::ErrorClass;

pub fn auth_refusal(code: u16, text: &str) -> (ErrorClass, &'static str) {
    let lower = text.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|needle| lower.contains(needle));
    if has(&["application-specific password", "invalidsecondfactor"]) {
        (
            ErrorClass::UnauthorizedAppPasswordRequired,
            "app-password-required",
        )
    } else if has(&[
        "5.7.14",
        "webloginrequired",
        "log in via your web browser",
        "log in with your web browser",
    ]) {
        (ErrorClass::Unauthorized, "web-login-required")
    } else if has(&[
        "smtpclientauthentication is disabled",
        "basic authentication is disabled",
        "authentication not enabled",
    ]) {
        (ErrorClass::SmtpSettingsIncorrect, "auth-disabled")
    } else if has(&[
        "did not meet the criteria",
        "client host rejected",
        "not allowed",
    ]) {
        (ErrorClass::SmtpSettingsIncorrect, "policy-refused")
    } else if (400..500).contains(&code) {
        (ErrorClass::SmtpSettingsIncorrect, "temporarily-unavailable")
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
        (ErrorClass::Unauthorized, "wrong-credentials")
    } else {
        (ErrorClass::SmtpSettingsIncorrect, "auth-refused")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One real reply per arm, from PROVIDER-REPLIES.md.
    #[test]
    fn auth_refusals() {
        let cases = [
            (
                534,
                "5.7.9 Application-specific password required. Learn more at\n5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor o13sm2119833lfg.90 - gsmtp",
                ErrorClass::UnauthorizedAppPasswordRequired,
                "app-password-required",
            ),
            (
                534,
                "5.7.14 <https://accounts.google.com/signin/continue?sarp=1> Please log in via your web browser and",
                ErrorClass::Unauthorized,
                "web-login-required",
            ),
            (
                535,
                "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
                ErrorClass::SmtpSettingsIncorrect,
                "auth-disabled",
            ),
            (
                503,
                "5.5.1 Error: authentication not enabled",
                ErrorClass::SmtpSettingsIncorrect,
                "auth-disabled",
            ),
            (
                535,
                "5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
                ErrorClass::SmtpSettingsIncorrect,
                "policy-refused",
            ),
            (
                454,
                "4.7.0 Too many login attempts, please try again later. f67sm20755463wmd.0 - gsmtp",
                ErrorClass::SmtpSettingsIncorrect,
                "temporarily-unavailable",
            ),
            (
                535,
                "5.7.8 Error: authentication failed: authentication failure",
                ErrorClass::Unauthorized,
                "wrong-credentials",
            ),
            (
                535,
                "5.7.8 Username and Password not accepted. For more information, go to",
                ErrorClass::Unauthorized,
                "wrong-credentials",
            ),
            (
                535,
                "5.7.3 Authentication unsuccessful [ROAP284CA0191.BRAP284.PROD.OUTLOOK.COM]",
                ErrorClass::Unauthorized,
                "wrong-credentials",
            ),
            (
                535,
                "Incorrect authentication data",
                ErrorClass::Unauthorized,
                "wrong-credentials",
            ),
            (
                535,
                "5.7.0 (#AUTH005) Too many bad auth attempts.",
                ErrorClass::Unauthorized,
                "wrong-credentials",
            ),
            (
                504,
                "5.7.4 Unrecognized authentication type.",
                ErrorClass::SmtpSettingsIncorrect,
                "auth-refused",
            ),
        ];
        for (code, text, class, detail) in cases {
            assert_eq!(auth_refusal(code, text), (class, detail), "{code} {text}");
        }
    }
}
