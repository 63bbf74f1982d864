//! The commands after login: folders (SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE,
//! LIST, LSUB, XLIST, STATUS, APPEND, NAMESPACE), the selected state (CHECK, CLOSE, UNSELECT,
//! EXPUNGE, COPY, MOVE; SEARCH, FETCH and STORE are in `search` and `fetch`), IDLE and
//! ENABLE, all on the account's folders in the shared [`Mailstore`].
//!
//! A command an extension brings (MOVE, UNSELECT, IDLE, NAMESPACE, ENABLE, XLIST, UID
//! EXPUNGE) works only when the personality advertises the extension; otherwise it is
//! refused as the real server refuses a command it does not know.

use imap_codec::imap_types::command::{CommandBody, SelectParameter};
use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_codec::imap_types::flag::Flag;
use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};
use imap_codec::imap_types::status::StatusDataItemName;

use super::super::mailstore::{Folder, UID_VALIDITY};
use super::append_extended::Appended;
use super::qresync::Known;
use super::{ImapSession, Selection, State, quote, wildcard_match};

/// The STATUS items in the order Dovecot writes them; the other personalities follow the
/// request (Courier's captures asked in this order, so they cannot tell).
const STATUS_ORDER: &[StatusDataItemName] = &[
    StatusDataItemName::Messages,
    StatusDataItemName::Recent,
    StatusDataItemName::UidNext,
    StatusDataItemName::UidValidity,
    StatusDataItemName::Unseen,
    StatusDataItemName::Deleted,
    StatusDataItemName::HighestModSeq,
    StatusDataItemName::Size,
];

/// What an extended LIST (RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154) asked;
/// the default is a plain LIST.
#[derive(Default)]
pub(super) struct ListOptions {
    /// The command had the extended syntax: children and special use only on request.
    pub(super) extended: bool,
    /// Selection options.
    pub(super) subscribed: bool,
    pub(super) special_use: bool,
    pub(super) recursive: bool,
    /// Return options.
    pub(super) return_subscribed: bool,
    pub(super) return_children: bool,
    pub(super) return_special_use: bool,
    pub(super) status: Option<Vec<StatusDataItemName>>,
}

/// Which listing command.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Listing {
    List,
    Lsub,
    Xlist,
}

/// The name a client gave a folder: INBOX in any case is `INBOX`.
pub(super) fn mailbox_name(mailbox: &Mailbox) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".to_owned(),
        Mailbox::Other(other) => String::from_utf8_lossy(other.as_ref()).into_owned(),
    }
}

fn list_pattern(pattern: &ListMailbox) -> String {
    match pattern {
        ListMailbox::Token(token) => String::from_utf8_lossy(token.as_ref()).into_owned(),
        ListMailbox::String(string) => String::from_utf8_lossy(string.as_ref()).into_owned(),
    }
}

/// `1:3,5` for a list of UIDs, as COPYUID and APPENDUID write them.
pub(super) fn uid_set(uids: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        i += 1;
    }
    out.join(",")
}

/// Whether `n` is in `set`, with `*` standing for `largest`.
pub(super) fn in_set(set: &SequenceSet, n: u32, largest: u32) -> bool {
    let value = |v: &SeqOrUid| match v {
        SeqOrUid::Value(v) => v.get(),
        SeqOrUid::Asterisk => largest,
    };
    set.0.as_ref().iter().any(|sequence| match sequence {
        Sequence::Single(v) => value(v) == n,
        Sequence::Range(a, b) => {
            let (a, b) = (value(a), value(b));
            (a.min(b)..=a.max(b)).contains(&n)
        }
    })
}

impl ImapSession {
    /// A command of the authenticated or selected state.
    pub(super) fn mail_command(&mut self, tag: &str, body: CommandBody, xlist: bool) {
        let name = body.name();
        let selected = self.selection.is_some();
        // Commands an extension brings, refused like unknown ones without it.
        let extension = match &body {
            CommandBody::Move { .. } => Some("MOVE"),
            CommandBody::Unselect => Some("UNSELECT"),
            CommandBody::Idle => Some("IDLE"),
            CommandBody::Namespace => Some("NAMESPACE"),
            CommandBody::Enable { .. } => Some("ENABLE"),
            CommandBody::ExpungeUid { .. } => Some("UIDPLUS"),
            CommandBody::Sort { .. } => Some("SORT"),
            CommandBody::GetQuota { .. }
            | CommandBody::GetQuotaRoot { .. }
            | CommandBody::SetQuota { .. } => Some("QUOTA"),
            CommandBody::List { .. } if xlist => Some("XLIST"),
            CommandBody::Compress { .. } => Some("COMPRESS=DEFLATE"),
            _ => None,
        };
        if extension.is_some_and(|capability| !self.advertises(capability)) {
            let shown = if xlist { "XLIST" } else { name };
            return self.tagged(tag, self.texts.unknown_command.replace("{name}", shown));
        }
        let needs_selection = matches!(
            body,
            CommandBody::Check
                | CommandBody::Close
                | CommandBody::Unselect
                | CommandBody::Expunge
                | CommandBody::ExpungeUid { .. }
                | CommandBody::Search { .. }
                | CommandBody::Sort { .. }
                | CommandBody::Thread { .. }
                | CommandBody::Fetch { .. }
                | CommandBody::Store { .. }
                | CommandBody::Copy { .. }
                | CommandBody::Move { .. }
        );
        if needs_selection && !selected {
            return self.tagged(tag, self.texts.not_selected.replace("{name}", name));
        }
        // Expunges are not announced during FETCH, STORE and SEARCH (RFC 3501 §7.4.1).
        let mut announce_expunges = true;
        let reply = match body {
            CommandBody::Select {
                mailbox,
                parameters,
            } => match self.condstore_parameters(&parameters) {
                Ok(known) => self.select_known(&mailbox_name(&mailbox), false, known),
                Err(reply) => reply,
            },
            CommandBody::Examine {
                mailbox,
                parameters,
            } => match self.condstore_parameters(&parameters) {
                Ok(known) => self.select_known(&mailbox_name(&mailbox), true, known),
                Err(reply) => reply,
            },
            CommandBody::Create { mailbox } => self.create(&mailbox_name(&mailbox)),
            CommandBody::Delete { mailbox } => self.delete(&mailbox_name(&mailbox)),
            CommandBody::Rename { from, to } => {
                self.rename(&mailbox_name(&from), &mailbox_name(&to))
            }
            CommandBody::Subscribe { mailbox } => self.subscribe(&mailbox_name(&mailbox), true),
            CommandBody::Unsubscribe { mailbox } => self.subscribe(&mailbox_name(&mailbox), false),
            CommandBody::List {
                reference,
                mailbox_wildcard,
            } => {
                let listing = if xlist { Listing::Xlist } else { Listing::List };
                self.list(
                    &mailbox_name(&reference),
                    &[list_pattern(&mailbox_wildcard)],
                    listing,
                    &ListOptions::default(),
                )
            }
            CommandBody::Lsub {
                reference,
                mailbox_wildcard,
            } => self.list(
                &mailbox_name(&reference),
                &[list_pattern(&mailbox_wildcard)],
                Listing::Lsub,
                &ListOptions::default(),
            ),
            CommandBody::Status {
                mailbox,
                item_names,
            } => self.status(&mailbox_name(&mailbox), &item_names),
            CommandBody::Append {
                mailbox,
                flags,
                date,
                message,
            } => self.append(
                &mailbox_name(&mailbox),
                &flags,
                date.map(|d| *d.as_ref()),
                match &message {
                    LiteralOrLiteral8::Literal(literal) => literal.as_ref(),
                    LiteralOrLiteral8::Literal8(literal) => literal.data.as_ref(),
                },
            ),
            CommandBody::Namespace => {
                self.send_line(self.texts.namespace);
                self.texts.completed("NAMESPACE", None)
            }
            CommandBody::Enable { capabilities } => {
                // Only what the mock implements is enabled: UTF8=ACCEPT (names are bytes
                // to the store either way), CONDSTORE and QRESYNC.
                let enabled: Vec<String> = capabilities
                    .as_ref()
                    .iter()
                    .map(ToString::to_string)
                    .filter(|c| {
                        (c.eq_ignore_ascii_case("UTF8=ACCEPT")
                            || c.eq_ignore_ascii_case("CONDSTORE")
                            || c.eq_ignore_ascii_case("QRESYNC"))
                            && self.advertises(c)
                    })
                    .collect();
                if enabled.iter().any(|c| c.eq_ignore_ascii_case("QRESYNC")) {
                    // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
                    self.qresync = true;
                }
                if enabled.iter().any(|c| {
                    c.eq_ignore_ascii_case("CONDSTORE") || c.eq_ignore_ascii_case("QRESYNC")
                }) {
                    // Dovecot tells the HIGHESTMODSEQ of the selected folder first
                    // (containers/captures/dovecot-mailbox.txt).
                    self.enable_condstore();
                }
                let mut line = "* ENABLED".to_owned();
                for capability in enabled {
                    line.push(' ');
                    line.push_str(&capability);
                }
                self.send_line(line);
                self.texts.completed("ENABLE", None)
            }
            CommandBody::Idle => {
                self.send_line(self.texts.idle_continuation);
                self.state = State::Idling {
                    tag: tag.to_owned(),
                };
                self.sync(true);
                return;
            }
            // RFC 4978 §3: once only.
            CommandBody::Compress { .. } if self.compressed => {
                "NO [COMPRESSIONACTIVE] DEFLATE active".to_owned()
            }
            CommandBody::Compress { .. } => {
                // The OK goes out in the clear; everything after it is compressed.
                self.compressed = true;
                self.tagged(tag, self.texts.completed("COMPRESS", None));
                self.actions.push_back(crate::session::Action::Compress);
                return;
            }
            CommandBody::Check => self.texts.completed("CHECK", None),
            CommandBody::Close => {
                self.expunge(None, false);
                self.unselect();
                self.texts.completed("CLOSE", None)
            }
            CommandBody::Unselect => {
                self.unselect();
                self.texts.completed("UNSELECT", None)
            }
            CommandBody::Expunge => {
                self.expunge(None, true);
                self.expunge_done()
            }
            CommandBody::ExpungeUid { sequence_set } => {
                self.expunge(Some(&sequence_set), true);
                self.expunge_done()
            }
            CommandBody::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(&sequence_set, uid, &mailbox_name(&mailbox), false),
            CommandBody::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(&sequence_set, uid, &mailbox_name(&mailbox), true),
            CommandBody::Search { criteria, uid, .. } => {
                announce_expunges = false;
                self.search(criteria.as_ref(), uid)
            }
            CommandBody::Sort {
                sort_criteria,
                search_criteria,
                uid,
                ..
            } => {
                announce_expunges = false;
                self.sort(sort_criteria.as_ref(), search_criteria.as_ref(), uid)
            }
            CommandBody::Thread {
                algorithm,
                search_criteria,
                uid,
                ..
            } => {
                announce_expunges = false;
                self.thread(&algorithm, search_criteria.as_ref(), uid)
            }
            CommandBody::GetQuotaRoot { mailbox } => self.quota_root(&mailbox_name(&mailbox)),
            CommandBody::GetQuota { root } => self.quota(&String::from_utf8_lossy(root.as_ref())),
            CommandBody::SetQuota { .. } => self.texts.setquota_refused.to_owned(),
            CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                modifiers,
            } => {
                announce_expunges = false;
                self.fetch(&sequence_set, macro_or_item_names, uid, &modifiers)
            }
            CommandBody::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                modifiers,
            } => {
                announce_expunges = false;
                self.store(&sequence_set, &kind, &response, &flags, uid, &modifiers)
            }
            _ => self.texts.unknown_command.replace("{name}", name),
        };
        if self.selection.is_some() {
            self.sync(announce_expunges);
        }
        self.tagged(tag, reply);
    }

    /// The user's login; every caller runs after login.
    pub(super) fn login(&self) -> String {
        self.user.clone().unwrap_or_default()
    }

    /// Tells the client what changed in the selected folder since it last heard: messages
    /// gone (`EXPUNGE`, when `expunges` is allowed at this point) and new ones (`EXISTS`).
    pub(super) fn sync(&mut self, expunges: bool) {
        let Some(selection) = &self.selection else {
            return;
        };
        let name = selection.name.clone();
        let current: Option<Vec<u32>> = self.store.with_account(&self.login(), |folders| {
            let uids = folders
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.messages.iter().map(|m| m.uid).collect());
            (uids, false)
        });
        let Some(current) = current else {
            return;
        };
        let mut lines = Vec::new();
        let selection = self.selection.as_mut().expect("checked above");
        if expunges {
            let mut vanished = Vec::new();
            for index in (0..selection.uids.len()).rev() {
                if current.binary_search(&selection.uids[index]).is_err() {
                    vanished.push(selection.uids.remove(index));
                    lines.push(format!("* {} EXPUNGE", index + 1));
                }
            }
            // QRESYNC (RFC 7162 §3.2.10): one VANISHED line instead.
            if self.qresync && !vanished.is_empty() {
                vanished.reverse();
                lines = vec![format!("* VANISHED {}", uid_set(&vanished))];
            }
        }
        let last = selection.uids.last().copied().unwrap_or(0);
        let new: Vec<u32> = current.into_iter().filter(|&uid| uid > last).collect();
        if !new.is_empty() {
            selection.uids.extend(&new);
            lines.push(format!("* {} EXISTS", selection.uids.len()));
        }
        for line in lines {
            self.send_line(line);
        }
        self.notify_new_messages(&new);
        if !self.contexts.is_empty() {
            self.update_contexts();
        }
    }

    /// A line inside IDLE: `DONE` ends it.
    pub(super) fn idle_line(&mut self, line: &[u8]) {
        let State::Idling { tag } = &self.state else {
            return;
        };
        let tag = tag.clone();
        self.state = if self.selection.is_some() {
            State::Selected
        } else {
            State::Authenticated
        };
        if line.trim_ascii().eq_ignore_ascii_case(b"DONE") {
            self.tagged(&tag, self.texts.completed("IDLE", None));
        } else {
            // Dovecot's answer (src/imap/cmd-idle.c).
            self.tagged(&tag, "BAD Expected DONE.");
        }
    }

    /// The SELECT/EXAMINE parameters: `(CONDSTORE)` turns CONDSTORE on where advertised;
    /// `(QRESYNC (...))`, once QRESYNC is enabled, is what the client knows.
    fn condstore_parameters(
        &mut self,
        parameters: &[SelectParameter],
    ) -> Result<Option<Known>, String> {
        let mut known = None;
        for parameter in parameters {
            match parameter {
                SelectParameter::CondStore if self.advertises("CONDSTORE") => {
                    self.condstore = true;
                }
                SelectParameter::QResync {
                    uid_validity,
                    mod_sequence_value,
                    known_uids,
                    ..
                } if self.qresync => {
                    known = Some(Known {
                        uid_validity: uid_validity.get(),
                        modseq: mod_sequence_value.get(),
                        uids: known_uids.clone(),
                    });
                }
                _ => {
                    return Err(self.texts.invalid_arguments.replace("{name}", "SELECT"));
                }
            }
        }
        Ok(known)
    }

    /// SELECT or EXAMINE, then QRESYNC's answer to what the client knows.
    fn select_known(&mut self, name: &str, read_only: bool, known: Option<Known>) -> String {
        let reply = self.select(name, read_only);
        if let Some(known) = known
            && self.selection.is_some()
        {
            self.resynchronise(&known);
        }
        reply
    }

    /// CONDSTORE on (RFC 7162 §3.1): with a folder selected, its HIGHESTMODSEQ first.
    pub(super) fn enable_condstore(&mut self) {
        if self.condstore {
            return;
        }
        self.condstore = true;
        let Some(selection) = &self.selection else {
            return;
        };
        let name = selection.name.clone();
        let highest = self.store.with_account(&self.login(), |folders| {
            (
                folders
                    .iter()
                    .find(|f| f.name == name)
                    .map(|f| f.highest_modseq),
                false,
            )
        });
        if let Some(highest) = highest {
            let line = self
                .texts
                .highest_modseq
                .replace("{modseq}", &highest.to_string());
            self.send_line(line);
        }
    }

    fn unselect(&mut self) {
        self.selection = None;
        self.saved.clear();
        self.contexts.clear();
        self.state = State::Authenticated;
    }

    fn select(&mut self, name: &str, read_only: bool) -> String {
        self.saved.clear();
        self.contexts.clear();
        if self.selection.take().is_some()
            && let Some(line) = self.texts.select_closed
        {
            self.send_line(line);
        }
        self.state = State::Authenticated;
        let found = self.store.with_account(&self.login(), |folders| {
            let found = folders.iter().find(|f| f.name == name).map(|f| {
                let uids: Vec<u32> = f.messages.iter().map(|m| m.uid).collect();
                let first_unseen = f
                    .messages
                    .iter()
                    .position(|m| !m.has_flag("\\Seen"))
                    .map(|i| i + 1);
                (uids, first_unseen, f.uid_next, f.highest_modseq)
            });
            (found, false)
        });
        let Some((uids, first_unseen, uid_next, highest)) = found else {
            return self.texts.no_such_mailbox.replace("{mailbox}", name);
        };
        for line in self.texts.select_lines {
            let line = if read_only && line.starts_with("* OK [PERMANENTFLAGS") {
                self.texts.examine_permanent_flags
            } else {
                line
            };
            if line.contains("{unseen}") && first_unseen.is_none() {
                continue;
            }
            let line = line
                .replace("{exists}", &uids.len().to_string())
                .replace("{recent}", "0")
                .replace("{unseen}", &first_unseen.unwrap_or(0).to_string())
                .replace("{uidvalidity}", &UID_VALIDITY.to_string())
                .replace("{uidnext}", &uid_next.to_string());
            self.send_line(line);
        }
        if self.condstore {
            self.send_line(
                self.texts
                    .highest_modseq
                    .replace("{modseq}", &highest.to_string()),
            );
        }
        self.selection = Some(Selection {
            name: name.to_owned(),
            read_only,
            uids,
        });
        self.state = State::Selected;
        let reply = if read_only {
            self.texts.examine_ok
        } else {
            self.texts.select_ok
        };
        reply.replace("{mailbox}", name)
    }

    /// Whether `name` may be created here: inside the personal namespace (Courier's
    /// `INBOX.`).
    fn valid_new_name(&self, name: &str) -> bool {
        let prefix = self.texts.personal_prefix;
        !name.is_empty() && name != "INBOX" && (prefix.is_empty() || name.starts_with(prefix))
    }

    fn create(&mut self, name: &str) -> String {
        // A trailing delimiter asks for a folder meant to hold others: the same folder here.
        let name = name.trim_end_matches(self.texts.delimiter);
        if !self.valid_new_name(name) {
            return self.texts.invalid_name.to_owned();
        }
        let created = self.store.with_account(&self.login(), |folders| {
            if folders.iter().any(|f| f.name == name) {
                return (false, false);
            }
            folders.push(Folder::new(name.to_owned(), None));
            (true, false)
        });
        if created {
            self.texts.completed("CREATE", None)
        } else {
            self.texts.already_exists.replace("{mailbox}", name)
        }
    }

    fn delete(&mut self, name: &str) -> String {
        if name == "INBOX" {
            // No real server's text was captured for this; RFC 3501 only says it is an error.
            return "NO [CANNOT] INBOX can't be deleted.".to_owned();
        }
        let deleted = self.store.with_account(&self.login(), |folders| {
            let before = folders.len();
            folders.retain(|f| f.name != name);
            (folders.len() < before, true)
        });
        if !deleted {
            return self.texts.delete_missing.replace("{mailbox}", name);
        }
        if self.selection.as_ref().is_some_and(|s| s.name == name) {
            self.unselect();
        }
        self.texts.completed("DELETE", None)
    }

    fn rename(&mut self, from: &str, to: &str) -> String {
        if from == "INBOX" {
            // Not modelled: RFC 3501's move of INBOX's messages into a new folder.
            return "NO [CANNOT] Renaming INBOX isn't supported.".to_owned();
        }
        if !self.valid_new_name(to) {
            return self.texts.invalid_name.to_owned();
        }
        let delimiter = self.texts.delimiter;
        let child_prefix = format!("{from}{delimiter}");
        let outcome = self.store.with_account(&self.login(), |folders| {
            if !folders.iter().any(|f| f.name == from) {
                return (Err(false), false);
            }
            if folders.iter().any(|f| f.name == to) {
                return (Err(true), false);
            }
            for folder in folders.iter_mut() {
                if folder.name == from {
                    folder.name = to.to_owned();
                } else if let Some(rest) = folder.name.strip_prefix(&child_prefix) {
                    folder.name = format!("{to}{delimiter}{rest}");
                }
            }
            (Ok(()), false)
        });
        match outcome {
            Ok(()) => self.texts.completed("RENAME", None),
            Err(true) => self.texts.already_exists.replace("{mailbox}", to),
            Err(false) => self.texts.delete_missing.replace("{mailbox}", from),
        }
    }

    fn subscribe(&mut self, name: &str, subscribed: bool) -> String {
        self.store.with_account(&self.login(), |folders| {
            if let Some(folder) = folders.iter_mut().find(|f| f.name == name) {
                folder.subscribed = subscribed;
            }
            ((), false)
        });
        self.texts.completed(
            if subscribed {
                "SUBSCRIBE"
            } else {
                "UNSUBSCRIBE"
            },
            None,
        )
    }

    pub(super) fn list(
        &mut self,
        reference: &str,
        patterns: &[String],
        listing: Listing,
        options: &ListOptions,
    ) -> String {
        let delimiter = self.texts.delimiter;
        let response = match listing {
            Listing::List => "LIST",
            Listing::Lsub => "LSUB",
            Listing::Xlist => "XLIST",
        };
        let done = self.texts.completed(
            if listing == Listing::Lsub {
                "LSUB"
            } else {
                "LIST"
            },
            None,
        );
        if patterns.iter().all(String::is_empty) && listing != Listing::Lsub {
            // RFC 3501: an empty pattern asks for the hierarchy delimiter.
            self.send_line(format!("* {response} (\\Noselect) \"{delimiter}\" \"\""));
            return done;
        }
        let folders: Vec<(String, Option<&'static str>, bool)> =
            self.store.with_account(&self.login(), |folders| {
                let list = folders
                    .iter()
                    .map(|f| (f.name.clone(), f.special_use, f.subscribed))
                    .collect();
                (list, false)
            });
        // Every folder, and the parents its name implies that are not folders themselves
        // (Gmail's `[Gmail]`), which LIST shows as \Noselect.
        let mut entries: Vec<(String, Option<&'static str>, bool, bool)> = Vec::new();
        for (name, special, subscribed) in &folders {
            let mut parent = String::new();
            let parts: Vec<&str> = name.split(delimiter).collect();
            for part in &parts[..parts.len() - 1] {
                if !parent.is_empty() {
                    parent.push(delimiter);
                }
                parent.push_str(part);
                if !folders.iter().any(|(n, _, _)| *n == parent)
                    && !entries.iter().any(|(n, ..)| *n == parent)
                {
                    entries.push((parent.clone(), None, false, true));
                }
            }
            entries.push((name.clone(), *special, *subscribed, false));
        }
        // RFC 5258 §3: an extended LIST tells children and special use only when asked.
        let (children, special_use) = if options.extended {
            (
                options.return_children,
                options.return_special_use || options.special_use,
            )
        } else {
            (
                self.advertises("CHILDREN") || self.advertises("LIST-EXTENDED"),
                true,
            )
        };
        let full_patterns: Vec<String> =
            patterns.iter().map(|p| format!("{reference}{p}")).collect();
        let matches = |name: &str| {
            full_patterns
                .iter()
                .any(|pattern| wildcard_match(pattern, name, delimiter))
        };
        for (name, special, subscribed, implied) in &entries {
            if listing == Listing::Lsub && (!subscribed || *implied) {
                continue;
            }
            if !matches(name) {
                continue;
            }
            // RECURSIVEMATCH: a parent that is not itself selected but has a child that
            // is, under any pattern (RFC 5258 §3.5).
            let prefix = format!("{name}{delimiter}");
            let child_info = options.recursive
                && options.subscribed
                && !subscribed
                && entries
                    .iter()
                    .any(|(n, _, s, _)| *s && n.starts_with(&prefix));
            if options.subscribed && !subscribed && !child_info {
                continue;
            }
            if options.special_use && special.is_none() {
                continue;
            }
            let mut attributes: Vec<&str> = Vec::new();
            if *implied {
                attributes.push("\\Noselect");
            }
            if options.return_subscribed && *subscribed {
                attributes.push("\\Subscribed");
            }
            if children {
                let prefix = format!("{name}{delimiter}");
                let has_children = entries.iter().any(|(n, ..)| n.starts_with(&prefix));
                attributes.push(if has_children {
                    "\\HasChildren"
                } else {
                    "\\HasNoChildren"
                });
            }
            if let Some(special) = special.filter(|_| special_use) {
                attributes.push(special);
            }
            // Gmail's XLIST names INBOX `Inbox` and marks it \Inbox.
            let shown = if listing == Listing::Xlist && name == "INBOX" {
                attributes.push("\\Inbox");
                "Inbox".to_owned()
            } else {
                name.clone()
            };
            let extra = if child_info {
                " (\"CHILDINFO\" (\"SUBSCRIBED\"))"
            } else {
                ""
            };
            self.send_line(format!(
                "* {response} ({}) \"{delimiter}\" {}{extra}",
                attributes.join(" "),
                quote(&shown)
            ));
            // LIST-STATUS (RFC 5819): the STATUS of each selectable folder listed.
            if let Some(items) = options.status.as_deref()
                && !implied
            {
                self.status_line(name, items);
            }
        }
        done
    }

    fn status(&mut self, name: &str, items: &[StatusDataItemName]) -> String {
        if !self.status_line(name, items) {
            return self.texts.no_such_mailbox.replace("{mailbox}", name);
        }
        self.texts.completed("STATUS", None)
    }

    /// The `* STATUS` line of folder `name`, items in the order asked, or for Dovecot in its
    /// own order whatever was asked (containers/captures/dovecot-rfc-extensions.txt);
    /// `false` when there is no such folder.
    pub(super) fn status_line(&mut self, name: &str, items: &[StatusDataItemName]) -> bool {
        let found = self.store.with_account(&self.login(), |folders| {
            let found = folders.iter().find(|f| f.name == name).map(|f| {
                let deleted = f
                    .messages
                    .iter()
                    .filter(|m| m.has_flag("\\Deleted"))
                    .count();
                let size: usize = f.messages.iter().map(|m| m.raw.len()).sum();
                let highest = f.highest_modseq;
                (
                    f.messages.len(),
                    f.unseen(),
                    f.uid_next,
                    deleted,
                    size,
                    highest,
                )
            });
            (found, false)
        });
        let Some((messages, unseen, uid_next, deleted, size, highest)) = found else {
            return false;
        };
        let mut values = Vec::new();
        let ordered: Vec<&StatusDataItemName> =
            if self.config.personality == super::super::ImapPersonality::Dovecot {
                STATUS_ORDER.iter().filter(|i| items.contains(i)).collect()
            } else {
                items.iter().collect()
            };
        for item in ordered {
            let value = match item {
                StatusDataItemName::Messages => format!("MESSAGES {messages}"),
                StatusDataItemName::Recent => "RECENT 0".to_owned(),
                StatusDataItemName::UidNext => format!("UIDNEXT {uid_next}"),
                StatusDataItemName::UidValidity => format!("UIDVALIDITY {UID_VALIDITY}"),
                StatusDataItemName::Unseen => format!("UNSEEN {unseen}"),
                StatusDataItemName::Deleted => format!("DELETED {deleted}"),
                // Left out where not advertised, as Courier does.
                StatusDataItemName::Size if self.advertises("STATUS=SIZE") => {
                    format!("SIZE {size}")
                }
                StatusDataItemName::HighestModSeq if self.advertises("CONDSTORE") => {
                    self.condstore = true;
                    format!("HIGHESTMODSEQ {highest}")
                }
                // DELETED-STORAGE is not modelled.
                _ => continue,
            };
            values.push(value);
        }
        self.send_line(format!("* STATUS {} ({})", quote(name), values.join(" ")));
        true
    }

    fn append(
        &mut self,
        name: &str,
        flags: &[Flag],
        date: Option<chrono::DateTime<chrono::FixedOffset>>,
        message: &[u8],
    ) -> String {
        let appended = Appended {
            flags: flags.iter().map(ToString::to_string).collect(),
            date,
            raw: message.to_vec(),
        };
        self.append_all(name, vec![appended])
    }

    /// Stores `messages` in folder `name`, all or none (MULTIAPPEND); the tagged reply.
    pub(super) fn append_all(&mut self, name: &str, messages: Vec<Appended>) -> String {
        let now = chrono::Utc::now().fixed_offset();
        let uids = self.store.with_account(&self.login(), |folders| {
            match folders.iter_mut().find(|f| f.name == name) {
                Some(folder) => {
                    let uids: Vec<u32> = messages
                        .into_iter()
                        .map(|m| folder.add(m.raw.into(), m.flags, m.date.unwrap_or(now)))
                        .collect();
                    (Some(uids), true)
                }
                None => (None, false),
            }
        });
        let Some(uids) = uids else {
            return self.texts.trycreate.replace("{mailbox}", name);
        };
        let code = self
            .advertises("UIDPLUS")
            .then(|| format!("APPENDUID {UID_VALIDITY} {}", uid_set(&uids)));
        self.texts.completed("APPEND", code.as_deref())
    }

    /// The (sequence number, UID) pairs `set` names in the selection, in order; `Err` with
    /// the first sequence number past the last message.
    pub(super) fn resolve(&self, set: &SequenceSet, uid: bool) -> Result<Vec<(u32, u32)>, u32> {
        let uids = self
            .selection
            .as_ref()
            .map(|s| s.uids.as_slice())
            .unwrap_or_default();
        if uid {
            let largest = uids.last().copied().unwrap_or(0);
            return Ok(uids
                .iter()
                .enumerate()
                .filter(|&(_, &u)| in_set(set, u, largest))
                .map(|(i, &u)| (i as u32 + 1, u))
                .collect());
        }
        let largest = uids.len() as u32;
        for sequence in set.0.as_ref() {
            let values: &[SeqOrUid] = match sequence {
                Sequence::Single(v) => std::slice::from_ref(v),
                Sequence::Range(a, b) => &[*a, *b],
            };
            for value in values {
                match value {
                    SeqOrUid::Value(n) if n.get() > largest => return Err(n.get()),
                    SeqOrUid::Asterisk if largest == 0 => return Err(0),
                    _ => {}
                }
            }
        }
        Ok(uids
            .iter()
            .enumerate()
            .filter(|(i, _)| in_set(set, *i as u32 + 1, largest))
            .map(|(i, &u)| (i as u32 + 1, u))
            .collect())
    }

    /// The reply to a sequence number past the last message, for `command`.
    pub(super) fn invalid_messageset(&mut self, command: &str, n: u32) -> String {
        let text = self
            .texts
            .invalid_messageset
            .replace("{name}", command)
            .replace("{n}", &n.to_string());
        if text.starts_with("* ") {
            self.send_line(text);
            return self.texts.completed(command, None);
        }
        text
    }

    /// Removes the selection's `\Deleted` messages (of `only`, UID EXPUNGE) from the store;
    /// `sync` then announces them. Nothing happens in a folder opened read-only.
    /// EXPUNGE's reply: with CONDSTORE on, the folder's new HIGHESTMODSEQ in it (RFC 7162
    /// §3.2.10, as Dovecot answers).
    fn expunge_done(&self) -> String {
        let name = self.selection.as_ref().map(|s| s.name.clone());
        let highest = self.condstore.then(|| {
            self.store.with_account(&self.login(), |folders| {
                let highest = folders
                    .iter()
                    .find(|f| Some(&f.name) == name.as_ref())
                    .map(|f| f.highest_modseq);
                (highest, false)
            })
        });
        let code = highest.flatten().map(|h| format!("HIGHESTMODSEQ {h}"));
        self.texts.completed("EXPUNGE", code.as_deref())
    }

    fn expunge(&mut self, only: Option<&SequenceSet>, announce: bool) {
        let Some(selection) = &self.selection else {
            return;
        };
        if selection.read_only {
            return;
        }
        let name = selection.name.clone();
        let removed: Vec<u32> = self.store.with_account(&self.login(), |folders| {
            let Some(folder) = folders.iter_mut().find(|f| f.name == name) else {
                return (Vec::new(), false);
            };
            let largest = folder.uid_next.saturating_sub(1);
            let mut removed = Vec::new();
            folder.messages.retain(|m| {
                let gone =
                    m.has_flag("\\Deleted") && only.is_none_or(|set| in_set(set, m.uid, largest));
                if gone {
                    removed.push(m.uid);
                }
                !gone
            });
            let changed = !removed.is_empty();
            if changed {
                folder.highest_modseq += 1;
            }
            (removed, changed)
        });
        if !announce && let Some(selection) = &mut self.selection {
            // CLOSE: the client is told nothing; the selection is dropped anyway.
            selection.uids.retain(|uid| !removed.contains(uid));
        }
    }

    fn copy(&mut self, set: &SequenceSet, uid: bool, destination: &str, is_move: bool) -> String {
        let command = if is_move { "MOVE" } else { "COPY" };
        let pairs = match self.resolve(set, uid) {
            Ok(pairs) => pairs,
            Err(n) => return self.invalid_messageset(command, n),
        };
        let source = self
            .selection
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let wanted: Vec<u32> = pairs.iter().map(|&(_, uid)| uid).collect();
        let copied = self.store.with_account(&self.login(), |folders| {
            if !folders.iter().any(|f| f.name == destination) {
                return (None, false);
            }
            let messages: Vec<_> = folders
                .iter()
                .find(|f| f.name == source)
                .map(|f| {
                    f.messages
                        .iter()
                        .filter(|m| wanted.contains(&m.uid))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let target = folders
                .iter_mut()
                .find(|f| f.name == destination)
                .expect("checked above");
            let mut pairs = Vec::new();
            for message in &messages {
                let new_uid = target.add(
                    message.raw.clone(),
                    message.flags.clone(),
                    message.internal_date,
                );
                pairs.push((message.uid, new_uid));
            }
            if is_move && let Some(folder) = folders.iter_mut().find(|f| f.name == source) {
                folder.messages.retain(|m| !wanted.contains(&m.uid));
                folder.highest_modseq += 1;
            }
            (Some(pairs), true)
        });
        let Some(pairs) = copied else {
            return self.texts.trycreate.replace("{mailbox}", destination);
        };
        let code = (self.advertises("UIDPLUS") && !pairs.is_empty()).then(|| {
            let from: Vec<u32> = pairs.iter().map(|p| p.0).collect();
            let to: Vec<u32> = pairs.iter().map(|p| p.1).collect();
            format!("COPYUID {UID_VALIDITY} {} {}", uid_set(&from), uid_set(&to))
        });
        if is_move {
            if let Some(code) = code {
                // RFC 6851 §4.3: the COPYUID of a MOVE comes untagged, before the expunges.
                self.send_line(format!("* OK [{code}] Moved UIDs."));
            }
            return self.texts.completed("MOVE", None);
        }
        self.texts.completed("COPY", code.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn sets_with_asterisk_and_reversed_ranges() {
        let set = SequenceSet::try_from("5:*").unwrap();
        assert!(in_set(&set, 3, 3), "5:* includes the largest even below 5");
        assert!(!in_set(&set, 2, 3));
        let set = SequenceSet::try_from("4:2,9").unwrap();
        assert!(in_set(&set, 3, 10) && in_set(&set, 9, 10) && !in_set(&set, 5, 10));
    }
}
