//! The SASL PLAIN and LOGIN exchanges (RFC 4616, and the de-facto LOGIN) that IMAP
//! AUTHENTICATE and SMTP AUTH share. Each side wraps the challenges in its own syntax
//! (`+ ` in IMAP, `334 ` in SMTP).

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

/// The next move of an exchange.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SaslStep {
    /// Send this challenge (already base64) and wait for a response line.
    Challenge(&'static str),
    Done(Credentials),
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    Plain,
    Login,
}

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
            _ => return None,
        };
        let mut exchange = SaslExchange {
            mechanism,
            username: None,
        };
        let step = match (mechanism, initial) {
            (Mechanism::Plain, None) => SaslStep::Challenge(""),
            (Mechanism::Login, None) => SaslStep::Challenge(LOGIN_USERNAME),
            (_, Some(initial)) => exchange.respond(initial),
        };
        Some((exchange, step))
    }

    /// Takes the client's response line (base64, `=` for empty, `*` to cancel).
    pub(crate) fn respond(&mut self, line: &[u8]) -> SaslStep {
        let line = line.trim_ascii();
        if line == b"*" {
            return SaslStep::Cancelled;
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
                        SaslStep::Done(Credentials {
                            login: login.to_owned(),
                            password: password.to_owned(),
                        })
                    }
                    _ => SaslStep::Malformed,
                }
            }
            Mechanism::Login => match self.username.take() {
                None => {
                    self.username = Some(text);
                    SaslStep::Challenge(LOGIN_PASSWORD)
                }
                Some(login) => SaslStep::Done(Credentials {
                    login,
                    password: text,
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        STANDARD.encode(s).into_bytes()
    }

    fn creds(login: &str, password: &str) -> SaslStep {
        SaslStep::Done(Credentials {
            login: login.into(),
            password: password.into(),
        })
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
    fn debug_hides_the_password() {
        let step = creds("alice", "hunter2");
        assert!(!format!("{step:?}").contains("hunter2"));
    }
}
