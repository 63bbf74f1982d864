//! What the session needs of a command before imap-codec parses it: where a line announces
//! a literal (framing), the tag and name to answer with when parsing fails, and the names of
//! the commands imap-codec knows (a parse failure of one of them is bad arguments, of any
//! other an unknown command).

/// The commands imap-codec parses, by the name a client sends.
pub(crate) const KNOWN: &[&str] = &[
    "CAPABILITY",
    "NOOP",
    "LOGOUT",
    "STARTTLS",
    "AUTHENTICATE",
    "LOGIN",
    "SELECT",
    "EXAMINE",
    "CREATE",
    "DELETE",
    "RENAME",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "LIST",
    "LSUB",
    "XLIST",
    "STATUS",
    "APPEND",
    "CHECK",
    "CLOSE",
    "UNSELECT",
    "EXPUNGE",
    "SEARCH",
    "FETCH",
    "STORE",
    "COPY",
    "MOVE",
    "UID",
    "IDLE",
    "ENABLE",
    "ID",
    "NAMESPACE",
    "SORT",
    "THREAD",
    "COMPRESS",
    "GETQUOTA",
    "GETQUOTAROOT",
    "SETQUOTA",
];

/// The tag and the upper-cased command name of a command line (empty when absent).
pub(crate) fn head(bytes: &[u8]) -> (String, String) {
    let mut words = bytes.split(|&b| b == b' ' || b == b'\r' || b == b'\n');
    let tag = String::from_utf8_lossy(words.next().unwrap_or_default()).into_owned();
    let name = String::from_utf8_lossy(words.next().unwrap_or_default()).to_ascii_uppercase();
    (tag, name)
}

/// The command with its name (the second word) replaced by `name`.
pub(crate) fn renamed(bytes: &[u8], name: &str) -> Vec<u8> {
    let Some(first) = bytes.iter().position(|&b| b == b' ') else {
        return bytes.to_vec();
    };
    let rest = &bytes[first + 1..];
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let mut out = bytes[..=first].to_vec();
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&rest[end..]);
    out
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

    #[test]
    fn head_and_renamed() {
        assert_eq!(
            head(b"a1 xlist \"\" *"),
            ("a1".to_owned(), "XLIST".to_owned())
        );
        assert_eq!(head(b""), (String::new(), String::new()));
        assert_eq!(renamed(b"a1 XLIST \"\" *", "LIST"), b"a1 LIST \"\" *");
        assert_eq!(renamed(b"a1 XLIST", "LIST"), b"a1 LIST");
    }
}
