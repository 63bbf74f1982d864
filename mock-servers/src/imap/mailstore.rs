//! The accounts' mail, in memory: each user's folders with their messages, UIDs and flags.
//!
//! One [`Mailstore`] is shared by every connection of an IMAP mock and, when the harness
//! passes the same store to it, by the SMTP mock of the same scenario, which delivers each
//! message it accepts for a known user into that user's INBOX. Every change that adds or
//! removes messages bumps a counter that IMAP sessions watch, so an IDLE client sees the new
//! message as an untagged `EXISTS` (see `session`).
//!
//! A user's account is created, with the seeded messages of `seed`, when an IMAP mock
//! starts with that user configured; an account exists once per store, whichever mock
//! provisioned it first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, FixedOffset};
use tokio::sync::watch;

use super::seed;

/// UIDVALIDITY of every folder the store creates: fixed, so that a client caching UIDs sees
/// the same folder on every run.
pub(crate) const UID_VALIDITY: u32 = 1_700_000_000;

/// One message in a folder.
#[derive(Clone, Debug)]
pub(crate) struct Message {
    pub uid: u32,
    /// System flags (`\Seen`, …) and keywords, as the client set them.
    pub flags: Vec<String>,
    pub internal_date: DateTime<FixedOffset>,
    /// The folder's modification sequence when the message was added or its flags last
    /// changed (CONDSTORE, RFC 7162).
    pub modseq: u64,
    /// The message as stored, CRLF line endings.
    pub raw: Arc<[u8]>,
    /// When it was stored in this folder (SAVEDATE, RFC 8514).
    pub saved: DateTime<FixedOffset>,
    /// Gmail's labels a client set with `STORE +X-GM-LABELS` (X-GM-EXT-1).
    pub labels: Vec<String>,
}

impl Message {
    pub(crate) fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
    }
}

/// One folder of an account.
#[derive(Clone, Debug)]
pub(crate) struct Folder {
    /// The full name, with the personality's hierarchy delimiter (`INBOX.Sent`).
    pub name: String,
    /// The RFC 6154 special-use attribute LIST shows (`\Sent`).
    pub special_use: Option<&'static str>,
    pub subscribed: bool,
    /// Access control entries (RFC 4314): identifier and rights.
    pub acl: Vec<(String, String)>,
    pub uid_next: u32,
    /// The highest modification sequence of the folder: raised by every message added,
    /// flag change and expunge.
    pub highest_modseq: u64,
    pub messages: Vec<Message>,
}

impl Folder {
    pub(crate) fn new(name: String, special_use: Option<&'static str>) -> Folder {
        Folder {
            name,
            special_use,
            subscribed: true,
            acl: vec![
                ("owner".to_owned(), "acdilrsw".to_owned()),
                ("administrators".to_owned(), "acdilrsw".to_owned()),
            ],
            uid_next: 1,
            highest_modseq: 1,
            messages: Vec::new(),
        }
    }

    /// Adds a message with the next UID and returns that UID.
    pub(crate) fn add(
        &mut self,
        raw: Arc<[u8]>,
        flags: Vec<String>,
        internal_date: DateTime<FixedOffset>,
    ) -> u32 {
        let uid = self.uid_next;
        self.uid_next += 1;
        self.highest_modseq += 1;
        self.messages.push(Message {
            uid,
            flags,
            internal_date,
            modseq: self.highest_modseq,
            raw,
            saved: chrono::Utc::now().fixed_offset(),
            labels: Vec::new(),
        });
        uid
    }

    /// Sets the flags of message `uid`, raising its modification sequence; the new one.
    pub(crate) fn set_flags(&mut self, uid: u32, flags: Vec<String>) -> Option<u64> {
        let message = self.messages.iter_mut().find(|m| m.uid == uid)?;
        self.highest_modseq += 1;
        message.flags = flags;
        message.modseq = self.highest_modseq;
        Some(message.modseq)
    }

    pub(crate) fn unseen(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| !m.has_flag("\\Seen"))
            .count()
    }
}

/// What an IMAP mock provisions for each of its users.
pub(crate) struct Layout<'a> {
    /// The personality's Sent folder (`Sent`, `INBOX.Sent`, `[Gmail]/Sent Mail`).
    pub sent: &'a str,
    /// The scenario's further folders.
    pub folders: &'a [String],
}

/// All accounts of one scenario's mock servers.
#[derive(Default)]
struct Accounts {
    /// Folders by user login.
    folders: HashMap<String, Vec<Folder>>,
}

/// The shared mail store: clone it to hand the same store to an IMAP and an SMTP mock.
#[derive(Clone)]
pub struct Mailstore {
    accounts: Arc<Mutex<Accounts>>,
    changes: Arc<watch::Sender<u64>>,
}

impl Default for Mailstore {
    fn default() -> Self {
        Mailstore::new()
    }
}

impl std::fmt::Debug for Mailstore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailstore").finish_non_exhaustive()
    }
}

impl Mailstore {
    /// An empty store: accounts appear when an IMAP mock using it starts.
    pub fn new() -> Mailstore {
        Mailstore {
            accounts: Arc::default(),
            changes: Arc::new(watch::channel(0).0),
        }
    }

    /// Creates the accounts of `logins` that do not exist yet: INBOX and Sent with the
    /// seeded messages, and the further folders empty.
    pub(crate) fn provision<'a>(&self, logins: impl Iterator<Item = &'a str>, layout: &Layout) {
        let mut accounts = self.lock();
        for login in logins {
            accounts
                .folders
                .entry(login.to_owned())
                .or_insert_with(|| seeded(login, layout));
        }
    }

    /// Delivers a message accepted by an SMTP mock to the INBOX of every recipient that is
    /// a user of this store. Returns how many INBOXes got it.
    pub fn deliver(&self, recipients: &[String], raw: &[u8]) -> usize {
        let raw: Arc<[u8]> = Arc::from(raw);
        let now = chrono::Utc::now().fixed_offset();
        let mut delivered = 0;
        {
            let mut accounts = self.lock();
            for recipient in recipients {
                let account = accounts
                    .folders
                    .iter_mut()
                    .find(|(login, _)| login.eq_ignore_ascii_case(recipient));
                if let Some((_, folders)) = account
                    && let Some(inbox) = folders.iter_mut().find(|f| f.name == "INBOX")
                {
                    inbox.add(raw.clone(), Vec::new(), now);
                    delivered += 1;
                }
            }
        }
        if delivered > 0 {
            self.changed();
        }
        delivered
    }

    /// The message count of `login`'s folder `name`, if both exist.
    pub fn count(&self, login: &str, name: &str) -> Option<usize> {
        let accounts = self.lock();
        let folders = accounts.folders.get(login)?;
        let folder = folders.iter().find(|f| f.name == name)?;
        Some(folder.messages.len())
    }

    /// Runs `f` on `login`'s folders; tells watchers when `f` says it changed messages.
    pub(crate) fn with_account<T>(
        &self,
        login: &str,
        f: impl FnOnce(&mut Vec<Folder>) -> (T, bool),
    ) -> T {
        let (value, changed) = {
            let mut accounts = self.lock();
            let folders = accounts.folders.entry(login.to_owned()).or_default();
            f(folders)
        };
        if changed {
            self.changed();
        }
        value
    }

    /// A receiver that wakes whenever messages were added or removed anywhere in the store.
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|generation| *generation += 1);
    }

    fn lock(&self) -> MutexGuard<'_, Accounts> {
        // A panic while holding the lock leaves plain data behind: keep serving it.
        self.accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A new account's folders: INBOX and Sent with the seeded messages, then the further ones.
fn seeded(login: &str, layout: &Layout) -> Vec<Folder> {
    let mut inbox = Folder::new("INBOX".to_owned(), None);
    for message in seed::inbox(login) {
        inbox.add(message.raw.into(), message.flags, message.date);
    }
    let mut sent = Folder::new(layout.sent.to_owned(), Some("\\Sent"));
    for message in seed::sent(login) {
        sent.add(message.raw.into(), message.flags, message.date);
    }
    let mut folders = vec![inbox, sent];
    for name in layout.folders {
        if !folders.iter().any(|f| &f.name == name) {
            folders.push(Folder::new(name.clone(), None));
        }
    }
    folders
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout<'static> {
        Layout {
            sent: "Sent",
            folders: &[],
        }
    }

    #[test]
    fn delivery_reaches_known_users_only_and_wakes_watchers() {
        let store = Mailstore::new();
        store.provision(["alice@example.com"].into_iter(), &layout());
        let before = store.count("alice@example.com", "INBOX").unwrap();
        let mut watcher = store.watch();
        watcher.mark_unchanged();
        let delivered = store.deliver(
            &["ALICE@example.com".to_owned(), "bob@example.com".to_owned()],
            b"Subject: hi\r\n\r\nhello\r\n",
        );
        assert_eq!(delivered, 1);
        assert_eq!(store.count("alice@example.com", "INBOX"), Some(before + 1));
        assert!(watcher.has_changed().unwrap());
        assert_eq!(store.count("bob@example.com", "INBOX"), None);
    }

    #[test]
    fn provisioning_twice_keeps_the_first_account() {
        let store = Mailstore::new();
        store.provision(["alice@example.com"].into_iter(), &layout());
        store.deliver(&["alice@example.com".to_owned()], b"\r\nx\r\n");
        let count = store.count("alice@example.com", "INBOX");
        store.provision(["alice@example.com"].into_iter(), &layout());
        assert_eq!(store.count("alice@example.com", "INBOX"), count);
    }
}
