//! The extensions beyond IMAP4rev1's core that personalities advertise: SORT and SORT=DISPLAY
//! (RFC 5256, 5957, with I18NLEVEL=1's case folding), THREAD=ORDEREDSUBJECT, REFERENCES and
//! REFS (RFC 5256, 9016), QUOTA (RFC 9208, read-only as Courier and Gmail are) and ACL with
//! ACL2=UNION's `+`/`-` rights (RFC 4314). Their answers were captured from the real servers
//! (containers/captures/dovecot-extensions.txt, courier-extensions.txt).

use std::collections::HashMap;
use std::num::NonZeroU32;

use chrono::{DateTime, FixedOffset};
use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder as _;
use imap_codec::imap_types::core::{Vec1, Vec2};
use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use imap_codec::imap_types::extensions::thread::{Thread, ThreadingAlgorithm};
use imap_codec::imap_types::response::{Data, Response};
use imap_codec::imap_types::search::SearchKey;

use super::super::mailstore::Message;
use super::super::message;
use super::{ImapSession, quote};

/// The ACL commands (RFC 4314), which imap-codec does not parse.
pub(super) const ACL_COMMANDS: &[&str] =
    &["MYRIGHTS", "GETACL", "LISTRIGHTS", "SETACL", "DELETEACL"];

/// The rights the mock grants the owner (Courier's, as captured).
const OWNER_RIGHTS: &str = "acdilrsw";

/// What SORT and THREAD need of one message.
struct Sortable {
    seq: u32,
    uid: u32,
    size: usize,
    arrival: DateTime<FixedOffset>,
    sent: DateTime<FixedOffset>,
    subject: String,
    from: String,
    to: String,
    cc: String,
    display_from: String,
    display_to: String,
    id: Option<String>,
    parent_ids: Vec<String>,
}

impl Sortable {
    fn of(seq: u32, message: &Message) -> Sortable {
        let raw: &[u8] = &message.raw;
        let tree = message::parse(raw);
        let header = tree.header(raw);
        let field = |name: &str| message::field(header, name);
        let first = |name: &str| message::first_address(header, name);
        let mailbox = |name: &str| first(name).map(|a| a.1.to_lowercase()).unwrap_or_default();
        let display = |name: &str| {
            first(name)
                .map(|(display, mailbox, host)| {
                    display.unwrap_or_else(|| format!("{mailbox}@{host}"))
                })
                .unwrap_or_default()
                .to_lowercase()
        };
        let mut parent_ids: Vec<String> = field("References")
            .map(|refs| refs.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        if let Some(reply_to) = field("In-Reply-To") {
            parent_ids.push(reply_to.trim().to_owned());
        }
        Sortable {
            seq,
            uid: message.uid,
            size: raw.len(),
            arrival: message.internal_date,
            sent: field("Date")
                .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
                .unwrap_or(message.internal_date),
            subject: base_subject(&field("Subject").unwrap_or_default()),
            from: mailbox("From"),
            to: mailbox("To"),
            cc: mailbox("Cc"),
            display_from: display("From"),
            display_to: display("To"),
            id: field("Message-ID").map(|id| id.trim().to_owned()),
            parent_ids,
        }
    }

    fn compare(&self, other: &Sortable, key: &SortKey) -> std::cmp::Ordering {
        match key {
            SortKey::Arrival => self.arrival.cmp(&other.arrival),
            SortKey::Cc => self.cc.cmp(&other.cc),
            SortKey::Date => self.sent.cmp(&other.sent),
            SortKey::From => self.from.cmp(&other.from),
            SortKey::Size => self.size.cmp(&other.size),
            SortKey::Subject => self.subject.cmp(&other.subject),
            SortKey::To => self.to.cmp(&other.to),
            SortKey::DisplayFrom => self.display_from.cmp(&other.display_from),
            SortKey::DisplayTo => self.display_to.cmp(&other.display_to),
        }
    }
}

/// RFC 5256's base subject, simplified: reply and forward prefixes, `[blob]`s before them and
/// a trailing `(fwd)` removed, whitespace collapsed, folded to lower case (I18NLEVEL=1's
/// i;unicode-casemap, for the text the mock keeps; encoded words are compared as sent).
fn base_subject(subject: &str) -> String {
    let mut s = subject
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    loop {
        let before = s.clone();
        if let Some(rest) = s.strip_suffix("(fwd)") {
            s = rest.trim_end().to_owned();
        }
        if s.starts_with('[')
            && let Some(end) = s.find(']')
            && !s[end + 1..].trim().is_empty()
        {
            s = s[end + 1..].trim_start().to_owned();
        }
        for prefix in ["re:", "fwd:", "fw:"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest.trim_start().to_owned();
            }
        }
        if s == before {
            return s;
        }
    }
}

/// One message of a thread tree and its children, by index into the messages.
struct Node {
    index: usize,
    children: Vec<Node>,
}

/// A tree as IMAP writes it: a chain of single children is one list, two or more children
/// are nested lists.
fn thread_of(node: &Node, numbers: &[u32]) -> Option<Thread> {
    let mut prefix = vec![NonZeroU32::new(numbers[node.index])?];
    let mut current = node;
    while current.children.len() == 1 {
        current = &current.children[0];
        prefix.push(NonZeroU32::new(numbers[current.index])?);
    }
    let answers = if current.children.len() >= 2 {
        let threads: Vec<Thread> = current
            .children
            .iter()
            .filter_map(|child| thread_of(child, numbers))
            .collect();
        Some(Vec2::try_from(threads).ok()?)
    } else {
        None
    };
    Some(Thread::Members {
        prefix: Vec1::try_from(prefix).ok()?,
        answers,
    })
}

fn by_sent(messages: &[Sortable]) -> impl Fn(&usize, &usize) -> std::cmp::Ordering + '_ {
    move |a, b| {
        let (a, b) = (&messages[*a], &messages[*b]);
        a.sent.cmp(&b.sent).then(a.seq.cmp(&b.seq))
    }
}

/// ORDEREDSUBJECT: one thread per base subject, its first message the parent of the others;
/// threads in the order of their first messages.
fn ordered_subject(messages: &[Sortable]) -> Vec<Node> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_by(by_sent(messages));
    for index in order {
        let subject = &messages[index].subject;
        match groups.iter_mut().find(|(s, _)| s == subject) {
            Some((_, members)) => members.push(index),
            None => groups.push((subject.clone(), vec![index])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| Node {
            index: members[0],
            children: members[1..]
                .iter()
                .map(|&index| Node {
                    index,
                    children: Vec::new(),
                })
                .collect(),
        })
        .collect()
}

/// REFERENCES (and REFS): a message's parent is the nearest message it refers to
/// (References, then In-Reply-To) among those searched; siblings by sent date. REFERENCES
/// orders threads by their first message, REFS by their latest.
fn by_references(messages: &[Sortable], latest_first: bool) -> Vec<Node> {
    let ids: HashMap<&str, usize> = messages
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.id.as_deref().map(|id| (id, i)))
        .collect();
    let parent: Vec<Option<usize>> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m.parent_ids
                .iter()
                .rev()
                .filter_map(|id| ids.get(id.as_str()).copied())
                .find(|&p| p != i)
        })
        .collect();
    // A reference cycle would leave messages without a root: such a message is a root.
    let rooted = |mut i: usize| {
        for _ in 0..messages.len() {
            match parent[i] {
                Some(p) => i = p,
                None => return true,
            }
        }
        false
    };
    fn build(index: usize, parent: &[Option<usize>], messages: &[Sortable], depth: usize) -> Node {
        let mut children: Vec<usize> = (0..parent.len())
            .filter(|&c| parent[c] == Some(index))
            .collect();
        children.sort_by(by_sent(messages));
        Node {
            index,
            children: if depth > messages.len() {
                Vec::new()
            } else {
                children
                    .into_iter()
                    .map(|c| build(c, parent, messages, depth + 1))
                    .collect()
            },
        }
    }
    let mut roots: Vec<usize> = (0..messages.len())
        .filter(|&i| parent[i].is_none() || !rooted(i))
        .collect();
    let latest = |node: &Node| -> DateTime<FixedOffset> {
        fn walk(node: &Node, messages: &[Sortable], best: &mut DateTime<FixedOffset>) {
            *best = (*best).max(messages[node.index].sent);
            for child in &node.children {
                walk(child, messages, best);
            }
        }
        let mut best = messages[node.index].sent;
        walk(node, messages, &mut best);
        best
    };
    roots.sort_by(by_sent(messages));
    let mut trees: Vec<Node> = roots
        .into_iter()
        .map(|root| build(root, &parent, messages, 0))
        .collect();
    if latest_first {
        trees.sort_by_key(|tree| latest(tree));
    }
    trees
}

/// The arguments of an ACL command: atoms and quoted strings (imap-codec has no ACL).
fn acl_arguments(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == ' ' {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut arg = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => arg.extend(chars.next()),
                    '"' => break,
                    c => arg.push(c),
                }
            }
            args.push(arg);
        } else {
            let mut arg = String::new();
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                arg.push(c);
                chars.next();
            }
            args.push(arg);
        }
    }
    args
}

impl ImapSession {
    fn sortables(&self, criteria: &[SearchKey]) -> Vec<Sortable> {
        self.matching(criteria)
            .iter()
            .map(|(seq, message)| Sortable::of(*seq, message))
            .collect()
    }

    pub(super) fn sort(
        &mut self,
        criteria: &[SortCriterion],
        search: &[SearchKey],
        uid: bool,
    ) -> String {
        let messages = match self.sorted(criteria, search) {
            Ok(messages) => messages,
            Err(reply) => return reply,
        };
        let mut line = "* SORT".to_owned();
        for (seq, message_uid) in &messages {
            line.push_str(&format!(" {}", if uid { *message_uid } else { *seq }));
        }
        self.send_line(line);
        self.texts.completed("SORT", None)
    }

    /// The messages matching `search` in the order of `criteria`, as (sequence number,
    /// UID); `Err` with the tagged reply when a key is not advertised.
    pub(super) fn sorted(
        &self,
        criteria: &[SortCriterion],
        search: &[SearchKey],
    ) -> Result<Vec<(u32, u32)>, String> {
        let display = criteria
            .iter()
            .any(|c| matches!(c.key, SortKey::DisplayFrom | SortKey::DisplayTo));
        if display && !self.advertises("SORT=DISPLAY") {
            return Err(self.texts.invalid_arguments.replace("{name}", "SORT"));
        }
        let mut messages = self.sortables(search);
        messages.sort_by(|a, b| {
            criteria
                .iter()
                .map(|c| {
                    let order = a.compare(b, &c.key);
                    if c.reverse { order.reverse() } else { order }
                })
                .find(|order| order.is_ne())
                .unwrap_or(a.seq.cmp(&b.seq))
        });
        Ok(messages.iter().map(|m| (m.seq, m.uid)).collect())
    }

    pub(super) fn thread(
        &mut self,
        algorithm: &ThreadingAlgorithm,
        search: &[SearchKey],
        uid: bool,
    ) -> String {
        let name = match algorithm {
            ThreadingAlgorithm::OrderedSubject => "ORDEREDSUBJECT".to_owned(),
            ThreadingAlgorithm::References => "REFERENCES".to_owned(),
            ThreadingAlgorithm::Other(other) => other.as_ref().to_ascii_uppercase(),
        };
        if !self.advertises(&format!("THREAD={name}")) {
            return self.texts.invalid_arguments.replace("{name}", "THREAD");
        }
        let messages = self.sortables(search);
        let trees = match name.as_str() {
            "ORDEREDSUBJECT" => ordered_subject(&messages),
            "REFS" => by_references(&messages, true),
            _ => by_references(&messages, false),
        };
        let numbers: Vec<u32> = messages
            .iter()
            .map(|m| if uid { m.uid } else { m.seq })
            .collect();
        let threads: Vec<Thread> = trees
            .iter()
            .filter_map(|t| thread_of(t, &numbers))
            .collect();
        let response = Response::Data(Data::Thread(threads));
        let bytes = ResponseCodec::default().encode(&response).dump();
        self.actions.push_back(crate::session::Action::Send(bytes));
        self.texts.completed("THREAD", None)
    }

    /// Storage used by the account, in KiB rounded up (RFC 9208's STORAGE).
    fn storage_kib(&self) -> u64 {
        let bytes: u64 = self.store.with_account(&self.login(), |folders| {
            let total = folders
                .iter()
                .flat_map(|f| &f.messages)
                .map(|m| m.raw.len() as u64)
                .sum();
            (total, false)
        });
        bytes.div_ceil(1024)
    }

    pub(super) fn quota_root(&mut self, mailbox: &str) -> String {
        let exists = self.store.with_account(&self.login(), |folders| {
            (folders.iter().any(|f| f.name == mailbox), false)
        });
        if !exists {
            return self.texts.no_such_mailbox.replace("{mailbox}", mailbox);
        }
        let root = self.texts.quota_root;
        self.send_line(format!("* QUOTAROOT {} \"{root}\"", quote(mailbox)));
        self.quota_line(root);
        self.texts.completed("GETQUOTAROOT", None)
    }

    pub(super) fn quota(&mut self, root: &str) -> String {
        self.quota_line(root);
        self.texts.completed("GETQUOTA", None)
    }

    fn quota_line(&mut self, root: &str) {
        let line = self
            .texts
            .quota_line
            .replace("{root}", root)
            .replace("{used}", &self.storage_kib().to_string());
        self.send_line(line);
    }

    /// MYRIGHTS, GETACL, LISTRIGHTS, SETACL and DELETEACL on the user's own folders.
    pub(super) fn acl(&mut self, tag: &str, name: &str, arguments: &[u8]) {
        let args = acl_arguments(arguments);
        let wanted = match name {
            "MYRIGHTS" | "GETACL" => 1,
            "LISTRIGHTS" | "DELETEACL" => 2,
            _ => 3,
        };
        if args.len() != wanted {
            return self.tagged(tag, self.texts.invalid_arguments.replace("{name}", name));
        }
        let mailbox = if args[0].eq_ignore_ascii_case("INBOX") {
            "INBOX".to_owned()
        } else {
            args[0].clone()
        };
        let quoted = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let result = self.store.with_account(&self.login(), |folders| {
            let Some(folder) = folders.iter_mut().find(|f| f.name == mailbox) else {
                return (None, false);
            };
            let line = match name {
                "MYRIGHTS" => Some(format!(
                    "* MYRIGHTS {} {}",
                    quoted(&mailbox),
                    quoted(OWNER_RIGHTS)
                )),
                "GETACL" => {
                    let mut line = format!("* ACL {}", quoted(&mailbox));
                    for (identifier, rights) in &folder.acl {
                        line.push_str(&format!(" {} {}", quoted(identifier), quoted(rights)));
                    }
                    Some(line)
                }
                "LISTRIGHTS" => Some(format!(
                    "* LISTRIGHTS {} {} \"\" a c d i l p r s w",
                    quoted(&mailbox),
                    quoted(&args[1])
                )),
                "SETACL" => {
                    let (identifier, change) = (&args[1], &args[2]);
                    let current = folder
                        .acl
                        .iter()
                        .find(|(i, _)| i == identifier)
                        .map(|(_, r)| r.clone())
                        .unwrap_or_default();
                    // ACL2=UNION: `+` adds rights, `-` takes them away, else replaces.
                    let rights: String = match change.chars().next() {
                        Some('+') => {
                            let mut r: Vec<char> =
                                current.chars().chain(change[1..].chars()).collect();
                            r.sort_unstable();
                            r.dedup();
                            r.into_iter().collect()
                        }
                        Some('-') => current
                            .chars()
                            .filter(|c| !change[1..].contains(*c))
                            .collect(),
                        _ => change.clone(),
                    };
                    folder.acl.retain(|(i, _)| i != identifier);
                    if !rights.is_empty() {
                        folder.acl.push((identifier.clone(), rights));
                    }
                    None
                }
                _ => {
                    folder.acl.retain(|(i, _)| i != &args[1]);
                    None
                }
            };
            (Some(line), false)
        });
        match result {
            None => self.tagged(
                tag,
                self.texts.no_such_mailbox.replace("{mailbox}", &mailbox),
            ),
            Some(line) => {
                if let Some(line) = line {
                    self.send_line(line);
                }
                self.tagged(tag, self.texts.completed(name, None));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_subjects_drop_reply_and_forward_marks() {
        assert_eq!(base_subject("Re: Welcome"), "welcome");
        assert_eq!(
            base_subject("[list] Fwd: RE:  Big   news (fwd)"),
            "big news"
        );
        assert_eq!(base_subject("[only]"), "[only]");
    }

    #[test]
    fn acl_arguments_are_atoms_and_quoted_strings() {
        assert_eq!(
            acl_arguments(b"\"INBOX.My \\\"box\\\"\" alice +lr"),
            ["INBOX.My \"box\"", "alice", "+lr"]
        );
    }
}
