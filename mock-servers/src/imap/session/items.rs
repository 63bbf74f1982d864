//! Message data that extensions add and imap-codec does not parse: the FETCH items PREVIEW
//! (RFC 8970), Dovecot's SNIPPET (FUZZY), SAVEDATE (RFC 8514) and Gmail's X-GM-MSGID,
//! X-GM-THRID and X-GM-LABELS (X-GM-EXT-1); the SEARCH keys SAVEDBEFORE, SAVEDON,
//! SAVEDSINCE, SAVEDATESUPPORTED and Gmail's X-GM-RAW, X-GM-MSGID, X-GM-THRID and
//! X-GM-LABELS; and `STORE ±X-GM-LABELS`.
//!
//! A FETCH loses these items before imap-codec reads it and `fetch` adds them to each
//! answer; a SEARCH key is evaluated here and replaced by the `UID` set of what it matched,
//! so that it combines with NOT, OR and the other keys. Dovecot's forms are captured
//! (containers/captures/dovecot-rfc-extensions.txt); Gmail's follow Google's IMAP extensions
//! page (developers.google.com/gmail/imap/imap-extensions), as docs/servers.md says.

use chrono::NaiveDate;

use super::super::args::{self, Arg};
use super::super::mailstore::Message;
use super::super::message;
use super::super::preview::preview;
use super::ImapSession;
use super::esearch::NO_UID;
use super::mail::uid_set;

/// A FETCH item imap-codec does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FetchExtra {
    Preview,
    Snippet,
    SaveDate,
    GmMsgId,
    GmThrId,
    GmLabels,
}

/// The extra items of the FETCH being answered, and whether nothing else was asked.
#[derive(Default)]
pub(super) struct PendingExtras {
    pub(super) items: Vec<FetchExtra>,
    pub(super) only: bool,
}

/// What an extension SEARCH key asks of a message.
type Test = Box<dyn Fn(&Message) -> bool>;

impl FetchExtra {
    /// The item named `word`, with the capability that brings it.
    fn named(word: &str) -> Option<(FetchExtra, &'static str)> {
        Some(match word.to_ascii_uppercase().as_str() {
            "PREVIEW" => (FetchExtra::Preview, "PREVIEW"),
            "SNIPPET" => (FetchExtra::Snippet, "SNIPPET=FUZZY"),
            "SAVEDATE" => (FetchExtra::SaveDate, "SAVEDATE"),
            "X-GM-MSGID" => (FetchExtra::GmMsgId, "X-GM-EXT-1"),
            "X-GM-THRID" => (FetchExtra::GmThrId, "X-GM-EXT-1"),
            "X-GM-LABELS" => (FetchExtra::GmLabels, "X-GM-EXT-1"),
            _ => return None,
        })
    }

    /// The item as an answer shows it for `message`.
    pub(super) fn answer(self, message: &Message) -> String {
        match self {
            FetchExtra::Preview => format!("PREVIEW {}", quoted(&preview(&message.raw))),
            FetchExtra::Snippet => {
                format!("SNIPPET (FUZZY {})", quoted(&preview(&message.raw)))
            }
            FetchExtra::SaveDate => format!(
                "SAVEDATE \"{}\"",
                message.saved.format("%d-%b-%Y %H:%M:%S %z")
            ),
            FetchExtra::GmMsgId => format!("X-GM-MSGID {}", gm_msgid(message)),
            FetchExtra::GmThrId => format!("X-GM-THRID {}", gm_thrid(message)),
            FetchExtra::GmLabels => format!("X-GM-LABELS ({})", labels(&message.labels)),
        }
    }
}

/// A quoted string, or a literal where quoting cannot carry the text.
fn quoted(text: &str) -> String {
    if text.contains(['\r', '\n']) || !text.is_ascii() {
        return format!("{{{}}}\r\n{text}", text.len());
    }
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Gmail's labels as a list: system labels (`\Inbox`) as atoms, the others quoted
/// when they need it.
fn labels(labels: &[String]) -> String {
    labels
        .iter()
        .map(|l| {
            if l.starts_with('\\') || l.chars().all(|c| c.is_ascii_alphanumeric()) {
                l.clone()
            } else {
                quoted(l)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// FNV-1a: a stable 64-bit hash (the ids must not change between runs or Rust versions).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Gmail's message id: the same for every copy of a message (from its Message-ID, or
/// its bytes), a positive 63-bit number as Gmail's are.
fn gm_msgid(message: &Message) -> u64 {
    let raw: &[u8] = &message.raw;
    let header = message::parse(raw).header(raw).to_vec();
    let id = message::field(&header, "Message-ID");
    let key = id.map_or_else(|| raw.to_vec(), |id| id.trim().as_bytes().to_vec());
    fnv(&key) >> 1
}

/// Gmail's thread id: the message id of the thread's first message, by References and
/// In-Reply-To.
fn gm_thrid(message: &Message) -> u64 {
    let raw: &[u8] = &message.raw;
    let header = message::parse(raw).header(raw).to_vec();
    let root = message::field(&header, "References")
        .and_then(|refs| refs.split_whitespace().next().map(str::to_owned))
        .or_else(|| message::field(&header, "In-Reply-To").map(|r| r.trim().to_owned()));
    match root {
        Some(root) => fnv(root.as_bytes()) >> 1,
        None => gm_msgid(message),
    }
}

/// `span` with the spaces that separate it from its neighbours: those before it, or
/// after it when it opens a list.
fn with_space(bytes: &[u8], mut span: std::ops::Range<usize>) -> std::ops::Range<usize> {
    if span.start > 0 && bytes[span.start - 1] == b' ' {
        while span.start > 0 && bytes[span.start - 1] == b' ' {
            span.start -= 1;
        }
    } else {
        while bytes.get(span.end) == Some(&b' ') {
            span.end += 1;
        }
    }
    span
}

/// A date as SEARCH writes it (`1-Feb-2026`).
fn search_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%d-%b-%Y").ok()
}

impl ImapSession {
    /// FETCH with extension items: the arguments without them (`None` when there are
    /// none), and the items kept for `fetch` to answer.
    pub(super) fn fetch_extended(&mut self, arguments: &[u8]) -> Option<Vec<u8>> {
        let parsed = args::parse(arguments).ok()?;
        let items = parsed.get(1)?;
        let list: Vec<&Arg> = match items.list() {
            Some(list) => list.iter().collect(),
            None => vec![items],
        };
        let mut extras = Vec::new();
        let mut cut: Vec<std::ops::Range<usize>> = Vec::new();
        let mut kept = 0;
        let mut index = 0;
        while index < list.len() {
            let item = list[index];
            let found = item
                .atom()
                .and_then(FetchExtra::named)
                .filter(|(_, capability)| self.advertises(capability));
            let Some((extra, _)) = found else {
                kept += 1;
                index += 1;
                continue;
            };
            let mut span = item.span.clone();
            // PREVIEW (LAZY) and SNIPPET (FUZZY) carry a modifier list.
            if matches!(extra, FetchExtra::Preview | FetchExtra::Snippet)
                && let Some(modifier) = list.get(index + 1).filter(|a| a.list().is_some())
            {
                span.end = modifier.span.end;
                index += 1;
            }
            extras.push(extra);
            cut.push(with_space(arguments, span));
            index += 1;
        }
        if extras.is_empty() {
            return None;
        }
        // Nothing imap-codec knows left: it reads FLAGS, which `fetch` drops.
        let replacements: Vec<(std::ops::Range<usize>, &[u8])> = if kept == 0 {
            vec![(items.span.clone(), b"FLAGS")]
        } else {
            cut.into_iter().map(|span| (span, &b""[..])).collect()
        };
        let out = args::splice(arguments, &replacements);
        self.pending_extras = PendingExtras {
            items: extras,
            only: kept == 0,
        };
        Some(out)
    }

    /// SEARCH keys of extensions, each replaced by `UID set` of the messages it matches;
    /// `None` when there are none.
    pub(super) fn search_keys_extended(&self, arguments: &[u8]) -> Option<Vec<u8>> {
        let parsed = args::parse(arguments).ok()?;
        let mut splices = Vec::new();
        self.extension_keys(&parsed, &mut splices);
        if splices.is_empty() {
            return None;
        }
        Some(args::splice(arguments, &splices))
    }

    /// Finds the extension keys among `keys` (lists included), with what replaces them.
    fn extension_keys(&self, keys: &[Arg], splices: &mut Vec<(std::ops::Range<usize>, String)>) {
        let mut index = 0;
        while index < keys.len() {
            let key = &keys[index];
            if let Some(items) = key.list() {
                self.extension_keys(items, splices);
                index += 1;
                continue;
            }
            let word = key.atom().unwrap_or_default().to_ascii_uppercase();
            let value = keys.get(index + 1).and_then(Arg::text);
            let test = self.extension_key(&word, value);
            let Some((test, takes_value)) = test else {
                index += 1;
                continue;
            };
            let end = if takes_value {
                keys[index + 1].span.end
            } else {
                key.span.end
            };
            let uids: Vec<u32> = self
                .matching(&[])
                .iter()
                .filter(|(_, m)| test(m))
                .map(|(_, m)| m.uid)
                .collect();
            let set = if uids.is_empty() {
                NO_UID.to_owned()
            } else {
                uid_set(&uids)
            };
            splices.push((key.span.start..end, format!("UID {set}")));
            index += if takes_value { 2 } else { 1 };
        }
    }

    /// The test of extension key `word` with the argument after it (`value`), and whether
    /// it takes that argument; `None` for any other key or a value it cannot take.
    fn extension_key(&self, word: &str, value: Option<String>) -> Option<(Test, bool)> {
        let savedate = self.advertises("SAVEDATE");
        let gmail = self.advertises("X-GM-EXT-1");
        let test: Test = match word {
            "SAVEDATESUPPORTED" if savedate => return Some((Box::new(|_| true), false)),
            "SAVEDBEFORE" if savedate => {
                let date = search_date(&value?)?;
                Box::new(move |m| m.saved.date_naive() < date)
            }
            "SAVEDON" if savedate => {
                let date = search_date(&value?)?;
                Box::new(move |m| m.saved.date_naive() == date)
            }
            "SAVEDSINCE" if savedate => {
                let date = search_date(&value?)?;
                Box::new(move |m| m.saved.date_naive() >= date)
            }
            "X-GM-MSGID" if gmail => {
                let id: u64 = value?.parse().ok()?;
                Box::new(move |m| gm_msgid(m) == id)
            }
            "X-GM-THRID" if gmail => {
                let id: u64 = value?.parse().ok()?;
                Box::new(move |m| gm_thrid(m) == id)
            }
            "X-GM-LABELS" if gmail => {
                let label = value?;
                Box::new(move |m| m.labels.iter().any(|l| l.eq_ignore_ascii_case(&label)))
            }
            "X-GM-RAW" if gmail => {
                let query = value?;
                Box::new(move |m| gmail_query(&query, m))
            }
            _ => return None,
        };
        Some((test, true))
    }

    /// `STORE set ±X-GM-LABELS[.SILENT] (labels)`: the labels changed, the answer
    /// returned; `None` for any other STORE.
    pub(super) fn store_labels(&mut self, uid: bool, arguments: &[u8]) -> Option<String> {
        if !self.advertises("X-GM-EXT-1") {
            return None;
        }
        let parsed = args::parse(arguments).ok()?;
        let [set, kind, values] = parsed.as_slice() else {
            return None;
        };
        let kind = kind.atom()?.to_ascii_uppercase();
        let (op, silent) = match kind.trim_end_matches(".SILENT") {
            "+X-GM-LABELS" => ('+', kind.ends_with(".SILENT")),
            "-X-GM-LABELS" => ('-', kind.ends_with(".SILENT")),
            "X-GM-LABELS" => ('=', kind.ends_with(".SILENT")),
            _ => return None,
        };
        let given: Vec<String> = match values.list() {
            Some(list) => list.iter().filter_map(Arg::text).collect(),
            None => values.text().into_iter().collect(),
        };
        let command = format!(
            "s {}FETCH {} UID\r\n",
            if uid { "UID " } else { "" },
            set.text()?
        );
        let Ok((_, parsed)) = imap_codec::decode::Decoder::decode(
            &imap_codec::CommandCodec::default(),
            command.as_bytes(),
        ) else {
            return Some(self.texts.invalid_arguments.replace("{name}", "STORE"));
        };
        let imap_codec::imap_types::command::CommandBody::Fetch { sequence_set, .. } = parsed.body
        else {
            return None;
        };
        let pairs = match self.resolve(&sequence_set, uid) {
            Ok(pairs) => pairs,
            Err(n) => return Some(self.invalid_messageset("STORE", n)),
        };
        let name = self.selection.as_ref()?.name.clone();
        let changed: Vec<(u32, Message)> = self.store.with_account(&self.login(), |folders| {
            let Some(folder) = folders.iter_mut().find(|f| f.name == name) else {
                return (Vec::new(), false);
            };
            let mut changed = Vec::new();
            for (seq, message_uid) in &pairs {
                let Some(message) = folder.messages.iter_mut().find(|m| m.uid == *message_uid)
                else {
                    continue;
                };
                match op {
                    '+' => {
                        for label in &given {
                            if !message.labels.contains(label) {
                                message.labels.push(label.clone());
                            }
                        }
                    }
                    '-' => message.labels.retain(|l| !given.contains(l)),
                    _ => message.labels = given.clone(),
                }
                changed.push((*seq, message.clone()));
            }
            (changed, false)
        });
        if !silent {
            for (seq, message) in changed {
                let uid_item = if uid {
                    format!(" UID {}", message.uid)
                } else {
                    String::new()
                };
                self.send_line(format!(
                    "* {seq} FETCH ({}{uid_item})",
                    FetchExtra::GmLabels.answer(&message)
                ));
            }
        }
        Some(self.texts.completed("STORE", None))
    }
}

/// A Gmail search query (X-GM-RAW), as far as the mock understands one: every term must
/// hold; `from:`, `to:`, `subject:`, `label:`, `has:attachment`, `is:unread`, `is:read`,
/// `is:starred`, and bare words searched in the whole message.
fn gmail_query(query: &str, message: &Message) -> bool {
    let raw: &[u8] = &message.raw;
    let tree = message::parse(raw);
    let header = tree.header(raw);
    let contains =
        |haystack: &str, needle: &str| haystack.to_lowercase().contains(&needle.to_lowercase());
    let field = |name: &str| message::field(header, name).unwrap_or_default();
    query.split_whitespace().all(|term| {
        let term = term.trim_matches('"');
        match term.split_once(':') {
            Some(("from", v)) => contains(&field("From"), v),
            Some(("to", v)) => contains(&field("To"), v),
            Some(("subject", v)) => contains(&field("Subject"), v),
            Some(("label", v)) => message.labels.iter().any(|l| l.eq_ignore_ascii_case(v)),
            Some(("has", "attachment")) => String::from_utf8_lossy(raw)
                .to_ascii_lowercase()
                .contains("content-disposition: attachment"),
            Some(("is", "unread")) => !message.has_flag("\\Seen"),
            Some(("is", "read")) => message.has_flag("\\Seen"),
            Some(("is", "starred")) => message.has_flag("\\Flagged"),
            _ => contains(&String::from_utf8_lossy(raw), term),
        }
    })
}
