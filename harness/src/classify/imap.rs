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

/// The response code a reply starts with (`NO [UNAVAILABLE] …` gives `UNAVAILABLE`), in
/// upper case; Gmail puts `[THROTTLED]` at the end of its text, which counts too.
pub fn response_code(reply: &str) -> Option<String> {
    let text = reply.trim_start().to_ascii_uppercase();
    let text = ["NO ", "BAD ", "OK ", "BYE ", "* BYE ", "* NO "]
        .iter()
        .find_map(|status| text.strip_prefix(status))
        .unwrap_or(&text)
        .trim_start();
    if text.ends_with("[THROTTLED]") || text.contains("[THROTTLED] ") {
        return Some("THROTTLED".to_owned());
    }
    let inner = text.strip_prefix('[')?;
    let end = inner.find([']', ' '])?;
    Some(inner[..end].to_ascii_uppercase())
}

/// The class and detail an RFC 5530 response code (or Gmail's `THROTTLED`) means wherever
/// it comes, before or after login; `None` for a code that says nothing about why (ALERT,
/// CAPABILITY, ALREADYEXISTS, EXPUNGEISSUED, …). `text` refines LIMIT (a connection limit
/// or a rate limit) and CONTACTADMIN (an address not allowed).
pub fn code_refusal(code: &str, text: &str) -> Option<(ErrorClass, Detail)> {
    use ErrorClass::{ImapAuthenticationError as AuthError, ImapValidationError, Unauthorized};
    let lower = text.to_ascii_lowercase();
    Some(match code {
        "AUTHENTICATIONFAILED" => (Unauthorized, Detail::WrongCredentials),
        "AUTHORIZATIONFAILED" => (Unauthorized, Detail::AuthorizationFailed),
        "EXPIRED" => (Unauthorized, Detail::CredentialsExpired),
        "PRIVACYREQUIRED" => (ImapValidationError, Detail::TlsRequired),
        "CONTACTADMIN" if lower.contains("from this address is not allowed") => {
            (AuthError, Detail::AddressNotAllowed)
        }
        "CONTACTADMIN" => (AuthError, Detail::ContactAdmin),
        "UNAVAILABLE" if lower.contains("maximum number of connections") => {
            (AuthError, Detail::TooManyConnections)
        }
        "UNAVAILABLE" => (AuthError, Detail::TemporarilyUnavailable),
        "LIMIT" if lower.contains("connections") => (AuthError, Detail::TooManyConnections),
        "LIMIT" | "THROTTLED" => (AuthError, Detail::TemporarilyRateLimited),
        "OVERQUOTA" => (AuthError, Detail::OverQuota),
        "INUSE" => (AuthError, Detail::TemporarilyInUse),
        "NOPERM" => (AuthError, Detail::NoPermission),
        "SERVERBUG" => (AuthError, Detail::ServerBug),
        "CLIENTBUG" => (AuthError, Detail::ClientBug),
        "CANNOT" => (AuthError, Detail::ServerCannot),
        "CORRUPTION" => (AuthError, Detail::MailboxCorrupt),
        "NONEXISTENT" => (AuthError, Detail::NoSuchMailbox),
        _ => return None,
    })
}

/// The response codes of RFC 5530 (and RFC 9051), with Gmail's THROTTLED, in the order
/// `docs/outcomes.md` lists them.
pub const CODES: &[&str] = &[
    "AUTHENTICATIONFAILED",
    "AUTHORIZATIONFAILED",
    "EXPIRED",
    "PRIVACYREQUIRED",
    "CONTACTADMIN",
    "UNAVAILABLE",
    "LIMIT",
    "THROTTLED",
    "OVERQUOTA",
    "INUSE",
    "NOPERM",
    "SERVERBUG",
    "CLIENTBUG",
    "CANNOT",
    "CORRUPTION",
    "NONEXISTENT",
    "ALREADYEXISTS",
    "EXPUNGEISSUED",
];

/// The Markdown table of what each code means, as `docs/outcomes.md` has it.
pub fn code_table() -> String {
    let mut table = String::from("| code | class | detail |\n|---|---|---|\n");
    for code in CODES {
        let (class, detail) = match code_refusal(code, "") {
            Some((class, detail)) => (format!("`{class}`"), format!("`{detail}`")),
            None => (
                "as without a code".to_owned(),
                "the text's at LOGIN; `select-failed` or `list-failed` after it".to_owned(),
            ),
        };
        table.push_str(&format!("| `{code}` | {class} | {detail} |\n"));
    }
    table
}

/// Class and detail of a refused LOGIN/AUTHENTICATE, from the server's reply (status,
/// response code and text as sent). A response code decides where there is one; without,
/// the providers' exact phrases do (docs/provider-replies.md), never a lone word.
pub fn login_refusal(reply: &str) -> (ErrorClass, Detail) {
    if let Some(found) = response_code(reply).and_then(|code| code_refusal(&code, reply)) {
        return found;
    }
    let text = reply.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|needle| text.contains(needle));
    if has(&[
        "application-specific password required",
        "app password",
        "invalidsecondfactor",
    ]) {
        (
            ErrorClass::UnauthorizedAppPasswordRequired,
            Detail::AppPasswordRequired,
        )
    } else if has(&["web login required", "please log in via your web browser"]) {
        (ErrorClass::Unauthorized, Detail::WebLoginRequired)
    } else if has(&[
        "maximum number of connections",
        "too many simultaneous connections",
    ]) {
        (
            ErrorClass::ImapAuthenticationError,
            Detail::TooManyConnections,
        )
    } else if has(&[
        "starttls required",
        "plaintext authentication disallowed",
        "cleartext authentication disallowed",
    ]) {
        (ErrorClass::ImapValidationError, Detail::TlsRequired)
    } else if has(&[
        "not enabled for imap use",
        "imap access is disabled",
        "basic authentication is disabled",
    ]) {
        (ErrorClass::ImapAuthenticationError, Detail::ImapDisabled)
    } else if has(&["from this address is not allowed"]) {
        (
            ErrorClass::ImapAuthenticationError,
            Detail::AddressNotAllowed,
        )
    } else if has(&[
        "server unavailable.",
        "temporary authentication failure",
        "temporary problem, please try again later",
    ]) {
        (
            ErrorClass::ImapAuthenticationError,
            Detail::TemporarilyUnavailable,
        )
    } else if has(&[
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

/// Class and detail of a command refused in a session after a good login (ID, LIST,
/// SELECT of INBOX or Sent): SPEC's "login failed for another reason", at `imap-login`,
/// with `refused` naming the command, unless a response code says more.
pub fn session_refusal(reply: &str, refused: Detail) -> (ErrorClass, Detail) {
    response_code(reply)
        .and_then(|code| code_refusal(&code, reply))
        .unwrap_or((ErrorClass::ImapAuthenticationError, refused))
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
                Detail::TemporarilyUnavailable,
            ),
            (
                "NO Server Unavailable. 15",
                ErrorClass::ImapAuthenticationError,
                Detail::TemporarilyUnavailable,
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

    /// Every RFC 5530 code, with the providers' texts where they have one; the code
    /// decides whatever the text says.
    #[test]
    fn response_codes_decide() {
        use ErrorClass::{ImapAuthenticationError as AuthError, ImapValidationError, Unauthorized};
        let cases = [
            (
                "NO [AUTHENTICATIONFAILED] LOGIN Invalid credentials",
                Unauthorized,
                Detail::WrongCredentials,
            ),
            (
                "NO [AUTHORIZATIONFAILED] No such authorization-ID",
                Unauthorized,
                Detail::AuthorizationFailed,
            ),
            (
                "NO [EXPIRED] That password is no longer valid",
                Unauthorized,
                Detail::CredentialsExpired,
            ),
            (
                "NO [PRIVACYREQUIRED] Connection offers no privacy",
                ImapValidationError,
                Detail::TlsRequired,
            ),
            (
                "NO [CONTACTADMIN] You must contact the administrator",
                AuthError,
                Detail::ContactAdmin,
            ),
            (
                "NO [UNAVAILABLE] Account is temporarily unavailable.",
                AuthError,
                Detail::TemporarilyUnavailable,
            ),
            (
                "NO [UNAVAILABLE] UID FETCH Service is temporarily not available",
                AuthError,
                Detail::TemporarilyUnavailable,
            ),
            (
                "NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)",
                AuthError,
                Detail::TooManyConnections,
            ),
            (
                "NO [LIMIT] CAPABILITY Rate limit hit.",
                AuthError,
                Detail::TemporarilyRateLimited,
            ),
            (
                "NO Too many commands Success [THROTTLED]",
                AuthError,
                Detail::TemporarilyRateLimited,
            ),
            (
                "NO [OVERQUOTA] Account exceeded command or bandwidth limits.",
                AuthError,
                Detail::OverQuota,
            ),
            (
                "NO [INUSE] Mailbox in use",
                AuthError,
                Detail::TemporarilyInUse,
            ),
            ("NO [NOPERM] Access denied", AuthError, Detail::NoPermission),
            (
                "NO [SERVERBUG] UID SEARCH Server error",
                AuthError,
                Detail::ServerBug,
            ),
            (
                "BAD [CLIENTBUG] SELECT Command is not valid in this state",
                AuthError,
                Detail::ClientBug,
            ),
            (
                "NO [CANNOT] Invalid mailbox name",
                AuthError,
                Detail::ServerCannot,
            ),
            (
                "NO [CORRUPTION] Mailbox is corrupt",
                AuthError,
                Detail::MailboxCorrupt,
            ),
            (
                "NO [NONEXISTENT] Mailbox doesn't exist: Sent",
                AuthError,
                Detail::NoSuchMailbox,
            ),
            // A code that gives no reason leaves it to the text.
            (
                "NO [ALERT] Invalid credentials (Failure)",
                Unauthorized,
                Detail::WrongCredentials,
            ),
        ];
        for (reply, class, detail) in cases {
            assert_eq!(login_refusal(reply), (class, detail), "{reply}");
        }
        assert_eq!(
            session_refusal(
                "BAD User is authenticated but not connected.",
                Detail::SelectFailed
            ),
            (AuthError, Detail::SelectFailed)
        );
        assert_eq!(
            session_refusal(
                "NO [NONEXISTENT] Unknown Mailbox: Sent",
                Detail::SelectFailed
            ),
            (AuthError, Detail::NoSuchMailbox)
        );
        assert_eq!(
            response_code("OK Success [THROTTLED]").as_deref(),
            Some("THROTTLED")
        );
        assert_eq!(response_code("NO nothing"), None);
    }

    /// `docs/outcomes.md` holds [`code_table`] between its markers;
    /// `MAILHARNESS_UPDATE_DOCS=1` writes it there.
    #[test]
    fn the_docs_list_every_code() {
        crate::generated_docs::check_table(
            "outcomes.md",
            "codes: generated from harness/src/classify/imap.rs",
            "end of codes",
            &code_table(),
        );
    }

    /// A lone word is no reason: a host name with "invalid" in it, "temporary" anywhere.
    #[test]
    fn no_lone_words() {
        for reply in [
            "NO imap.nope.invalid is not known here",
            "NO something temporary happened",
            "NO unavailable",
        ] {
            assert_eq!(
                login_refusal(reply),
                (ErrorClass::ImapAuthenticationError, Detail::Unspecified),
                "{reply}"
            );
        }
    }
}
