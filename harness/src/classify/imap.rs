//! IMAP: recognising Courier-IMAP, and the class of a refused LOGIN.
//!
//! Login refusals are told apart by the response code and the text the real servers send
//! (the providers' own texts): wrong credentials, app password required, too many connections,
//! unavailable, TLS required, address not allowed.

use std::collections::HashMap;

use crate::outcome::{Detail, ErrorClass};

/// Courier-IMAP names itself in its greeting (unless an administrator hid it).
pub fn is_courier_greeting(text: &str) -> bool {
    text.contains("Courier-IMAP")
}

/// Courier's capability list carries `ACL2=UNION`, which no other common server sends.
pub fn is_courier_capabilities<S: AsRef<str>>(capabilities: &[S]) -> bool {
    capabilities
        .iter()
        .any(|cap| cap.as_ref().eq_ignore_ascii_case("ACL2=UNION"))
}

/// Courier answers ID with `("name" "Courier-IMAP" "vendor" "S. Varshavchik.")`.
pub fn is_courier_id(fields: &HashMap<String, String>) -> bool {
    fields
        .iter()
        .any(|(key, value)| key.eq_ignore_ascii_case("name") && value.contains("Courier"))
}

/// Class and detail of a refused LOGIN/AUTHENTICATE, from the server's reply (response code
/// and text, in whatever form the client library gives them).
pub fn login_refusal(reply: &str) -> (ErrorClass, Detail) {
    let text = reply.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|needle| text.contains(needle));
    if has(&[
        "application-specific password",
        "app password",
        "invalidsecondfactor",
    ]) {
        (
            ErrorClass::UnauthorizedAppPasswordRequired,
            Detail::AppPasswordRequired,
        )
    } else if has(&[
        "web login required",
        "log in via your web browser",
        "webalert",
    ]) {
        (ErrorClass::Unauthorized, Detail::WebLoginRequired)
    } else if has(&[
        "maximum number of connections",
        "too many simultaneous connections",
        "too many connections",
        "[limit]",
    ]) {
        (
            ErrorClass::ImapAuthenticationError,
            Detail::TooManyConnections,
        )
    } else if has(&[
        "privacyrequired",
        "starttls required",
        "plaintext authentication",
        "cleartext authentication",
    ]) {
        (ErrorClass::ImapValidationError, Detail::TlsRequired)
    } else if has(&[
        "not enabled for imap",
        "imap access is disabled",
        "basic authentication is disabled",
    ]) {
        (ErrorClass::ImapAuthenticationError, Detail::ImapDisabled)
    } else if has(&[
        "address is not allowed",
        "this address is not allowed",
        "contactadmin",
    ]) {
        (
            ErrorClass::ImapAuthenticationError,
            Detail::AddressNotAllowed,
        )
    } else if has(&["unavailable", "temporary", "try again later"]) {
        (ErrorClass::ImapAuthenticationError, Detail::Unavailable)
    } else if has(&[
        "authenticationfailed",
        "invalid credentials",
        "login failed",
        "authentication failed",
        "authentication failure",
        "incorrect username or password",
        "authenticate failed",
    ]) {
        (ErrorClass::Unauthorized, Detail::WrongCredentials)
    } else {
        (ErrorClass::ImapAuthenticationError, Detail::Unspecified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn courier_by_greeting_capabilities_and_id() {
        assert!(is_courier_greeting(
            "[CAPABILITY IMAP4rev1 ENABLE UTF8=ACCEPT] Courier-IMAP ready. Copyright 1998-2019 Double Precision, Inc."
        ));
        assert!(!is_courier_greeting("Dovecot (Debian) ready."));
        assert!(is_courier_capabilities(&["IMAP4rev1", "ACL", "ACL2=UNION"]));
        assert!(!is_courier_capabilities(&[
            "IMAP4rev1",
            "SORT",
            "THREAD=ORDEREDSUBJECT"
        ]));
        let id = HashMap::from([("name".to_owned(), "Courier-IMAP".to_owned())]);
        assert!(is_courier_id(&id));
        assert!(!is_courier_id(&HashMap::from([(
            "name".to_owned(),
            "Dovecot".to_owned()
        )])));
    }

    /// One real reply per arm, as the providers and servers send it.
    #[test]
    fn login_refusals() {
        let cases = [
            (
                "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)",
                ErrorClass::UnauthorizedAppPasswordRequired,
                Detail::AppPasswordRequired,
            ),
            (
                "NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)",
                ErrorClass::Unauthorized,
                Detail::WebLoginRequired,
            ),
            (
                "NO [UNAVAILABLE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=16)",
                ErrorClass::ImapAuthenticationError,
                Detail::TooManyConnections,
            ),
            (
                "NO [ALERT] Too many simultaneous connections. (Failure)",
                ErrorClass::ImapAuthenticationError,
                Detail::TooManyConnections,
            ),
            (
                "NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
                ErrorClass::ImapValidationError,
                Detail::TlsRequired,
            ),
            (
                "NO STARTTLS required",
                ErrorClass::ImapValidationError,
                Detail::TlsRequired,
            ),
            (
                "NO [ALERT] Your account is not enabled for IMAP use.",
                ErrorClass::ImapAuthenticationError,
                Detail::ImapDisabled,
            ),
            (
                "NO Basic authentication is disabled.",
                ErrorClass::ImapAuthenticationError,
                Detail::ImapDisabled,
            ),
            (
                "NO [CONTACTADMIN] Login from this address is not allowed.",
                ErrorClass::ImapAuthenticationError,
                Detail::AddressNotAllowed,
            ),
            (
                "NO [UNAVAILABLE] Temporary authentication failure.",
                ErrorClass::ImapAuthenticationError,
                Detail::Unavailable,
            ),
            (
                "NO Server Unavailable. 15",
                ErrorClass::ImapAuthenticationError,
                Detail::Unavailable,
            ),
            (
                "NO [AUTHENTICATIONFAILED] Authentication failed.",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                "NO Login failed.",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                "NO LOGIN failed.",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                "NO Incorrect username or password.",
                ErrorClass::Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                "NO something else entirely",
                ErrorClass::ImapAuthenticationError,
                Detail::Unspecified,
            ),
        ];
        for (reply, class, detail) in cases {
            assert_eq!(login_refusal(reply), (class, detail), "{reply}");
        }
    }
}
