//! Parsing one complete IMAP command (RFC 3501 §9, the parts a connector sends): a tag, a
//! command name and arguments that are atoms, quoted strings, literals or parenthesised
//! lists. Framing (lines and literals arriving over the wire) happens in the session; this
//! module sees a whole command with its literals inline, as `{5}\r\nalice`.

/// One argument of a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    Atom(String),
    /// A quoted string or a literal.
    String(Vec<u8>),
    List(Vec<Arg>),
}

impl Arg {
    /// The argument as text, for astrings (atom, quoted or literal). `None` for a list.
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Arg::Atom(atom) => Some(atom.clone()),
            Arg::String(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
            Arg::List(_) => None,
        }
    }
}

/// A parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Command {
    pub tag: String,
    /// Upper-cased command name.
    pub name: String,
    pub args: Vec<Arg>,
}

/// Why a command could not be parsed, with the tag when there was one to answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub tag: Option<String>,
    pub name: Option<String>,
    pub reason: &'static str,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Atom characters, leniently: the wildcards `%` and `*` and `]` are let in, so that LIST
/// patterns and the like parse as atoms.
fn is_atom_char(b: u8) -> bool {
    b > b' ' && b < 0x7f && !matches!(b, b'(' | b')' | b'{' | b'"')
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn atom(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(is_atom_char) {
            self.pos += 1;
        }
        (self.pos > start)
            .then(|| String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned())
    }

    fn quoted(&mut self) -> Result<Vec<u8>, &'static str> {
        self.pos += 1; // opening quote
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err("unterminated quoted string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => out.push(c),
                        _ => return Err("invalid escape in quoted string"),
                    }
                    self.pos += 1;
                }
                Some(b'\r' | b'\n') => return Err("line break in quoted string"),
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn literal(&mut self) -> Result<Vec<u8>, &'static str> {
        let rest = &self.bytes[self.pos..];
        let close = rest
            .iter()
            .position(|&b| b == b'}')
            .ok_or("unterminated literal size")?;
        let size = std::str::from_utf8(&rest[1..close])
            .ok()
            .map(|s| s.trim_end_matches('+'))
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or("invalid literal size")?;
        let data_start = self.pos + close + 1;
        if self.bytes.get(data_start..data_start + 2) != Some(b"\r\n") {
            return Err("literal size not followed by CRLF");
        }
        let data = self
            .bytes
            .get(data_start + 2..data_start + 2 + size)
            .ok_or("literal shorter than its size")?;
        self.pos = data_start + 2 + size;
        Ok(data.to_vec())
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, &'static str> {
        match self.peek() {
            Some(b'"') => self.quoted().map(Arg::String),
            Some(b'{') => self.literal().map(Arg::String),
            Some(b'(') if depth < 8 => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    match self.peek() {
                        Some(b')') => {
                            self.pos += 1;
                            return Ok(Arg::List(items));
                        }
                        Some(b' ') if !items.is_empty() => self.pos += 1,
                        None => return Err("unterminated list"),
                        _ => {}
                    }
                    items.push(self.arg(depth + 1)?);
                }
            }
            Some(b'(') => Err("lists nested too deeply"),
            _ => self.atom().map(Arg::Atom).ok_or("invalid argument"),
        }
    }
}

/// Parses a whole command (without its final CRLF).
pub(crate) fn parse(bytes: &[u8]) -> Result<Command, ParseError> {
    let mut cursor = Cursor { bytes, pos: 0 };
    let error =
        |tag: Option<String>, name: Option<String>, reason| ParseError { tag, name, reason };
    let tag = match cursor.atom() {
        Some(tag) if !tag.contains('+') => tag,
        _ => return Err(error(None, None, "missing tag")),
    };
    if cursor.peek() != Some(b' ') {
        return Err(error(Some(tag), None, "missing command"));
    }
    cursor.pos += 1;
    let Some(name) = cursor.atom().map(|name| name.to_ascii_uppercase()) else {
        return Err(error(Some(tag), None, "missing command"));
    };
    let mut args = Vec::new();
    while cursor.peek().is_some() {
        if cursor.peek() != Some(b' ') {
            return Err(error(
                Some(tag),
                Some(name),
                "expected a space between arguments",
            ));
        }
        cursor.pos += 1;
        match cursor.arg(0) {
            Ok(arg) => args.push(arg),
            Err(reason) => return Err(error(Some(tag), Some(name), reason)),
        }
    }
    Ok(Command { tag, name, args })
}

/// If `line` ends with a literal announcement `{N}` or `{N+}`, its size and whether it is
/// synchronising (the client waits for a `+` continuation before sending the bytes).
pub(crate) fn literal_announcement(line: &[u8]) -> Option<(usize, bool)> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let size = &inner[open + 1..];
    let (size, synchronising) = match size.strip_suffix(b"+") {
        Some(size) => (size, false),
        None => (size, true),
    };
    if size.is_empty() || !size.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((std::str::from_utf8(size).ok()?.parse().ok()?, synchronising))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(s: &str) -> Arg {
        Arg::Atom(s.into())
    }

    fn string(s: &str) -> Arg {
        Arg::String(s.as_bytes().to_vec())
    }

    #[test]
    fn parses_atoms_quoted_strings_and_literals() {
        let command = parse(b"a1 login \"alice@example.com\" {7}\r\nse\"cr t").unwrap();
        assert_eq!(command.tag, "a1");
        assert_eq!(command.name, "LOGIN");
        assert_eq!(
            command.args,
            [string("alice@example.com"), string("se\"cr t")]
        );
        let command = parse(br#"A2 LIST "" *"#).unwrap();
        assert_eq!(command.args, [string(""), atom("*")]);
        let command = parse(br#"3 LOGIN alice "pa\"ss\\word""#).unwrap();
        assert_eq!(command.args, [atom("alice"), string("pa\"ss\\word")]);
    }

    #[test]
    fn parses_lists_and_nil() {
        let command = parse(br#"a ID ("name" "mailharness" "version" NIL)"#).unwrap();
        assert_eq!(
            command.args,
            [Arg::List(vec![
                string("name"),
                string("mailharness"),
                string("version"),
                atom("NIL")
            ])]
        );
        assert_eq!(parse(b"a ID ()").unwrap().args, [Arg::List(vec![])]);
    }

    #[test]
    fn reports_errors_with_the_tag() {
        let err = parse(b"a7 LOGIN \"unterminated").unwrap_err();
        assert_eq!(err.tag.as_deref(), Some("a7"));
        assert_eq!(err.name.as_deref(), Some("LOGIN"));
        assert_eq!(parse(b"").unwrap_err().tag, None);
        assert_eq!(parse(b"a7").unwrap_err().reason, "missing command");
        assert!(parse(b"a LOGIN {5}\r\nab").is_err());
        assert!(parse(&[b"a X ".as_slice(), &[b'('; 20]].concat()).is_err());
    }

    #[test]
    fn recognises_literal_announcements() {
        assert_eq!(literal_announcement(b"a LOGIN {5}"), Some((5, true)));
        assert_eq!(
            literal_announcement(b"a LOGIN alice {12+}"),
            Some((12, false))
        );
        assert_eq!(literal_announcement(b"a LOGIN alice {x}"), None);
        assert_eq!(literal_announcement(b"a NOOP"), None);
    }
}
