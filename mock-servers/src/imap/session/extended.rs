//! The syntax after login that imap-codec does not parse: each command or argument form an
//! advertised extension brings is recognised here and either answered by the module that
//! models it ([`Extended::Answered`]) or rewritten into a form imap-codec parses
//! ([`Extended::Rewritten`]). Without the extension advertised nothing is recognised, and
//! imap-codec refuses the command as a server without it would.

use super::super::args::{self, Arg};
use super::ImapSession;
use super::esearch::Verb;

/// What became of a command.
pub(super) enum Extended {
    /// Nothing here: imap-codec parses it as it is.
    Plain,
    /// The same command in a form imap-codec parses.
    Rewritten(Vec<u8>),
    /// Answered: the tagged reply, and whether expunges may be announced with it.
    Answered { reply: String, expunges: bool },
}

/// The commands whose first argument is a sequence set, where SEARCHRES allows `$`.
const TAKES_SET: &[&str] = &["FETCH", "STORE", "COPY", "MOVE", "EXPUNGE"];
/// The commands with search keys, where `$` is a key.
const TAKES_KEYS: &[&str] = &["SEARCH", "SORT", "THREAD"];

impl ImapSession {
    /// Recognises the extended syntax of `bytes` (tag `tag`, upper-case name `name`).
    pub(super) fn extended_syntax(&mut self, tag: &str, name: &str, bytes: &[u8]) -> Extended {
        let mut at = (tag.len() + 1 + name.len() + 1).min(bytes.len());
        let mut verb = name.to_owned();
        let uid = name == "UID";
        if uid {
            let rest = &bytes[at..];
            let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
            verb = String::from_utf8_lossy(&rest[..end]).to_ascii_uppercase();
            at = (at + end + 1).min(bytes.len());
        }
        let mut command = bytes.to_vec();
        let mut rewritten = false;
        if self.advertises("SEARCHRES") && self.selection.is_some() {
            match self.substitute_saved(&verb, uid, &bytes[at..]) {
                Saved::Absent => {}
                Saved::Arguments(arguments) => {
                    command.truncate(at);
                    command.extend_from_slice(&arguments);
                    rewritten = true;
                }
                Saved::Empty => {
                    return Extended::Answered {
                        reply: self.texts.completed(&verb, None),
                        expunges: false,
                    };
                }
            }
        }
        if TAKES_KEYS.contains(&verb.as_str())
            && let Some(arguments) = self.search_keys_extended(&command[at..])
        {
            command.truncate(at);
            command.extend_from_slice(&arguments);
            rewritten = true;
        }
        if verb == "FETCH"
            && let Some(arguments) = self.fetch_extended(&command[at..])
        {
            command.truncate(at);
            command.extend_from_slice(&arguments);
            rewritten = true;
        }
        let arguments = &command[at..];
        let answered = match verb.as_str() {
            "STORE" => self
                .store_labels(uid, arguments)
                .map(|reply| (reply, false)),
            "SEARCH" | "SORT" => {
                let verb = Verb { name: &verb, uid };
                self.search_with_return(tag, &verb, arguments)
                    .map(|reply| (reply, false))
            }
            "APPEND" if !uid => self.append_extended(arguments).map(|reply| (reply, true)),
            "NOTIFY" if !uid && self.advertises("NOTIFY") => Some((self.notify(arguments), true)),
            "LIST" if !uid => self.list_extended(arguments).map(|reply| (reply, true)),
            "CANCELUPDATE" if !uid && self.advertises("CONTEXT=SEARCH") => {
                Some((self.cancel_update(arguments), true))
            }
            _ => None,
        };
        match answered {
            Some((reply, expunges)) => Extended::Answered { reply, expunges },
            None if rewritten => Extended::Rewritten(command),
            None => Extended::Plain,
        }
    }

    /// SEARCHRES (RFC 5182): `$` as a command's sequence set or as a search key stands for
    /// the saved result.
    fn substitute_saved(&self, verb: &str, uid: bool, arguments: &[u8]) -> Saved {
        let Ok(parsed) = args::parse(arguments) else {
            return Saved::Absent;
        };
        let mut spans = Vec::new();
        if TAKES_KEYS.contains(&verb) {
            dollars(&parsed, &mut spans);
        } else if TAKES_SET.contains(&verb)
            && let Some(first) = parsed.first().filter(|a| a.is("$"))
        {
            spans.push(first.span.clone());
        }
        if spans.is_empty() {
            return Saved::Absent;
        }
        let replacement = if TAKES_KEYS.contains(&verb) {
            self.saved_key()
        } else {
            match self.saved_set(uid) {
                Some(set) => set,
                // Nothing saved is left: the command has nothing to act on.
                None => return Saved::Empty,
            }
        };
        let replacements: Vec<_> = spans
            .into_iter()
            .map(|span| (span, replacement.as_bytes()))
            .collect();
        Saved::Arguments(args::splice(arguments, &replacements))
    }
}

/// What `$` became.
enum Saved {
    /// There is none.
    Absent,
    /// The arguments with it replaced.
    Arguments(Vec<u8>),
    /// It stands for no message as a sequence set.
    Empty,
}

/// The spans of every `$` atom, in order, lists included.
fn dollars(parsed: &[Arg], spans: &mut Vec<std::ops::Range<usize>>) {
    for arg in parsed {
        if arg.is("$") {
            spans.push(arg.span.clone());
        } else if let Some(items) = arg.list() {
            dollars(items, spans);
        }
    }
}
