//! A command's arguments as tokens, for the extension syntax imap-codec does not parse
//! (RFC 4466's extended SEARCH, SORT, LIST and APPEND forms, NOTIFY, CATENATE, the FETCH
//! items of PREVIEW, SAVEDATE and Gmail): atoms, strings (quoted or literal) and
//! parenthesised lists, each with the byte range it came from, so that a command can also be
//! cut down to what imap-codec does parse.

use std::ops::Range;

/// One argument and where it is in the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Arg {
    pub(crate) token: Token,
    pub(crate) span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// An atom, with any `[...]` section and `<...>` partial it carries (`BODY[1]<0.10>`).
    Atom(String),
    /// A quoted string.
    Quoted(Vec<u8>),
    /// A literal (`{n}` or `~{n}`), as a message is sent.
    Literal(Vec<u8>),
    List(Vec<Arg>),
}

impl Arg {
    /// The atom, if this is one.
    pub(crate) fn atom(&self) -> Option<&str> {
        match &self.token {
            Token::Atom(atom) => Some(atom),
            _ => None,
        }
    }

    /// Whether this is the atom `word` (any case).
    pub(crate) fn is(&self, word: &str) -> bool {
        self.atom().is_some_and(|a| a.eq_ignore_ascii_case(word))
    }

    /// An astring's bytes: an atom's text or a string's content.
    pub(crate) fn astring(&self) -> Option<Vec<u8>> {
        match &self.token {
            Token::Atom(atom) => Some(atom.as_bytes().to_vec()),
            Token::Quoted(bytes) | Token::Literal(bytes) => Some(bytes.clone()),
            Token::List(_) => None,
        }
    }

    /// The astring as text (lossy).
    pub(crate) fn text(&self) -> Option<String> {
        self.astring()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// The list's items, if this is a list.
    pub(crate) fn list(&self) -> Option<&[Arg]> {
        match &self.token {
            Token::List(items) => Some(items),
            _ => None,
        }
    }
}

/// `bytes` with each span replaced by its bytes; the spans in order, not overlapping.
pub(crate) fn splice<R: AsRef<[u8]>>(bytes: &[u8], replacements: &[(Range<usize>, R)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut from = 0;
    for (span, replacement) in replacements {
        out.extend_from_slice(&bytes[from..span.start]);
        out.extend_from_slice(replacement.as_ref());
        from = span.end;
    }
    out.extend_from_slice(&bytes[from..]);
    out
}

/// The arguments in `bytes` (everything after the command name), or what was expected
/// where they stop making sense.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Arg>, String> {
    let mut parser = Parser { bytes, at: 0 };
    let args = parser.items(false)?;
    match parser.peek() {
        None => Ok(args),
        Some(_) => Err(format!("unexpected ')' at byte {}", parser.at)),
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Items up to the end, or up to and including `)` when `nested`.
    fn items(&mut self, nested: bool) -> Result<Vec<Arg>, String> {
        let mut items = Vec::new();
        loop {
            while matches!(self.peek(), Some(b' ' | b'\r' | b'\n')) {
                self.at += 1;
            }
            match self.peek() {
                None if nested => return Err("a ')' closing a list".to_owned()),
                None => return Ok(items),
                Some(b')') if nested => {
                    self.at += 1;
                    return Ok(items);
                }
                Some(b')') => return Ok(items),
                Some(_) => items.push(self.item()?),
            }
        }
    }

    fn item(&mut self) -> Result<Arg, String> {
        let start = self.at;
        let token = match self.peek() {
            Some(b'(') => {
                self.at += 1;
                Token::List(self.items(true)?)
            }
            Some(b'"') => Token::Quoted(self.quoted()?),
            Some(b'{') => Token::Literal(self.literal()?),
            Some(b'~') if self.bytes.get(self.at + 1) == Some(&b'{') => {
                self.at += 1;
                Token::Literal(self.literal()?)
            }
            _ => Token::Atom(self.atom()),
        };
        Ok(Arg {
            token,
            span: start..self.at,
        })
    }

    fn quoted(&mut self) -> Result<Vec<u8>, String> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\r' | b'\n') => return Err("a closing '\"'".to_owned()),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let escaped = self
                        .bytes
                        .get(self.at + 1)
                        .copied()
                        .ok_or("a closing '\"'")?;
                    out.push(escaped);
                    self.at += 2;
                }
                Some(byte) => {
                    out.push(byte);
                    self.at += 1;
                }
            }
        }
    }

    /// `{N}` or `{N+}`, CRLF, then N bytes (the session framed them inline).
    fn literal(&mut self) -> Result<Vec<u8>, String> {
        let close = self.bytes[self.at..]
            .iter()
            .position(|&b| b == b'}')
            .ok_or("a literal's '}'")?;
        let size = std::str::from_utf8(&self.bytes[self.at + 1..self.at + close])
            .ok()
            .map(|s| s.trim_end_matches('+'))
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or("a literal's size")?;
        let start = self.at + close + 1;
        let start = match self.bytes.get(start..start + 2) {
            Some(b"\r\n") => start + 2,
            _ => return Err("CRLF after a literal's size".to_owned()),
        };
        let data = self
            .bytes
            .get(start..start + size)
            .ok_or("a literal's bytes")?;
        self.at = start + size;
        Ok(data.to_vec())
    }

    /// Up to a space, parenthesis or line end; a `[...]` inside (a section) may hold both.
    fn atom(&mut self) -> String {
        let start = self.at;
        let mut depth = 0usize;
        while let Some(byte) = self.peek() {
            match byte {
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b' ' | b'(' | b')' | b'\r' | b'\n' if depth == 0 => break,
                b'\r' | b'\n' => break,
                _ => {}
            }
            self.at += 1;
        }
        String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_strings_literals_and_lists() {
        let input = b"RETURN (MIN \"a b\" {3}\r\nx)y BODY[HEADER.FIELDS (A B)]<0.5>) ALL";
        let args = parse(input).unwrap();
        assert_eq!(args.len(), 3);
        assert!(args[0].is("return"));
        let list = args[1].list().unwrap();
        assert!(list[0].is("MIN"));
        assert_eq!(list[1].astring().unwrap(), b"a b");
        assert_eq!(list[2].astring().unwrap(), b"x)y");
        assert_eq!(list[3].atom(), Some("BODY[HEADER.FIELDS (A B)]<0.5>"));
        assert_eq!(&input[args[2].span.clone()], b"ALL");
        assert_eq!(&input[args[1].span.clone()][..5], b"(MIN ");
    }

    #[test]
    fn splices_in_order() {
        assert_eq!(
            splice(b"a $ b $", &[(2..3, "x"), (6..7, "yz")]),
            b"a x b yz"
        );
        assert_eq!(splice::<&str>(b"same", &[]), b"same");
    }

    #[test]
    fn what_was_expected() {
        assert_eq!(parse(b"(A").unwrap_err(), "a ')' closing a list");
        assert!(parse(b"A)").is_err());
        assert_eq!(parse(b"\"open").unwrap_err(), "a closing '\"'");
        assert!(parse(b"{5}\r\nab").is_err());
        assert!(parse(b"{x}\r\n").is_err());
        assert_eq!(parse(b"").unwrap(), Vec::new());
    }
}
