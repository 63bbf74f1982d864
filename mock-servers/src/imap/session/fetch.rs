//! FETCH and STORE: the message data items of RFC 3501 §6.4.5 (FLAGS, UID, INTERNALDATE,
//! RFC822.SIZE, ENVELOPE, BODY, BODYSTRUCTURE, BODY[section]<partial> with and without PEEK,
//! RFC822, RFC822.HEADER, RFC822.TEXT) built as imap-types values and written by
//! imap-codec, and flag changes with their untagged FETCH answers.

use std::num::{NonZeroU32, NonZeroU64};

use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder as _;
use imap_codec::imap_types::command::{FetchModifier, StoreModifier};
use imap_codec::imap_types::core::{Literal, LiteralMode, NString, NString8, Vec1};
use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::extensions::binary::Literal8;
use imap_codec::imap_types::fetch::{
    MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName,
};
use imap_codec::imap_types::flag::{Flag, FlagFetch, StoreResponse, StoreType};
use imap_codec::imap_types::response::{Data, Response};
use imap_codec::imap_types::sequence::SequenceSet;

use super::super::mailstore::Message;
use super::super::message;
use super::ImapSession;

/// Bytes as an IMAP literal, as servers send message data; NIL for data with a NUL byte,
/// which IMAP4rev1 cannot carry.
fn literal(bytes: Vec<u8>) -> NString<'static> {
    Literal::try_from(bytes).map_or(NString::NIL, NString::from)
}

/// Decoded bytes for BINARY: a literal, or a literal8 (`~{n}`) when they hold a NUL.
fn literal8(bytes: Vec<u8>) -> NString8<'static> {
    match Literal::try_from(bytes.clone()) {
        Ok(literal) => NString8::NString(NString::from(literal)),
        Err(_) => NString8::Literal8(Literal8 {
            data: bytes.into(),
            mode: LiteralMode::Sync,
        }),
    }
}

/// The `<start.length>` part of `data`, and the origin to answer with.
fn part_of(data: Vec<u8>, partial: &Option<(u32, NonZeroU32)>) -> (Vec<u8>, Option<u32>) {
    match partial {
        Some((start, length)) => {
            let start = (*start as usize).min(data.len());
            let end = start.saturating_add(length.get() as usize).min(data.len());
            (data[start..end].to_vec(), Some(start as u32))
        }
        None => (data, None),
    }
}

/// The MODSEQ data item of a message (CONDSTORE).
fn modseq_item(modseq: u64) -> Option<MessageDataItem<'static>> {
    NonZeroU64::new(modseq).map(MessageDataItem::ModSeq)
}

/// The flags of a message as FETCH shows them.
fn flag_items(flags: &[String]) -> Vec<FlagFetch<'_>> {
    flags
        .iter()
        .filter_map(|flag| Flag::try_from(flag.as_str()).ok().map(FlagFetch::Flag))
        .collect()
}

/// One untagged FETCH response, as bytes with its CRLF: the items imap-codec writes, then
/// the extension items already written (`items`).
fn fetch_response(seq: u32, items: Vec<MessageDataItem>, extra: &[String]) -> Option<Vec<u8>> {
    let seq = NonZeroU32::new(seq)?;
    let Ok(items) = Vec1::try_from(items) else {
        return (!extra.is_empty())
            .then(|| format!("* {seq} FETCH ({})\r\n", extra.join(" ")).into_bytes());
    };
    let response = Response::Data(Data::Fetch { seq, items });
    let mut bytes = ResponseCodec::default().encode(&response).dump();
    if !extra.is_empty() {
        // Before the closing `)\r\n`.
        let tail = bytes.split_off(bytes.len() - 3);
        for item in extra {
            bytes.push(b' ');
            bytes.extend_from_slice(item.as_bytes());
        }
        bytes.extend_from_slice(&tail);
    }
    Some(bytes)
}

impl ImapSession {
    /// The messages of the selection named by `pairs`, with their sequence numbers.
    fn messages(&self, pairs: &[(u32, u32)]) -> Vec<(u32, Message)> {
        let Some(selection) = &self.selection else {
            return Vec::new();
        };
        let name = selection.name.clone();
        self.store.with_account(&self.login(), |folders| {
            let found = folders
                .iter()
                .find(|f| f.name == name)
                .map(|folder| {
                    pairs
                        .iter()
                        .filter_map(|&(seq, uid)| {
                            folder
                                .messages
                                .iter()
                                .find(|m| m.uid == uid)
                                .map(|m| (seq, m.clone()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            (found, false)
        })
    }

    /// Sets `uid`'s flags in the selected folder to `flags`; its new modification sequence.
    fn set_flags(&self, uid: u32, flags: Vec<String>) -> Option<u64> {
        let name = self.selection.as_ref()?.name.clone();
        self.store.with_account(&self.login(), |folders| {
            let modseq = folders
                .iter_mut()
                .find(|f| f.name == name)
                .and_then(|f| f.set_flags(uid, flags));
            (modseq, false)
        })
    }

    pub(super) fn fetch(
        &mut self,
        set: &SequenceSet,
        items: MacroOrMessageDataItemNames,
        uid: bool,
        modifiers: &[FetchModifier],
    ) -> String {
        let extras = std::mem::take(&mut self.pending_extras);
        let pairs = match self.resolve(set, uid) {
            Ok(pairs) => pairs,
            Err(n) => return self.invalid_messageset("FETCH", n),
        };
        // CHANGEDSINCE (CONDSTORE): only what changed after that modification sequence.
        let mut changed_since = None;
        let mut vanished = false;
        for modifier in modifiers {
            match modifier {
                FetchModifier::ChangedSince(modseq) if self.advertises("CONDSTORE") => {
                    changed_since = Some(modseq.get());
                }
                // QRESYNC: only in a UID FETCH with CHANGEDSINCE (RFC 7162 §3.2.6).
                FetchModifier::Vanished if self.qresync && uid => vanished = true,
                _ => return self.texts.invalid_arguments.replace("{name}", "FETCH"),
            }
        }
        if vanished {
            if changed_since.is_none() {
                return self.texts.invalid_arguments.replace("{name}", "FETCH");
            }
            if let Some(line) = self.vanished_earlier(Some(set)) {
                self.send_line(line);
            }
        }
        let macro_;
        let mut names = match items {
            MacroOrMessageDataItemNames::Macro(m) => {
                macro_ = m;
                macro_.expand()
            }
            MacroOrMessageDataItemNames::MessageDataItemNames(names) => names,
        };
        // Only extension items were asked: FLAGS stood in for them (see `items`).
        if extras.only {
            names.clear();
        }
        // A UID FETCH answers with the UID whether asked or not (RFC 3501 §6.4.8).
        if uid && !names.contains(&MessageDataItemName::Uid) {
            names.insert(0, MessageDataItemName::Uid);
        }
        let binary = names.iter().any(|name| {
            matches!(
                name,
                MessageDataItemName::Binary { .. } | MessageDataItemName::BinarySize { .. }
            )
        });
        if binary && !self.advertises("BINARY") {
            return self.texts.invalid_arguments.replace("{name}", "FETCH");
        }
        let asks_modseq = names.contains(&MessageDataItemName::ModSeq);
        if (asks_modseq || changed_since.is_some()) && !self.advertises("CONDSTORE") {
            return self.texts.invalid_arguments.replace("{name}", "FETCH");
        }
        if asks_modseq || changed_since.is_some() {
            self.enable_condstore();
        }
        if changed_since.is_some() && !asks_modseq {
            names.push(MessageDataItemName::ModSeq);
        }
        let read_only = self.selection.as_ref().is_none_or(|s| s.read_only);
        let marks_seen = names.iter().any(|name| {
            matches!(
                name,
                MessageDataItemName::BodyExt { peek: false, .. }
                    | MessageDataItemName::Binary { peek: false, .. }
                    | MessageDataItemName::Rfc822
                    | MessageDataItemName::Rfc822Text
            )
        });
        for (seq, mut message) in self.messages(&pairs) {
            if changed_since.is_some_and(|since| message.modseq <= since) {
                continue;
            }
            let mut flags_changed = false;
            if marks_seen && !read_only && !message.has_flag("\\Seen") {
                message.flags.push("\\Seen".to_owned());
                if let Some(modseq) = self.set_flags(message.uid, message.flags.clone()) {
                    message.modseq = modseq;
                }
                flags_changed = true;
            }
            let raw: &[u8] = &message.raw;
            let tree = message::parse(raw);
            let mut items: Vec<MessageDataItem> = Vec::new();
            // Dovecot puts FLAGS first when a fetch set \Seen and FLAGS was not asked for.
            if flags_changed && !names.contains(&MessageDataItemName::Flags) {
                items.push(MessageDataItem::Flags(flag_items(&message.flags)));
                if self.condstore && !names.contains(&MessageDataItemName::ModSeq) {
                    items.extend(modseq_item(message.modseq));
                }
            }
            for name in &names {
                let item = match name {
                    MessageDataItemName::Body => MessageDataItem::Body(tree.structure(raw, false)),
                    MessageDataItemName::BodyStructure => {
                        MessageDataItem::BodyStructure(tree.structure(raw, true))
                    }
                    MessageDataItemName::BodyExt {
                        section, partial, ..
                    } => {
                        let data = tree.section(raw, section.as_ref()).unwrap_or_default();
                        let (data, origin) = part_of(data, partial);
                        MessageDataItem::BodyExt {
                            section: section.clone(),
                            origin,
                            data: literal(data),
                        }
                    }
                    MessageDataItemName::Envelope => {
                        MessageDataItem::Envelope(message::envelope(tree.header(raw)))
                    }
                    MessageDataItemName::Flags => {
                        MessageDataItem::Flags(flag_items(&message.flags))
                    }
                    MessageDataItemName::InternalDate => {
                        MessageDataItem::InternalDate(DateTime::unvalidated(message.internal_date))
                    }
                    MessageDataItemName::Rfc822 => MessageDataItem::Rfc822(literal(raw.to_vec())),
                    MessageDataItemName::Rfc822Header => {
                        MessageDataItem::Rfc822Header(literal(tree.header(raw).to_vec()))
                    }
                    MessageDataItemName::Rfc822Text => {
                        MessageDataItem::Rfc822Text(literal(tree.body(raw).to_vec()))
                    }
                    MessageDataItemName::Rfc822Size => {
                        MessageDataItem::Rfc822Size(u32::try_from(raw.len()).unwrap_or(u32::MAX))
                    }
                    MessageDataItemName::Binary {
                        section, partial, ..
                    } => {
                        let data = match tree.binary(raw, section) {
                            Ok(data) => data.unwrap_or_default(),
                            // RFC 3516 §4.3.
                            Err(encoding) => {
                                return format!(
                                    "NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding: {encoding}"
                                );
                            }
                        };
                        let (data, _) = part_of(data, partial);
                        MessageDataItem::Binary {
                            section: section.clone(),
                            value: literal8(data),
                        }
                    }
                    MessageDataItemName::BinarySize { section } => {
                        match tree.binary(raw, section) {
                            Ok(data) => MessageDataItem::BinarySize {
                                section: section.clone(),
                                size: u32::try_from(data.unwrap_or_default().len())
                                    .unwrap_or(u32::MAX),
                            },
                            Err(encoding) => {
                                return format!(
                                    "NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding: {encoding}"
                                );
                            }
                        }
                    }
                    MessageDataItemName::ModSeq => match modseq_item(message.modseq) {
                        Some(item) => item,
                        None => continue,
                    },
                    MessageDataItemName::Uid => match NonZeroU32::new(message.uid) {
                        Some(uid) => MessageDataItem::Uid(uid),
                        None => continue,
                    },
                };
                items.push(item);
            }
            let extra: Vec<String> = extras.items.iter().map(|e| e.answer(&message)).collect();
            if let Some(bytes) = fetch_response(seq, items, &extra) {
                self.actions.push_back(crate::session::Action::Send(bytes));
            }
        }
        self.texts.completed("FETCH", None)
    }

    pub(super) fn store(
        &mut self,
        set: &SequenceSet,
        kind: &StoreType,
        response: &StoreResponse,
        flags: &[Flag],
        uid: bool,
        modifiers: &[StoreModifier],
    ) -> String {
        let pairs = match self.resolve(set, uid) {
            Ok(pairs) => pairs,
            Err(n) => return self.invalid_messageset("STORE", n),
        };
        // UNCHANGEDSINCE (CONDSTORE): a message changed after it is left alone and named
        // in the MODIFIED code.
        let mut unchanged_since = None;
        for modifier in modifiers {
            match modifier {
                StoreModifier::UnchangedSince(modseq) if self.advertises("CONDSTORE") => {
                    unchanged_since = Some(*modseq);
                    self.enable_condstore();
                }
                _ => return self.texts.invalid_arguments.replace("{name}", "STORE"),
            }
        }
        let mut modified = Vec::new();
        if self.selection.as_ref().is_none_or(|s| s.read_only)
            && let Some(text) = self.texts.read_only_store
        {
            return text.to_owned();
        }
        let given: Vec<String> = flags.iter().map(ToString::to_string).collect();
        let read_only = self.selection.as_ref().is_none_or(|s| s.read_only);
        for (seq, message) in self.messages(&pairs) {
            if unchanged_since.is_some_and(|since| message.modseq > since) {
                modified.push(if uid { message.uid } else { seq });
                continue;
            }
            let mut new = match kind {
                StoreType::Replace => given.clone(),
                StoreType::Add => {
                    let mut new = message.flags.clone();
                    for flag in &given {
                        if !new.iter().any(|f| f.eq_ignore_ascii_case(flag)) {
                            new.push(flag.clone());
                        }
                    }
                    new
                }
                StoreType::Remove => message
                    .flags
                    .iter()
                    .filter(|f| !given.iter().any(|g| g.eq_ignore_ascii_case(f)))
                    .cloned()
                    .collect(),
            };
            new.dedup();
            let mut modseq = message.modseq;
            if !read_only && let Some(changed) = self.set_flags(message.uid, new.clone()) {
                modseq = changed;
            }
            if *response == StoreResponse::Answer {
                let mut items = Vec::new();
                let uid_item = NonZeroU32::new(message.uid).map(MessageDataItem::Uid);
                // QRESYNC: every FETCH answer carries the UID, first as in Dovecot's.
                if self.qresync {
                    items.extend(uid_item.clone());
                }
                if self.condstore {
                    items.extend(modseq_item(modseq));
                }
                items.push(MessageDataItem::Flags(flag_items(&new)));
                if uid && !self.qresync {
                    items.extend(uid_item);
                }
                if let Some(bytes) = fetch_response(seq, items, &[]) {
                    self.actions.push_back(crate::session::Action::Send(bytes));
                }
            }
        }
        if !modified.is_empty() {
            let code = format!("MODIFIED {}", super::mail::uid_set(&modified));
            return self.texts.completed("STORE", Some(&code));
        }
        self.texts.completed("STORE", None)
    }
}
