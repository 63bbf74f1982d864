//! APPEND beyond one literal: MULTIAPPEND's several messages in one command, all stored or
//! none (RFC 3502), and CATENATE's messages built from text and IMAP URLs of messages
//! already in the account (RFC 4469, URLs as RFC 5092 writes them). imap-codec parses
//! neither, so the arguments are read with `args`. As Dovecot does
//! (containers/captures/dovecot-rfc-extensions.txt), a URL must be relative
//! (`/INBOX/;UID=1/;SECTION=1`), and `;PARTIAL=` is refused although URL-PARTIAL is
//! advertised (Dovecot means it for URLFETCH, which it does not offer here).

use chrono::{DateTime, FixedOffset};
use imap_codec::CommandCodec;
use imap_codec::decode::Decoder as _;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName};

use super::super::args::{self, Arg, Token};
use super::super::mailstore::UID_VALIDITY;
use super::super::message;
use super::ImapSession;

/// One message to append: flags, internal date, bytes.
pub(super) struct Appended {
    pub(super) flags: Vec<String>,
    pub(super) date: Option<DateTime<FixedOffset>>,
    pub(super) raw: Vec<u8>,
}

/// Why an APPEND is refused.
enum Refusal {
    /// Bad arguments.
    Syntax,
    /// A URL that names nothing usable: the URL and Dovecot's reason.
    BadUrl(String, String),
}

impl ImapSession {
    /// APPEND with several messages or a CATENATE, answered here; `None` for a plain
    /// APPEND (imap-codec's) or where neither extension is advertised.
    pub(super) fn append_extended(&mut self, arguments: &[u8]) -> Option<String> {
        let multi = self.advertises("MULTIAPPEND");
        let catenate = self.advertises("CATENATE");
        if !multi && !catenate {
            return None;
        }
        let parsed = args::parse(arguments).ok()?;
        let (mailbox, rest) = parsed.split_first()?;
        let uses_catenate = rest.iter().any(|a| a.is("CATENATE"));
        let literals = rest
            .iter()
            .filter(|a| matches!(a.token, Token::Literal(_)))
            .count();
        // One literal without CATENATE: a plain APPEND.
        if !uses_catenate && literals <= 1 {
            return None;
        }
        let messages = match self.appended(rest, catenate) {
            Ok(messages) if multi || messages.len() == 1 => messages,
            Ok(_) | Err(Refusal::Syntax) => {
                return Some(self.texts.invalid_arguments.replace("{name}", "APPEND"));
            }
            Err(Refusal::BadUrl(url, reason)) => {
                return Some(format!("NO [BADURL {url}] {reason} (0.001 + 0.000 secs)."));
            }
        };
        Some(self.append_all(&mailbox.text()?, messages))
    }

    /// The messages of an APPEND's arguments after the mailbox.
    fn appended(&self, mut rest: &[Arg], catenate: bool) -> Result<Vec<Appended>, Refusal> {
        let mut messages = Vec::new();
        while !rest.is_empty() {
            let mut flags = Vec::new();
            if let Some(list) = rest[0].list() {
                flags = list.iter().filter_map(Arg::text).collect();
                rest = &rest[1..];
            }
            let mut date = None;
            if let [
                Arg {
                    token: Token::Quoted(text),
                    ..
                },
                ..,
            ] = rest
            {
                let text = String::from_utf8_lossy(text);
                date = Some(
                    DateTime::parse_from_str(text.trim(), "%d-%b-%Y %H:%M:%S %z")
                        .map_err(|_| Refusal::Syntax)?,
                );
                rest = &rest[1..];
            }
            let raw = match rest {
                [
                    Arg {
                        token: Token::Literal(raw),
                        ..
                    },
                    ..,
                ] => {
                    rest = &rest[1..];
                    raw.clone()
                }
                [word, parts, ..] if catenate && word.is("CATENATE") => {
                    rest = &rest[2..];
                    self.catenated(parts.list().ok_or(Refusal::Syntax)?)?
                }
                _ => return Err(Refusal::Syntax),
            };
            messages.push(Appended { flags, date, raw });
        }
        Ok(messages)
    }

    /// A CATENATE list: `TEXT literal` and `URL "url"` parts, joined.
    fn catenated(&self, parts: &[Arg]) -> Result<Vec<u8>, Refusal> {
        let mut out = Vec::new();
        for pair in parts.chunks(2) {
            let [kind, value] = pair else {
                return Err(Refusal::Syntax);
            };
            let value = value.astring().ok_or(Refusal::Syntax)?;
            if kind.is("TEXT") {
                out.extend_from_slice(&value);
            } else if kind.is("URL") {
                let url = String::from_utf8_lossy(&value).into_owned();
                out.extend_from_slice(&self.resolve_url(&url)?);
            } else {
                return Err(Refusal::Syntax);
            }
        }
        Ok(out)
    }

    /// The bytes a relative IMAP URL names: `/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s]`.
    fn resolve_url(&self, url: &str) -> Result<Vec<u8>, Refusal> {
        let bad = |reason: &str| Err(Refusal::BadUrl(url.to_owned(), reason.to_owned()));
        if url.contains("://") {
            return bad("Invalid IMAP URL: Relative URL required");
        }
        if let Some(at) = url.to_ascii_uppercase().find(";PARTIAL=") {
            let extension = url[at..].split('/').next().unwrap_or_default();
            return Err(Refusal::BadUrl(
                url.to_owned(),
                format!("Invalid IMAP URL: Unrecognized IMAP URL extension: {extension}"),
            ));
        }
        let Some(path) = url.strip_prefix('/') else {
            return bad("Invalid IMAP URL: Relative URL required");
        };
        let mut pieces = path.split("/;");
        let mailbox = pieces.next().unwrap_or_default();
        let (mailbox, validity) = match mailbox.split_once(";UIDVALIDITY=") {
            Some((name, validity)) => (name, Some(validity)),
            None => (mailbox.trim_end_matches('/'), None),
        };
        let mailbox = percent_decoded(mailbox);
        if validity.is_some_and(|v| v != UID_VALIDITY.to_string()) {
            return bad("Invalid IMAP URL: UIDVALIDITY mismatch");
        }
        let mut uid = None;
        let mut section = None;
        for piece in pieces {
            let piece = piece.trim_end_matches('/');
            if let Some(n) = piece.strip_prefix("UID=") {
                uid = n.parse::<u32>().ok();
            } else if let Some(s) = piece.strip_prefix("SECTION=") {
                section = Some(percent_decoded(s));
            } else {
                return bad("Invalid IMAP URL");
            }
        }
        let Some(uid) = uid else {
            return bad("Invalid IMAP URL");
        };
        let raw = self.store.with_account(&self.login(), |folders| {
            let raw = folders
                .iter()
                .find(|f| f.name == mailbox)
                .and_then(|f| f.messages.iter().find(|m| m.uid == uid))
                .map(|m| m.raw.clone());
            (raw, false)
        });
        let Some(raw) = raw else {
            return bad("Message not found");
        };
        let Some(section) = section else {
            return Ok(raw.to_vec());
        };
        // The section as imap-codec reads one in `BODY[...]`.
        let fetch = format!("u FETCH 1 BODY.PEEK[{section}]\r\n");
        let Ok((_, command)) = CommandCodec::default().decode(fetch.as_bytes()) else {
            return bad("Invalid IMAP URL");
        };
        let CommandBody::Fetch {
            macro_or_item_names: MacroOrMessageDataItemNames::MessageDataItemNames(names),
            ..
        } = command.body
        else {
            return bad("Invalid IMAP URL");
        };
        let Some(MessageDataItemName::BodyExt { section, .. }) = names.first() else {
            return bad("Invalid IMAP URL");
        };
        message::parse(&raw)
            .section(&raw, section.as_ref())
            .map_or_else(|| bad("Message part not found"), Ok)
    }
}

/// `%xx` escapes undone.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(value) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
