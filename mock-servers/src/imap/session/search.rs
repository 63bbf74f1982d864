//! SEARCH and UID SEARCH: the search keys of RFC 3501 §6.4.4 evaluated against the selected
//! folder (flags, sizes, internal and sent dates, header and text matches, sequence and UID
//! sets, NOT/OR and lists), plus WITHIN's YOUNGER/OLDER.

use chrono::{DateTime, FixedOffset, NaiveDate};
use imap_codec::imap_types::search::SearchKey;

use super::super::mailstore::Message;
use super::super::message;
use super::ImapSession;
use super::mail::in_set;

/// What a search found: (sequence number, UID) of each match, and the highest MODSEQ among
/// them when the search used MODSEQ.
pub(super) type Found = (Vec<(u32, u32)>, Option<u64>);

/// What one message offers to the search keys.
struct Candidate<'a> {
    seq: u32,
    largest_seq: u32,
    largest_uid: u32,
    message: &'a Message,
    now: DateTime<FixedOffset>,
}

impl Candidate<'_> {
    fn header(&self) -> &[u8] {
        let raw: &[u8] = &self.message.raw;
        let end = message::parse(raw).header(raw).len();
        &raw[..end]
    }

    fn field_contains(&self, name: &str, needle: &[u8]) -> bool {
        message::fields(self.header())
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case(name))
            .any(|f| contains(f.value.as_bytes(), needle))
    }

    fn sent_date(&self) -> Option<NaiveDate> {
        let value = message::field(self.header(), "Date")?;
        DateTime::parse_from_rfc2822(value.trim())
            .ok()
            .map(|d| d.date_naive())
    }

    fn matches(&self, key: &SearchKey) -> bool {
        let m = self.message;
        let flag = |name: &str| m.has_flag(name);
        let internal = m.internal_date.date_naive();
        let size = m.raw.len() as u64;
        match key {
            SearchKey::And(keys) => keys.as_ref().iter().all(|k| self.matches(k)),
            SearchKey::Or(a, b) => self.matches(a) || self.matches(b),
            SearchKey::Not(k) => !self.matches(k),
            SearchKey::All => true,
            SearchKey::SequenceSet(set) => in_set(set, self.seq, self.largest_seq),
            SearchKey::Uid(set) => in_set(set, m.uid, self.largest_uid),
            SearchKey::Answered => flag("\\Answered"),
            SearchKey::Unanswered => !flag("\\Answered"),
            SearchKey::Deleted => flag("\\Deleted"),
            SearchKey::Undeleted => !flag("\\Deleted"),
            SearchKey::Draft => flag("\\Draft"),
            SearchKey::Undraft => !flag("\\Draft"),
            SearchKey::Flagged => flag("\\Flagged"),
            SearchKey::Unflagged => !flag("\\Flagged"),
            SearchKey::Seen => flag("\\Seen"),
            SearchKey::Unseen => !flag("\\Seen"),
            SearchKey::Keyword(k) => flag(k.as_ref()),
            SearchKey::Unkeyword(k) => !flag(k.as_ref()),
            // The mock keeps no \Recent: every message is old, none new.
            SearchKey::Recent | SearchKey::New => false,
            SearchKey::Old => true,
            SearchKey::Larger(n) => size > u64::from(*n),
            SearchKey::Smaller(n) => size < u64::from(*n),
            SearchKey::Before(d) => internal < *d.as_ref(),
            SearchKey::On(d) => internal == *d.as_ref(),
            SearchKey::Since(d) => internal >= *d.as_ref(),
            SearchKey::SentBefore(d) => self.sent_date().is_some_and(|s| s < *d.as_ref()),
            SearchKey::SentOn(d) => self.sent_date().is_some_and(|s| s == *d.as_ref()),
            SearchKey::SentSince(d) => self.sent_date().is_some_and(|s| s >= *d.as_ref()),
            SearchKey::Younger(secs) => {
                (self.now - m.internal_date).num_seconds() <= i64::from(secs.get())
            }
            SearchKey::Older(secs) => {
                (self.now - m.internal_date).num_seconds() > i64::from(secs.get())
            }
            SearchKey::From(s) => self.field_contains("From", s.as_ref()),
            SearchKey::To(s) => self.field_contains("To", s.as_ref()),
            SearchKey::Cc(s) => self.field_contains("Cc", s.as_ref()),
            SearchKey::Bcc(s) => self.field_contains("Bcc", s.as_ref()),
            SearchKey::Subject(s) => self.field_contains("Subject", s.as_ref()),
            SearchKey::Header(name, value) => {
                let name = String::from_utf8_lossy(name.as_ref()).into_owned();
                self.field_contains(&name, value.as_ref())
            }
            SearchKey::Body(s) => {
                let raw: &[u8] = &m.raw;
                contains(message::parse(raw).body(raw), s.as_ref())
            }
            SearchKey::Text(s) => contains(&m.raw, s.as_ref()),
            // CONDSTORE: changed at or after that modification sequence.
            SearchKey::ModSequence { modseq, .. } => m.modseq >= *modseq,
        }
    }
}

/// Case-insensitive (ASCII) substring match; an empty needle matches.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Whether `key` searches by modification sequence (CONDSTORE).
fn uses_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::And(keys) => keys.as_ref().iter().any(uses_modseq),
        SearchKey::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        SearchKey::Not(k) => uses_modseq(k),
        SearchKey::ModSequence { .. } => true,
        _ => false,
    }
}

impl ImapSession {
    /// The messages of the selection that match every key of `criteria`, in sequence
    /// order, with their sequence numbers. `matches` covers every key imap-codec parses
    /// with this crate's features (a new one fails to compile there).
    pub(super) fn matching(&self, criteria: &[SearchKey]) -> Vec<(u32, Message)> {
        let Some(selection) = &self.selection else {
            return Vec::new();
        };
        let name = selection.name.clone();
        let view = selection.uids.clone();
        let largest_uid = view.last().copied().unwrap_or(0);
        let now = chrono::Utc::now().fixed_offset();
        self.store.with_account(&self.login(), |folders| {
            let Some(folder) = folders.iter().find(|f| f.name == name) else {
                return (Vec::new(), false);
            };
            let hits = view
                .iter()
                .enumerate()
                .filter_map(|(i, &u)| {
                    let message = folder.messages.iter().find(|m| m.uid == u)?;
                    let candidate = Candidate {
                        seq: i as u32 + 1,
                        largest_seq: view.len() as u32,
                        largest_uid,
                        message,
                        now,
                    };
                    criteria
                        .iter()
                        .all(|key| candidate.matches(key))
                        .then(|| (i as u32 + 1, message.clone()))
                })
                .collect();
            (hits, false)
        })
    }

    /// The messages `criteria` match, as (sequence number, UID), with the highest MODSEQ of
    /// them when the search used MODSEQ (RFC 7162 §3.4); `Err` with the tagged reply when
    /// CONDSTORE, which MODSEQ needs, is not advertised.
    pub(super) fn searched(&mut self, criteria: &[SearchKey]) -> Result<Found, String> {
        let by_modseq = criteria.iter().any(uses_modseq);
        if by_modseq && !self.advertises("CONDSTORE") {
            return Err(self.texts.invalid_arguments.replace("{name}", "SEARCH"));
        }
        let hits = self.matching(criteria);
        if by_modseq {
            self.enable_condstore();
        }
        let modseq = by_modseq
            .then(|| hits.iter().map(|(_, m)| m.modseq).max())
            .flatten();
        Ok((hits.iter().map(|(seq, m)| (*seq, m.uid)).collect(), modseq))
    }

    pub(super) fn search(&mut self, criteria: &[SearchKey], uid: bool) -> String {
        let (hits, modseq) = match self.searched(criteria) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        let mut line = "* SEARCH".to_owned();
        for (seq, message_uid) in &hits {
            line.push(' ');
            line.push_str(&(if uid { *message_uid } else { *seq }).to_string());
        }
        if let Some(highest) = modseq {
            line.push_str(&format!(" (MODSEQ {highest})"));
        }
        self.send_line(line);
        self.texts.completed("SEARCH", None)
    }
}
