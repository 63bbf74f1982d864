//! QRESYNC (RFC 7162 §3.2): once a client has ENABLEd it, expunges are told as
//! `* VANISHED uids`; SELECT and EXAMINE take `(QRESYNC (uidvalidity modseq [known-uids]))`
//! and answer with what vanished and what changed since; UID FETCH takes the VANISHED
//! modifier. As Dovecot answers (containers/captures/dovecot-rfc-extensions.txt): the
//! VANISHED (EARLIER) line comes before the FETCH lines, which carry UID, FLAGS and MODSEQ.
//!
//! The store keeps no record of expunges, so VANISHED (EARLIER) names every UID of the
//! range asked for (below UIDNEXT) that is not there now: RFC 7162 §3.2.5.1 allows a server
//! to include UIDs expunged before the client's modification sequence.

use std::num::NonZeroU64;

use imap_codec::imap_types::command::FetchModifier;
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName};
use imap_codec::imap_types::sequence::SequenceSet;

use super::super::mailstore::UID_VALIDITY;
use super::ImapSession;
use super::mail::{in_set, uid_set};

/// What SELECT's QRESYNC parameter tells of the client's cache.
pub(super) struct Known {
    pub(super) uid_validity: u32,
    pub(super) modseq: u64,
    pub(super) uids: Option<SequenceSet>,
}

impl ImapSession {
    /// The UIDs of `set` (all when `None`) below UIDNEXT that the selected folder no longer
    /// holds, as a `* VANISHED (EARLIER)` line; `None` when there are none.
    pub(super) fn vanished_earlier(&self, set: Option<&SequenceSet>) -> Option<String> {
        let name = self.selection.as_ref()?.name.clone();
        let (present, uid_next) = self.store.with_account(&self.login(), |folders| {
            let found = folders.iter().find(|f| f.name == name).map(|f| {
                let uids: Vec<u32> = f.messages.iter().map(|m| m.uid).collect();
                (uids, f.uid_next)
            });
            (found.unwrap_or_default(), false)
        });
        let largest = present.last().copied().unwrap_or(0);
        let gone: Vec<u32> = (1..uid_next)
            .filter(|uid| set.is_none_or(|set| in_set(set, *uid, largest)))
            .filter(|uid| present.binary_search(uid).is_err())
            .collect();
        (!gone.is_empty()).then(|| format!("* VANISHED (EARLIER) {}", uid_set(&gone)))
    }

    /// After a SELECT with QRESYNC: what vanished from the client's `known` UIDs and the
    /// flags of what changed since its modification sequence.
    pub(super) fn resynchronise(&mut self, known: &Known) {
        if known.uid_validity != UID_VALIDITY {
            return;
        }
        if let Some(line) = self.vanished_earlier(known.uids.as_ref()) {
            self.send_line(line);
        }
        let (Ok(all), Some(since)) = (SequenceSet::try_from("1:*"), NonZeroU64::new(known.modseq))
        else {
            return;
        };
        if self.selection.as_ref().is_some_and(|s| s.uids.is_empty()) {
            return;
        }
        let names =
            MacroOrMessageDataItemNames::MessageDataItemNames(vec![MessageDataItemName::Flags]);
        // The tagged reply of this inner FETCH is not sent.
        let _ = self.fetch(&all, names, true, &[FetchModifier::ChangedSince(since)]);
    }
}
