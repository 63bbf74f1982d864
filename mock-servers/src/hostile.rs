//! Hostile servers: what no well-behaved server sends, for the catalogue under
//! `scenarios/hostile/`. A rule replaces the greeting or the reply to a command (or follows
//! that reply) with raw bytes: without CRLF, with NUL or non-UTF-8 bytes, codes outside
//! 200–599, a line repeated N times or forever; then the server goes on, closes, or falls
//! silent. Trickling (a few bytes a second) is a network fault ([`crate::Faults`]).
//!
//! ```toml
//! [[smtp.hostile]]
//! at = "ehlo"                   # greeting | <command> | after-<command>
//! send = '250-mock.example\r\n' # once, first
//! repeat = '250-X\r\n'          # then this, `times` times, or forever without `times`
//! times = 100000
//! end = '250 OK\r\n'            # once, after a counted repeat
//! then = "continue"             # continue | close | silence
//! ```
//!
//! The sessions stay in charge of their state: they queue their own reply, and [`Hostility`]
//! rewrites what they queued. Each rule fires once per connection.

use std::collections::VecDeque;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::session::Action;

/// Bytes written as text, with escapes for what a TOML string cannot hold: `\r`, `\n`,
/// `\t`, `\0`, `\\` and `\xNN` (any byte). In a TOML literal string (`'…'`) the escapes are
/// ours; in a basic string (`"…"`) TOML's own come first, so write `\\xff` there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawBytes(pub Vec<u8>);

impl RawBytes {
    /// Decodes the escapes of `text`.
    pub fn decode(text: &str) -> Result<RawBytes, String> {
        let mut bytes = Vec::with_capacity(text.len());
        let mut rest = text.as_bytes();
        while let Some((&first, tail)) = rest.split_first() {
            rest = tail;
            if first != b'\\' {
                bytes.push(first);
                continue;
            }
            let Some((&escape, tail)) = rest.split_first() else {
                return Err("a lone `\\` ends the text; write `\\\\` for a backslash".into());
            };
            rest = tail;
            bytes.push(match escape {
                b'r' => b'\r',
                b'n' => b'\n',
                b't' => b'\t',
                b'0' => 0,
                b'\\' => b'\\',
                b'x' => {
                    let hex = rest
                        .get(..2)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or("`\\x` needs two hex digits, e.g. `\\xff`")?;
                    rest = &rest[2..];
                    hex
                }
                other => {
                    return Err(format!(
                        "unknown escape `\\{}`; expected \\r, \\n, \\t, \\0, \\\\ or \\xNN",
                        other as char
                    ));
                }
            });
        }
        Ok(RawBytes(bytes))
    }

    /// The text form [`RawBytes::decode`] reads back to the same bytes.
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(self.0.len());
        for &byte in &self.0 {
            match byte {
                b'\r' => text.push_str("\\r"),
                b'\n' => text.push_str("\\n"),
                b'\t' => text.push_str("\\t"),
                b'\\' => text.push_str("\\\\"),
                0x20..=0x7e => text.push(byte as char),
                _ => text.push_str(&format!("\\x{byte:02x}")),
            }
        }
        text
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for RawBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for RawBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RawBytes::decode(&text).map_err(serde::de::Error::custom)
    }
}

/// Where a rule acts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostileAt {
    /// Instead of the greeting.
    Greeting,
    /// Instead of the reply to this command (upper case; SMTP's `MESSAGE` is the reply after
    /// the message's final dot). The command still takes effect as the server decided.
    Reply(String),
    /// After the server's own reply to this command.
    After(String),
}

impl fmt::Display for HostileAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostileAt::Greeting => f.write_str("greeting"),
            HostileAt::Reply(command) => write!(f, "{}", command.to_ascii_lowercase()),
            HostileAt::After(command) => write!(f, "after-{}", command.to_ascii_lowercase()),
        }
    }
}

impl Serialize for HostileAt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HostileAt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let word = |w: &str| {
            if !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(w.to_ascii_uppercase())
            } else {
                Err(serde::de::Error::custom(format!(
                    "`at` is {text:?}; expected `greeting`, a command (`login`, `ehlo`, …) or `after-<command>`"
                )))
            }
        };
        if text == "greeting" {
            Ok(HostileAt::Greeting)
        } else if let Some(command) = text.strip_prefix("after-") {
            Ok(HostileAt::After(word(command)?))
        } else {
            Ok(HostileAt::Reply(word(&text)?))
        }
    }
}

/// What the server does after a rule's bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Then {
    /// Read and answer the next command as usual.
    #[default]
    Continue,
    /// Close the connection.
    Close,
    /// Keep the connection open and never send another byte.
    Silence,
}

/// One hostile rule (see the module documentation for the keys).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Hostile {
    pub at: HostileAt,
    /// Sent once, first.
    #[serde(default, skip_serializing_if = "RawBytes::is_empty")]
    pub send: RawBytes,
    /// Sent after `send`, `times` times, or forever when `times` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<RawBytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Sent once after a counted `repeat`.
    #[serde(default, skip_serializing_if = "RawBytes::is_empty")]
    pub end: RawBytes,
    #[serde(default)]
    pub then: Then,
}

/// The commands a rule can name, per protocol: what the mock servers answer or a client
/// might send. A name outside the list is a typo, refused when the scenario loads.
pub const IMAP_COMMANDS: &[&str] = &[
    "APPEND",
    "AUTHENTICATE",
    "CAPABILITY",
    "CHECK",
    "CLOSE",
    "COPY",
    "CREATE",
    "DELETE",
    "ENABLE",
    "EXAMINE",
    "EXPUNGE",
    "FETCH",
    "ID",
    "IDLE",
    "LIST",
    "LOGIN",
    "LOGOUT",
    "LSUB",
    "MOVE",
    "NAMESPACE",
    "NOOP",
    "RENAME",
    "SEARCH",
    "SELECT",
    "STARTTLS",
    "STATUS",
    "STORE",
    "SUBSCRIBE",
    "UID",
    "UNSELECT",
    "UNSUBSCRIBE",
    "XLIST",
];

/// See [`IMAP_COMMANDS`]; `MESSAGE` is the reply after the message's final dot.
pub const SMTP_COMMANDS: &[&str] = &[
    "AUTH", "DATA", "EHLO", "ETRN", "HELO", "MAIL", "MESSAGE", "NOOP", "QUIT", "RCPT", "RSET",
    "STARTTLS", "VRFY",
];

impl Hostile {
    /// What is wrong with the rule for a server that knows `commands`, if anything.
    pub fn check(&self, commands: &[&str]) -> Result<(), String> {
        if let HostileAt::Reply(command) | HostileAt::After(command) = &self.at
            && !commands.contains(&command.as_str())
        {
            let known: Vec<String> = commands.iter().map(|c| c.to_ascii_lowercase()).collect();
            return Err(format!(
                "`at` names the command `{}`, which this protocol does not have; expected `greeting` or one of {} (or `after-` one of them)",
                command.to_ascii_lowercase(),
                known.join(", ")
            ));
        }
        match (&self.repeat, self.times) {
            (Some(bytes), _) if bytes.is_empty() => {
                Err("`repeat` is empty; expected the bytes to repeat".into())
            }
            (Some(_), Some(0)) => {
                Err("`times` is 0; expected at least 1 (forever: leave `times` out)".into())
            }
            (None, Some(_)) => Err("`times` counts `repeat`, which is not given".into()),
            (None, None) if !self.end.is_empty() => {
                Err("`end` follows a counted `repeat`, which is not given".into())
            }
            (Some(_), None) if !self.end.is_empty() || self.then != Then::Continue => Err(
                "a `repeat` without `times` never ends, so nothing can follow it (`end`, `then`)"
                    .into(),
            ),
            (None, None) if self.send.is_empty() && self.then == Then::Continue => Err(
                "the rule sends nothing and changes nothing; expected `send`, `repeat` or `then`"
                    .into(),
            ),
            _ => Ok(()),
        }
    }

    /// The bytes to send, with `{tag}` replaced by the command's tag (IMAP).
    fn actions(&self, tag: Option<&str>) -> Vec<Action> {
        let fill = |bytes: &RawBytes| match tag {
            Some(tag) => replace(&bytes.0, b"{tag}", tag.as_bytes()),
            None => bytes.0.clone(),
        };
        let mut actions = Vec::new();
        if !self.send.is_empty() {
            actions.push(Action::Send(fill(&self.send)));
        }
        if let Some(repeat) = &self.repeat {
            actions.push(Action::Flood {
                bytes: fill(repeat),
                times: self.times,
            });
        }
        if !self.end.is_empty() {
            actions.push(Action::Send(fill(&self.end)));
        }
        actions
    }
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(with);
            rest = &rest[needle.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// Where a session is when it asks [`Hostility::apply`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Point<'a> {
    Greeting,
    /// The reply to this command (upper case) has been queued.
    Command(&'a str),
}

/// The rules of one connection, each fired at most once.
pub(crate) struct Hostility {
    rules: Vec<(Hostile, bool)>,
}

impl Hostility {
    pub(crate) fn new(rules: &[Hostile]) -> Hostility {
        Hostility {
            rules: rules.iter().map(|rule| (rule.clone(), false)).collect(),
        }
    }

    /// Rewrites what a session queued at `point` (the actions from `from` on) with the first
    /// matching rule that has not fired; returns what the session does next if one fired.
    pub(crate) fn apply(
        &mut self,
        point: Point<'_>,
        tag: Option<&str>,
        actions: &mut VecDeque<Action>,
        from: usize,
    ) -> Option<Then> {
        let (rule, fired) = self.rules.iter_mut().find(|(rule, fired)| {
            !*fired
                && match (&rule.at, point) {
                    (HostileAt::Greeting, Point::Greeting) => true,
                    (HostileAt::Reply(c) | HostileAt::After(c), Point::Command(name)) => c == name,
                    _ => false,
                }
        })?;
        *fired = true;
        let queued: Vec<Action> = actions.drain(from..).collect();
        let hostile = rule.actions(tag);
        let mut rewritten = Vec::new();
        match &rule.at {
            HostileAt::Greeting | HostileAt::Reply(_) => {
                let mut placed = false;
                for action in queued {
                    if matches!(action, Action::Send(_)) {
                        if !placed {
                            rewritten.extend(hostile.clone());
                            placed = true;
                        }
                    } else {
                        rewritten.push(action);
                    }
                }
                if !placed {
                    rewritten.splice(0..0, hostile);
                }
            }
            HostileAt::After(_) => {
                let last_send = queued
                    .iter()
                    .rposition(|action| matches!(action, Action::Send(_)));
                let at = last_send.map_or(0, |i| i + 1);
                rewritten = queued;
                rewritten.splice(at..at, hostile);
            }
        }
        if rule.then != Then::Continue {
            // Closing or falling silent: the STARTTLS or milestone the reply led to never comes.
            rewritten.retain(|action| matches!(action, Action::Send(_) | Action::Flood { .. }));
            if rule.then == Then::Close {
                rewritten.push(Action::Close);
            }
        }
        actions.extend(rewritten);
        Some(rule.then)
    }
}

/// `[[hostile]]` tables as a session test writes them.
#[cfg(test)]
pub(crate) fn parse_rules(text: &str) -> Vec<Hostile> {
    #[derive(Deserialize)]
    struct Rules {
        hostile: Vec<Hostile>,
    }
    toml::from_str::<Rules>(text).unwrap().hostile
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Hostile {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn raw_bytes_decode_escapes_and_encode_back() {
        let bytes = RawBytes::decode(r"* OK \x00\xff\r\n\\").unwrap();
        assert_eq!(bytes.0, b"* OK \x00\xff\r\n\\");
        assert_eq!(RawBytes::decode(&bytes.encode()).unwrap(), bytes);
        assert!(
            RawBytes::decode(r"\q")
                .unwrap_err()
                .contains("unknown escape")
        );
        assert!(
            RawBytes::decode(r"\x4")
                .unwrap_err()
                .contains("two hex digits")
        );
        assert!(RawBytes::decode("end\\").unwrap_err().contains("lone"));
    }

    #[test]
    fn at_reads_greeting_commands_and_after() {
        assert_eq!(rule("at = 'greeting'\nsend = 'x'").at, HostileAt::Greeting);
        assert_eq!(
            rule("at = 'login'\nsend = 'x'").at,
            HostileAt::Reply("LOGIN".into())
        );
        assert_eq!(
            rule("at = 'after-login'\nthen = 'close'").at,
            HostileAt::After("LOGIN".into())
        );
        assert!(toml::from_str::<Hostile>("at = 'log in'").is_err());
    }

    #[test]
    fn check_refuses_what_cannot_mean_anything() {
        let ok = rule("at = 'rcpt'\nrepeat = 'x'\ntimes = 3\nend = 'y'");
        assert_eq!(ok.check(SMTP_COMMANDS), Ok(()));
        assert!(ok.check(IMAP_COMMANDS).unwrap_err().contains("`rcpt`"));
        for (text, expected) in [
            ("at = 'rcpt'\nrepeat = ''", "empty"),
            ("at = 'rcpt'\nrepeat = 'x'\ntimes = 0", "at least 1"),
            ("at = 'rcpt'\ntimes = 2", "not given"),
            ("at = 'rcpt'\nend = 'x'", "not given"),
            ("at = 'rcpt'\nrepeat = 'x'\nthen = 'close'", "never ends"),
            ("at = 'rcpt'", "sends nothing"),
        ] {
            let error = rule(text).check(SMTP_COMMANDS).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn a_reply_is_replaced_and_the_rest_kept() {
        let mut hostility = Hostility::new(&[rule("at = 'starttls'\nsend = '{tag} MAYBE\\r\\n'")]);
        let mut actions = VecDeque::from([
            Action::Send(b"* earlier\r\n".to_vec()),
            Action::Send(b"a1 OK Begin TLS\r\n".to_vec()),
            Action::StartTls,
        ]);
        let then = hostility.apply(Point::Command("STARTTLS"), Some("a1"), &mut actions, 1);
        assert_eq!(then, Some(Then::Continue));
        assert_eq!(
            Vec::from(actions),
            vec![
                Action::Send(b"* earlier\r\n".to_vec()),
                Action::Send(b"a1 MAYBE\r\n".to_vec()),
                Action::StartTls,
            ]
        );
        // A rule fires once per connection.
        let mut again = VecDeque::from([Action::Send(b"a2 OK\r\n".to_vec())]);
        assert_eq!(
            hostility.apply(Point::Command("STARTTLS"), Some("a2"), &mut again, 0),
            None
        );
    }

    #[test]
    fn after_a_reply_comes_the_flood_then_the_close() {
        let mut hostility = Hostility::new(&[rule(
            "at = 'after-login'\nsend = '* BYE x\\r\\n'\nrepeat = '*'\ntimes = 2\nthen = 'close'",
        )]);
        let mut actions = VecDeque::from([
            Action::Send(b"a2 OK Logged in\r\n".to_vec()),
            Action::Reached(crate::Milestone::AfterLogin),
        ]);
        assert_eq!(
            hostility.apply(Point::Command("LOGIN"), Some("a2"), &mut actions, 0),
            Some(Then::Close)
        );
        assert_eq!(
            Vec::from(actions),
            vec![
                Action::Send(b"a2 OK Logged in\r\n".to_vec()),
                Action::Send(b"* BYE x\r\n".to_vec()),
                Action::Flood {
                    bytes: b"*".to_vec(),
                    times: Some(2)
                },
                Action::Close,
            ]
        );
    }

    #[test]
    fn greeting_rules_ignore_commands() {
        let mut hostility = Hostility::new(&[rule("at = 'greeting'\nsend = 'x'")]);
        let mut actions = VecDeque::from([Action::Send(b"a OK\r\n".to_vec())]);
        assert_eq!(
            hostility.apply(Point::Command("NOOP"), None, &mut actions, 0),
            None
        );
        assert_eq!(
            hostility.apply(Point::Greeting, None, &mut actions, 0),
            Some(Then::Continue)
        );
        assert_eq!(Vec::from(actions), vec![Action::Send(b"x".to_vec())]);
    }
}
