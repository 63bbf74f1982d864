//! The client side of the two SASL mechanisms that carry an OAuth 2.0 bearer token, for
//! IMAP AUTHENTICATE and SMTP AUTH alike: XOAUTH2 (Google's and Microsoft's) and OAUTHBEARER
//! (RFC 7628). A server refusing a token may first send an error challenge, base64 JSON
//! such as Gmail's `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`,
//! which the client answers (XOAUTH2 with an empty line, OAUTHBEARER with `AQ==`, a lone
//! 0x01) before the refusal comes; what the challenge names decides the detail.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::outcome::Detail;

/// A mechanism that carries a bearer token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BearerMechanism {
    Xoauth2,
    Oauthbearer,
}

impl BearerMechanism {
    /// The one to use among a server's mechanisms: XOAUTH2, which every provider with
    /// OAuth offers, else OAUTHBEARER.
    pub(crate) fn choose<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let offered: Vec<&str> = offered.into_iter().collect();
        let has = |name: &str| offered.iter().any(|m| m.eq_ignore_ascii_case(name));
        if has("XOAUTH2") {
            Some(BearerMechanism::Xoauth2)
        } else if has("OAUTHBEARER") {
            Some(BearerMechanism::Oauthbearer)
        } else {
            None
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            BearerMechanism::Xoauth2 => "XOAUTH2",
            BearerMechanism::Oauthbearer => "OAUTHBEARER",
        }
    }

    /// The initial response, base64, for `user` with `token` at `host`:`port`.
    pub(crate) fn payload(self, user: &str, token: &str, host: &str, port: u16) -> String {
        let text = match self {
            BearerMechanism::Xoauth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
            BearerMechanism::Oauthbearer => {
                // RFC 5801: `,` and `=` in the name are written =2C and =3D.
                let name = user.replace('=', "=3D").replace(',', "=2C");
                format!("n,a={name},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
            }
        };
        STANDARD.encode(text)
    }

    /// The answer to an error challenge.
    pub(crate) fn error_answer(self) -> &'static str {
        match self {
            BearerMechanism::Xoauth2 => "",
            BearerMechanism::Oauthbearer => "AQ==",
        }
    }
}

/// The detail of a refused token: `insufficient-scope` when the server's error challenge
/// names a scope the token was not granted, else `token-rejected`. A challenge whose status
/// says the token itself is bad (RFC 6750 §3.1: `invalid_token`, HTTP `401`) is
/// `token-rejected` whatever scope it names: Dovecot's XOAUTH2 challenge always names
/// `mail` (containers/captures/dovecot-postfix-bearer.txt). `granted` is none for a token
/// whose scopes the connector does not know.
pub fn refusal_detail(challenge: Option<&str>, granted: Option<&[String]>) -> Detail {
    let json = challenge
        .and_then(|challenge| STANDARD.decode(challenge.trim()).ok())
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok());
    // A field as text; a status may be written as a number (`401`).
    let field = |name: &str| match json.as_ref()?.get(name)? {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    if matches!(field("status").as_deref(), Some("401" | "invalid_token")) {
        return Detail::TokenRejected;
    }
    match (field("scope"), granted) {
        (Some(required), Some(granted))
            if required
                .split_whitespace()
                .any(|scope| !granted.iter().any(|g| g == scope)) =>
        {
            Detail::InsufficientScope
        }
        _ => Detail::TokenRejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_the_mechanisms_forms() {
        let x = BearerMechanism::Xoauth2.payload("a@b", "tok", "localhost", 993);
        assert_eq!(
            STANDARD.decode(x).unwrap(),
            b"user=a@b\x01auth=Bearer tok\x01\x01"
        );
        let o = BearerMechanism::Oauthbearer.payload("a,=b", "tok", "localhost", 993);
        assert_eq!(
            STANDARD.decode(o).unwrap(),
            b"n,a=a=2C=3Db,\x01host=localhost\x01port=993\x01auth=Bearer tok\x01\x01"
        );
        assert_eq!(
            BearerMechanism::choose(["PLAIN", "OAUTHBEARER", "XOAUTH2"]),
            Some(BearerMechanism::Xoauth2)
        );
        assert_eq!(
            BearerMechanism::choose(["oauthbearer"]),
            Some(BearerMechanism::Oauthbearer)
        );
        assert_eq!(BearerMechanism::choose(["PLAIN", "LOGIN"]), None);
    }

    #[test]
    fn a_challenge_naming_a_scope_not_granted_is_insufficient_scope() {
        let gmail = "eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==";
        let readonly = ["https://www.googleapis.com/auth/gmail.readonly".to_owned()];
        let mail = ["https://mail.google.com/".to_owned()];
        assert_eq!(
            refusal_detail(Some(gmail), Some(&readonly)),
            Detail::InsufficientScope
        );
        assert_eq!(
            refusal_detail(Some(gmail), Some(&mail)),
            Detail::TokenRejected
        );
        assert_eq!(refusal_detail(Some(gmail), None), Detail::TokenRejected);
        assert_eq!(refusal_detail(None, Some(&readonly)), Detail::TokenRejected);
        assert_eq!(
            refusal_detail(Some("!!"), Some(&readonly)),
            Detail::TokenRejected
        );
    }

    #[test]
    fn a_challenge_saying_the_token_is_bad_is_token_rejected_whatever_its_scope() {
        // Dovecot's XOAUTH2 challenge, {"status":"401","schemes":"bearer","scope":"mail"}, and
        // RFC 7628's OAUTHBEARER one, {"status":"invalid_token"}; "mail" is granted to no token.
        let granted = ["https://mail.google.com/".to_owned()];
        for challenge in [
            "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=",
            "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=",
        ] {
            assert_eq!(
                refusal_detail(Some(challenge), Some(&granted)),
                Detail::TokenRejected
            );
        }
        // The same scope under a status that does not say so is a scope the token lacks.
        let forbidden = STANDARD.encode(r#"{"status":"403","scope":"mail"}"#);
        assert_eq!(
            refusal_detail(Some(&forbidden), Some(&granted)),
            Detail::InsufficientScope
        );
    }
}
