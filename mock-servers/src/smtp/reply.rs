//! SMTP replies: a code and one or more lines of text, written `250-first` … `250 last` on
//! the wire. Scenario files give replies as text (`"554 5.7.1 Relay access denied"`, lines
//! separated by `\n`); this is where such text is checked and turned into wire bytes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A complete SMTP reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpReply {
    code: u16,
    lines: Vec<String>,
}

impl SmtpReply {
    /// Parses `"250 2.1.0 Ok"` or several such lines separated by `\n`; each line starts with
    /// the same three-digit code followed by a space, a hyphen or nothing.
    pub fn parse(text: &str) -> Result<SmtpReply, String> {
        let mut code = None;
        let mut lines = Vec::new();
        for line in text.trim_end_matches(['\r', '\n']).split('\n') {
            let line = line.trim_end_matches('\r');
            let digits = line
                .get(..3)
                .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
            let Some(digits) = digits else {
                return Err(format!(
                    "SMTP reply line `{line}` does not start with a three-digit code (expected e.g. `554 5.7.1 Relay access denied`)"
                ));
            };
            let this: u16 = digits.parse().expect("three digits");
            if !(200..=599).contains(&this) {
                return Err(format!("SMTP reply code {this} is outside 200-599"));
            }
            if *code.get_or_insert(this) != this {
                return Err(format!("SMTP reply `{text}` mixes codes"));
            }
            let rest = &line[3..];
            let text = match rest.as_bytes().first() {
                None => "",
                Some(b' ' | b'-') => &rest[1..],
                Some(_) => {
                    return Err(format!(
                        "SMTP reply line `{line}`: expected a space or `-` after the code"
                    ));
                }
            };
            lines.push(text.to_owned());
        }
        Ok(SmtpReply {
            code: code.expect("split yields at least one line"),
            lines,
        })
    }

    /// The reply code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The text of its lines, joined by `\n`, without the codes (as a client reports it).
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Whether the reply accepts the command (2xx or 3xx).
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// The bytes on the wire, CRLF-terminated.
    pub fn to_wire(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for SmtpReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.lines.len() - 1;
        for (i, line) in self.lines.iter().enumerate() {
            let separator = if i == last { ' ' } else { '-' };
            write!(f, "{}{separator}{line}\r\n", self.code)?;
        }
        Ok(())
    }
}

impl Serialize for SmtpReply {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Only the last line's CRLF goes: a blank that ends the text is the reply's own.
        let wire = self.to_string();
        let text = wire.strip_suffix("\r\n").unwrap_or(&wire);
        serializer.serialize_str(text.replace("\r\n", "\n").as_str())
    }
}

impl<'de> Deserialize<'de> for SmtpReply {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SmtpReply::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_line_replies() {
        let reply = SmtpReply::parse("554 5.7.1 Relay access denied").unwrap();
        assert_eq!(reply.code(), 554);
        assert!(!reply.is_positive());
        assert_eq!(reply.to_wire(), b"554 5.7.1 Relay access denied\r\n");
        let reply = SmtpReply::parse("534-5.7.9 Application-specific password required. Learn more at\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor").unwrap();
        assert_eq!(
            reply.to_string(),
            "534-5.7.9 Application-specific password required. Learn more at\r\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor\r\n"
        );
        // Continuation markers are normalised: only the last line has a space.
        let reply = SmtpReply::parse("250 a\n250 b").unwrap();
        assert_eq!(reply.to_string(), "250-a\r\n250 b\r\n");
        assert_eq!(SmtpReply::parse("354").unwrap().to_string(), "354 \r\n");
    }

    #[test]
    fn refuses_what_is_not_a_reply() {
        assert!(
            SmtpReply::parse("Relay access denied")
                .unwrap_err()
                .contains("three-digit")
        );
        assert!(SmtpReply::parse("999 nope").is_err());
        assert!(
            SmtpReply::parse("250 a\n550 b")
                .unwrap_err()
                .contains("mixes")
        );
        assert!(SmtpReply::parse("250x").is_err());
    }
}
