//! The access tokens a mock authorization server issued, shared with the mail mocks of the
//! same scenario, which check an XOAUTH2 or OAUTHBEARER bearer against them: issued here,
//! not expired, for the user who logs in, with the scope the mail server requires.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One issued access token.
#[derive(Clone, Debug)]
struct Issued {
    user: String,
    scopes: Vec<String>,
    expires: Instant,
}

/// Why a mail server refuses a bearer token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Not a token the authorization server issued (made up, or from another run).
    Unknown,
    /// Issued, but its lifetime is over.
    Expired,
    /// Issued to another user than the one logging in.
    OtherUser,
    /// Issued without the scope this server requires.
    MissingScope,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejection::Unknown => "unknown token",
            Rejection::Expired => "expired token",
            Rejection::OtherUser => "token of another user",
            Rejection::MissingScope => "token without the required scope",
        })
    }
}

/// The tokens of one authorization server. Clones share them; two stores are equal when
/// they are the same store.
#[derive(Clone, Default)]
pub struct Tokens {
    issued: Arc<Mutex<HashMap<String, Issued>>>,
}

impl PartialEq for Tokens {
    fn eq(&self, other: &Tokens) -> bool {
        Arc::ptr_eq(&self.issued, &other.issued)
    }
}

impl Eq for Tokens {}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The tokens themselves are secrets: only how many there are.
        let count = self.issued.lock().map(|issued| issued.len()).unwrap_or(0);
        write!(f, "Tokens({count} issued)")
    }
}

impl Tokens {
    /// Issues a token for `user` with `scopes`, valid for `lifetime` (zero: already
    /// expired, as a token a client kept too long).
    pub fn issue(&self, user: &str, scopes: &[String], lifetime: Duration) -> String {
        let token = format!("mh-at-{}", random_hex(24));
        let issued = Issued {
            user: user.to_owned(),
            scopes: scopes.to_vec(),
            expires: Instant::now() + lifetime,
        };
        self.issued
            .lock()
            .expect("tokens lock")
            .insert(token.clone(), issued);
        token
    }

    /// Whether `token` lets `user` in where `scope` is required (any user of the token
    /// when `user` is none: OAUTHBEARER may name none). The token's user when it does.
    pub fn check(&self, token: &str, user: Option<&str>, scope: &str) -> Result<String, Rejection> {
        let issued = self.issued.lock().expect("tokens lock");
        let Some(found) = issued.get(token) else {
            return Err(Rejection::Unknown);
        };
        if Instant::now() >= found.expires {
            return Err(Rejection::Expired);
        }
        if user.is_some_and(|user| !found.user.eq_ignore_ascii_case(user)) {
            return Err(Rejection::OtherUser);
        }
        if !found.scopes.iter().any(|granted| granted == scope) {
            return Err(Rejection::MissingScope);
        }
        Ok(found.user.clone())
    }

    /// RFC 7662 introspection: the token's user, scopes and expiry (seconds since the
    /// epoch) when it is active.
    pub fn introspect(&self, token: &str) -> Option<(String, Vec<String>, u64)> {
        let issued = self.issued.lock().expect("tokens lock");
        let found = issued.get(token)?;
        let left = found.expires.checked_duration_since(Instant::now())?;
        if left.is_zero() {
            return None;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Some((
            found.user.clone(),
            found.scopes.clone(),
            (now + left).as_secs(),
        ))
    }
}

/// `bytes` random bytes from the operating system (through rustls's ring provider), in hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut buf)
        .expect("the operating system's random source");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &str = "https://mail.google.com/";

    #[test]
    fn a_token_is_checked_for_issue_expiry_user_and_scope() {
        let tokens = Tokens::default();
        let good = tokens.issue("alice@example.com", &[MAIL.into()], Duration::from_secs(60));
        let alice = Ok("alice@example.com".to_owned());
        assert_eq!(tokens.check(&good, Some("alice@example.com"), MAIL), alice);
        assert_eq!(tokens.check(&good, Some("ALICE@example.com"), MAIL), alice);
        assert_eq!(tokens.check(&good, None, MAIL), alice);
        assert_eq!(
            tokens.check(&good, Some("mallory@example.com"), MAIL),
            Err(Rejection::OtherUser)
        );
        assert_eq!(
            tokens.check(&good, Some("alice@example.com"), "https://other/"),
            Err(Rejection::MissingScope)
        );
        assert_eq!(
            tokens.check("mh-at-made-up", Some("alice@example.com"), MAIL),
            Err(Rejection::Unknown)
        );
        let old = tokens.issue("alice@example.com", &[MAIL.into()], Duration::ZERO);
        assert_eq!(
            tokens.check(&old, Some("alice@example.com"), MAIL),
            Err(Rejection::Expired)
        );
        assert!(tokens.introspect(&old).is_none());
        let (user, scopes, _) = tokens.introspect(&good).unwrap();
        assert_eq!(
            (user.as_str(), scopes),
            ("alice@example.com", vec![MAIL.to_owned()])
        );
    }

    #[test]
    fn tokens_differ_and_never_print() {
        let tokens = Tokens::default();
        let a = tokens.issue("a", &[], Duration::from_secs(1));
        let b = tokens.issue("a", &[], Duration::from_secs(1));
        assert_ne!(a, b);
        assert!(!format!("{tokens:?}").contains(&a));
        assert_eq!(tokens.clone(), tokens);
        assert_ne!(Tokens::default(), tokens);
    }
}
