//! The SASL exchanges that IMAP AUTHENTICATE and SMTP AUTH share: PLAIN (RFC 4616), the
//! de-facto LOGIN, and the two bearer-token mechanisms, Google's and Microsoft's XOAUTH2 and
//! OAUTHBEARER (RFC 7628). Each side wraps the challenges in its own syntax (`+ ` in IMAP,
//! `334 ` in SMTP).
//!
//! A refused bearer token may be answered with an error challenge first (Gmail's base64
//! JSON, RFC 7628's `{"status": …}`): the client answers it with one more line (empty, or
//! `AQ==` for OAUTHBEARER), and only then comes the refusal ([`SaslExchange::refuse_after`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// What a client proved, once an exchange is complete.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({:?}, <redacted>)", self.login)
    }
}

/// A bearer token a client presented, for a user.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Bearer {
    /// The user the client names (`user=` of XOAUTH2, `a=` of OAUTHBEARER; empty when an
    /// OAUTHBEARER client names none).
    pub login: String,
    pub token: String,
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bearer({:?}, <redacted>)", self.login)
    }
}

/// What a completed exchange proved: a password or a bearer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Proof {
    Password(Credentials),
    Bearer(Bearer),
}

/// How a login's credentials checked out, whichever command carried them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Known,
    WrongPassword,
    /// A bearer token that is unknown, expired, another user's or without the scope.
    BadToken,
}

/// The next move of an exchange.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SaslStep {
    /// Send this challenge (already base64) and wait for a response line.
    Challenge(&'static str),
    Done(Proof),
    /// The client answered the error challenge of a refused token: send the refusal.
    Refused,
    /// The client sent `*`.
    Cancelled,
    /// The response was not valid base64 or not the mechanism's shape.
    Malformed,
}

/// One running exchange.
#[derive(Debug)]
pub(crate) struct SaslExchange {
    mechanism: Mechanism,
    username: Option<String>,
    /// An error challenge went out: the next line ends the exchange with the refusal.
    failing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    Plain,
    Login,
    Xoauth2,
    Oauthbearer,
}

/// RFC 7628 §3.2.2's error challenge, for a server with no words of its own:
/// `{"status":"invalid_token"}`.
pub(crate) const OAUTHBEARER_ERROR: &str = "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=";

const LOGIN_USERNAME: &str = "VXNlcm5hbWU6"; // "Username:"
const LOGIN_PASSWORD: &str = "UGFzc3dvcmQ6"; // "Password:"

impl SaslExchange {
    /// Starts `mechanism` (case-insensitive) with an optional initial response. `None` when
    /// the mechanism is not one we offer.
    pub(crate) fn start(
        mechanism: &str,
        initial: Option<&[u8]>,
    ) -> Option<(SaslExchange, SaslStep)> {
        let mechanism = match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" => Mechanism::Plain,
            "LOGIN" => Mechanism::Login,
            "XOAUTH2" => Mechanism::Xoauth2,
            "OAUTHBEARER" => Mechanism::Oauthbearer,
            _ => return None,
        };
        let mut exchange = SaslExchange {
            mechanism,
            username: None,
            failing: false,
        };
        let step = match (mechanism, initial) {
            (Mechanism::Plain | Mechanism::Xoauth2 | Mechanism::Oauthbearer, None) => {
                SaslStep::Challenge("")
            }
            (Mechanism::Login, None) => SaslStep::Challenge(LOGIN_USERNAME),
            (_, Some(initial)) => exchange.respond(initial),
        };
        Some((exchange, step))
    }

    /// After a refused bearer token: the error challenge to send before the refusal, when
    /// there is one (for XOAUTH2 the server's `own`; for OAUTHBEARER RFC 7628 §3.2.2's,
    /// which it requires, as Dovecot sends it). The client's next line, whatever it is, then
    /// ends the exchange with [`SaslStep::Refused`]. None: refuse at once.
    pub(crate) fn refuse_token(&mut self, own: Option<&'static str>) -> Option<SaslStep> {
        let challenge = match self.mechanism {
            Mechanism::Oauthbearer => Some(OAUTHBEARER_ERROR),
            _ => own,
        }?;
        self.failing = true;
        Some(SaslStep::Challenge(challenge))
    }

    /// Takes the client's response line (base64, `=` for empty, `*` to cancel).
    pub(crate) fn respond(&mut self, line: &[u8]) -> SaslStep {
        let line = line.trim_ascii();
        // A cancel ends the exchange even after an error challenge, as Dovecot and Postfix
        // answer it (containers/captures/README.md).
        if line == b"*" {
            return SaslStep::Cancelled;
        }
        if self.failing {
            return SaslStep::Refused;
        }
        let decoded = if line == b"=" {
            Vec::new()
        } else {
            match STANDARD.decode(line) {
                Ok(bytes) => bytes,
                Err(_) => return SaslStep::Malformed,
            }
        };
        let Ok(text) = String::from_utf8(decoded) else {
            return SaslStep::Malformed;
        };
        match self.mechanism {
            Mechanism::Plain => {
                let mut parts = text.split('\0');
                match (parts.next(), parts.next(), parts.next(), parts.next()) {
                    (Some(_authzid), Some(login), Some(password), None) if !login.is_empty() => {
                        SaslStep::Done(Proof::Password(Credentials {
                            login: login.to_owned(),
                            password: password.to_owned(),
                        }))
                    }
                    _ => SaslStep::Malformed,
                }
            }
            Mechanism::Login => match self.username.take() {
                None => {
                    self.username = Some(text);
                    SaslStep::Challenge(LOGIN_PASSWORD)
                }
                Some(login) => SaslStep::Done(Proof::Password(Credentials {
                    login,
                    password: text,
                })),
            },
            Mechanism::Xoauth2 => xoauth2(&text).map_or(SaslStep::Malformed, SaslStep::Done),
            Mechanism::Oauthbearer => {
                oauthbearer(&text).map_or(SaslStep::Malformed, SaslStep::Done)
            }
        }
    }
}

/// The token of `auth=Bearer <token>` among `\x01`-separated pairs.
fn bearer_token<'a>(mut pairs: impl Iterator<Item = &'a str>) -> Option<String> {
    let auth = pairs.find_map(|pair| pair.strip_prefix("auth="))?;
    let (scheme, token) = auth.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// XOAUTH2: `user=<user>\x01auth=Bearer <token>\x01\x01` (Google's and Microsoft's form).
fn xoauth2(text: &str) -> Option<Proof> {
    let body = text.strip_suffix("\x01\x01")?;
    let mut pairs = body.split('\x01');
    let login = pairs.next()?.strip_prefix("user=")?.to_owned();
    let token = bearer_token(pairs)?;
    (!login.is_empty()).then_some(Proof::Bearer(Bearer { login, token }))
}

/// OAUTHBEARER (RFC 7628 §3.1): a GS2 header `n,a=<user>,` then `\x01`-separated pairs
/// with `auth=Bearer <token>`, ending `\x01\x01`.
fn oauthbearer(text: &str) -> Option<Proof> {
    let body = text.strip_suffix("\x01\x01")?;
    let (gs2, pairs) = body.split_once('\x01')?;
    let mut header = gs2.split(',');
    if !matches!(header.next()?, "n" | "y") {
        return None;
    }
    // RFC 5801: `,` and `=` in the name are written =2C and =3D.
    let login = match header.next()? {
        "" => String::new(),
        named => named
            .strip_prefix("a=")?
            .replace("=2C", ",")
            .replace("=3D", "="),
    };
    let token = bearer_token(pairs.split('\x01'))?;
    Some(Proof::Bearer(Bearer { login, token }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        STANDARD.encode(s).into_bytes()
    }

    fn creds(login: &str, password: &str) -> SaslStep {
        SaslStep::Done(Proof::Password(Credentials {
            login: login.into(),
            password: password.into(),
        }))
    }

    fn bearer(login: &str, token: &str) -> SaslStep {
        SaslStep::Done(Proof::Bearer(Bearer {
            login: login.into(),
            token: token.into(),
        }))
    }

    #[test]
    fn xoauth2_with_and_without_initial_response() {
        let payload = b64("user=alice@example.com\x01auth=Bearer ya29.tok\x01\x01");
        let (_, step) = SaslExchange::start("XOAUTH2", Some(&payload)).unwrap();
        assert_eq!(step, bearer("alice@example.com", "ya29.tok"));
        let (mut exchange, step) = SaslExchange::start("xoauth2", None).unwrap();
        assert_eq!(step, SaslStep::Challenge(""));
        assert_eq!(
            exchange.respond(&payload),
            bearer("alice@example.com", "ya29.tok")
        );
        for bad in [
            "user=alice\x01auth=Bearer tok\x01",
            "auth=Bearer tok\x01\x01",
            "user=alice\x01auth=Basic tok\x01\x01",
            "user=\x01auth=Bearer tok\x01\x01",
        ] {
            let (_, step) = SaslExchange::start("XOAUTH2", Some(&b64(bad))).unwrap();
            assert_eq!(step, SaslStep::Malformed, "{bad:?}");
        }
    }

    #[test]
    fn oauthbearer_reads_the_gs2_header_and_the_pairs() {
        let payload = b64(
            "n,a=a=3Db=2Cc@example.com,\x01host=localhost\x01port=993\x01auth=Bearer tok\x01\x01",
        );
        let (_, step) = SaslExchange::start("OAUTHBEARER", Some(&payload)).unwrap();
        assert_eq!(step, bearer("a=b,c@example.com", "tok"));
        let anonymous = b64("n,,\x01auth=Bearer tok\x01\x01");
        let (_, step) = SaslExchange::start("OAUTHBEARER", Some(&anonymous)).unwrap();
        assert_eq!(step, bearer("", "tok"));
        let (_, step) =
            SaslExchange::start("OAUTHBEARER", Some(&b64("p=x,,\x01auth=Bearer t\x01\x01")))
                .unwrap();
        assert_eq!(step, SaslStep::Malformed);
    }

    #[test]
    fn a_refused_token_waits_for_the_answer_to_its_error_challenge() {
        let payload = b64("user=alice\x01auth=Bearer tok\x01\x01");
        let (mut exchange, _) = SaslExchange::start("XOAUTH2", Some(&payload)).unwrap();
        assert_eq!(exchange.refuse_token(None), None);
        assert_eq!(
            exchange.refuse_token(Some("eyJ9")),
            Some(SaslStep::Challenge("eyJ9"))
        );
        assert_eq!(exchange.respond(b""), SaslStep::Refused);
        let payload = b64("n,,\x01auth=Bearer tok\x01\x01");
        let (mut exchange, _) = SaslExchange::start("OAUTHBEARER", Some(&payload)).unwrap();
        assert_eq!(
            exchange.refuse_token(None),
            Some(SaslStep::Challenge(OAUTHBEARER_ERROR))
        );
        assert_eq!(exchange.respond(b"AQ=="), SaslStep::Refused);
        assert_eq!(
            STANDARD.decode(OAUTHBEARER_ERROR).unwrap(),
            br#"{"status":"invalid_token"}"#
        );
        // OAUTHBEARER gets RFC 7628's challenge whatever the server's own, and a `*` after
        // it cancels.
        let (mut exchange, _) = SaslExchange::start("OAUTHBEARER", Some(&payload)).unwrap();
        assert_eq!(
            exchange.refuse_token(Some("eyJ9")),
            Some(SaslStep::Challenge(OAUTHBEARER_ERROR))
        );
        assert_eq!(exchange.respond(b"*"), SaslStep::Cancelled);
    }

    #[test]
    fn plain_with_and_without_initial_response() {
        let (_, step) = SaslExchange::start("plain", Some(&b64("\0alice\0pw"))).unwrap();
        assert_eq!(step, creds("alice", "pw"));
        let (mut exchange, step) = SaslExchange::start("PLAIN", None).unwrap();
        assert_eq!(step, SaslStep::Challenge(""));
        assert_eq!(
            exchange.respond(&b64("admin\0alice\0pw")),
            creds("alice", "pw")
        );
    }

    #[test]
    fn login_asks_username_then_password() {
        let (mut exchange, step) = SaslExchange::start("LOGIN", None).unwrap();
        assert_eq!(step, SaslStep::Challenge(LOGIN_USERNAME));
        assert_eq!(
            exchange.respond(&b64("alice")),
            SaslStep::Challenge(LOGIN_PASSWORD)
        );
        assert_eq!(exchange.respond(&b64("pw")), creds("alice", "pw"));
    }

    #[test]
    fn cancel_garbage_and_unknown_mechanisms() {
        let (mut exchange, _) = SaslExchange::start("PLAIN", None).unwrap();
        assert_eq!(exchange.respond(b"*"), SaslStep::Cancelled);
        assert_eq!(exchange.respond(b"!!!"), SaslStep::Malformed);
        assert_eq!(exchange.respond(&b64("no separators")), SaslStep::Malformed);
        assert!(SaslExchange::start("CRAM-MD5", None).is_none());
    }

    #[test]
    fn debug_hides_the_password_and_the_token() {
        let step = creds("alice", "hunter2");
        assert!(!format!("{step:?}").contains("hunter2"));
        let step = bearer("alice", "ya29.secret");
        assert!(!format!("{step:?}").contains("ya29.secret"));
    }
}
