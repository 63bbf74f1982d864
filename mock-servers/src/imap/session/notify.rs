//! NOTIFY (RFC 5465): the client names mailboxes and events, and the session tells it of
//! changes other sessions (or the SMTP mock) make there without being asked: `* STATUS` for
//! new and expunged messages in mailboxes that are not selected, `* LIST` for mailboxes
//! created, deleted (`\NonExistent`) or (un)subscribed, and for the selected mailbox the
//! FETCH attributes the client asked for with each new message. `NOTIFY SET STATUS` first
//! tells the STATUS of every mailbox named. As Dovecot answers
//! (containers/captures/dovecot-rfc-extensions.txt); what this session changes itself is not
//! told back.

use std::collections::HashMap;

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder as _;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::status::StatusDataItemName;

use super::super::args::{self, Arg};
use super::ImapSession;
use super::mail::uid_set;

/// Which mailboxes a filter names (RFC 5465 §6).
enum Filter {
    Inboxes,
    Personal,
    Subscribed,
    Subtree(Vec<String>),
    Mailboxes(Vec<String>),
}

/// The events asked for one filter.
#[derive(Default, Clone, Copy)]
struct Events {
    messages: bool,
    names: bool,
    subscriptions: bool,
}

/// What a mailbox looked like when last told.
#[derive(Clone, PartialEq, Eq)]
struct Seen {
    messages: usize,
    uid_next: u32,
    subscribed: bool,
}

/// A NOTIFY SET in force.
pub(super) struct Notify {
    filters: Vec<(Filter, Events)>,
    /// The FETCH attributes to send with each new message of the selected mailbox, as a
    /// FETCH command's item list.
    selected_fetch: Option<String>,
    seen: HashMap<String, Seen>,
}

/// The event names of RFC 5465 §5.
const EVENTS: &[&str] = &[
    "MESSAGENEW",
    "MESSAGEEXPUNGE",
    "FLAGCHANGE",
    "ANNOTATIONCHANGE",
    "MAILBOXNAME",
    "SUBSCRIPTIONCHANGE",
    "MAILBOXMETADATACHANGE",
    "SERVERMETADATACHANGE",
];

impl ImapSession {
    /// NOTIFY NONE or NOTIFY SET [STATUS] (filter events)...; the tagged reply.
    pub(super) fn notify(&mut self, arguments: &[u8]) -> String {
        let bad = self.texts.invalid_arguments.replace("{name}", "NOTIFY");
        let Ok(parsed) = args::parse(arguments) else {
            return bad;
        };
        let done = self.texts.completed("NOTIFY", None);
        match parsed.as_slice() {
            [none] if none.is("NONE") => {
                self.notify = None;
                return done;
            }
            [set, ..] if set.is("SET") => {}
            _ => return bad,
        }
        let mut rest = &parsed[1..];
        let status = rest.first().is_some_and(|a| a.is("STATUS"));
        if status {
            rest = &rest[1..];
        }
        let mut notify = Notify {
            filters: Vec::new(),
            selected_fetch: None,
            seen: HashMap::new(),
        };
        for group in rest {
            let Some(items) = group.list() else {
                return bad;
            };
            if parse_group(items, &mut notify).is_none() {
                return bad;
            }
        }
        if rest.is_empty() {
            return bad;
        }
        notify.seen = self.mailbox_states();
        if status {
            let selected = self.selection.as_ref().map(|s| s.name.clone());
            let names: Vec<String> = notify.seen.keys().cloned().collect();
            let mut told: Vec<&String> = names
                .iter()
                .filter(|n| Some(*n) != selected.as_ref())
                .filter(|n| self.watched(&notify, n, |e| e.messages))
                .collect();
            told.sort();
            for name in told {
                self.status_of(name, true);
            }
        }
        self.notify = Some(notify);
        done
    }

    /// Whether `notify` asks for the events `wanted` picks in mailbox `name`.
    fn watched(&self, notify: &Notify, name: &str, wanted: impl Fn(&Events) -> bool) -> bool {
        let delimiter = self.texts.delimiter;
        let subscribed = self.store.with_account(&self.login(), |folders| {
            let subscribed = folders.iter().any(|f| f.name == name && f.subscribed);
            (subscribed, false)
        });
        notify.filters.iter().any(|(filter, events)| {
            wanted(events)
                && match filter {
                    Filter::Inboxes => name == "INBOX",
                    Filter::Personal => true,
                    Filter::Subscribed => subscribed,
                    Filter::Mailboxes(names) => names.iter().any(|n| n == name),
                    Filter::Subtree(names) => names
                        .iter()
                        .any(|n| name == n || name.starts_with(&format!("{n}{delimiter}"))),
                }
        })
    }

    /// Every folder's message count, next UID and subscription.
    fn mailbox_states(&self) -> HashMap<String, Seen> {
        self.store.with_account(&self.login(), |folders| {
            let states = folders
                .iter()
                .map(|f| {
                    let seen = Seen {
                        messages: f.messages.len(),
                        uid_next: f.uid_next,
                        subscribed: f.subscribed,
                    };
                    (f.name.clone(), seen)
                })
                .collect();
            (states, false)
        })
    }

    /// `* STATUS` as NOTIFY sends it: MESSAGES, UIDNEXT, (at NOTIFY SET STATUS)
    /// UIDVALIDITY, UNSEEN, and HIGHESTMODSEQ once CONDSTORE is on.
    fn status_of(&mut self, name: &str, with_validity: bool) {
        use StatusDataItemName::{HighestModSeq, Messages, UidNext, UidValidity, Unseen};
        let mut items = vec![Messages, UidNext];
        if with_validity {
            items.push(UidValidity);
        }
        items.push(Unseen);
        if self.condstore && !with_validity {
            items.push(HighestModSeq);
        }
        self.status_line(name, &items);
    }

    /// Tells what changed since last told, in the mailboxes and events NOTIFY named.
    pub(super) fn notify_changes(&mut self) {
        let Some(mut notify) = self.notify.take() else {
            return;
        };
        let now = self.mailbox_states();
        let selected = self.selection.as_ref().map(|s| s.name.clone());
        let delimiter = self.texts.delimiter;
        let mut names: Vec<&String> = now.keys().chain(notify.seen.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let (before, after) = (notify.seen.get(name), now.get(name));
            let quoted = super::quote(name);
            match (before, after) {
                (None, Some(_)) if self.watched(&notify, name, |e| e.names) => {
                    self.send_line(format!("* LIST () \"{delimiter}\" {quoted}"));
                }
                (Some(_), None) if self.watched(&notify, name, |e| e.names) => {
                    self.send_line(format!("* LIST (\\NonExistent) \"{delimiter}\" {quoted}"));
                }
                (Some(before), Some(after)) => {
                    if before.subscribed != after.subscribed
                        && self.watched(&notify, name, |e| e.subscriptions)
                    {
                        let attributes = if after.subscribed { "\\Subscribed" } else { "" };
                        self.send_line(format!("* LIST ({attributes}) \"{delimiter}\" {quoted}"));
                    }
                    let messages_changed =
                        (before.messages, before.uid_next) != (after.messages, after.uid_next);
                    if messages_changed
                        && Some(name) != selected.as_ref()
                        && self.watched(&notify, name, |e| e.messages)
                    {
                        self.status_of(name, false);
                    }
                }
                _ => {}
            }
        }
        notify.seen = now;
        self.notify = Some(notify);
    }

    /// Forgets what this session changed itself: it is not told back.
    pub(super) fn notify_own_changes(&mut self) {
        if self.notify.is_some() {
            let now = self.mailbox_states();
            if let Some(notify) = &mut self.notify {
                notify.seen = now;
            }
        }
    }

    /// The FETCH attributes NOTIFY asked for new messages of the selected mailbox, sent
    /// for the messages `uids` that just arrived.
    pub(super) fn notify_new_messages(&mut self, uids: &[u32]) {
        let Some(attributes) = self.notify.as_ref().and_then(|n| n.selected_fetch.clone()) else {
            return;
        };
        if uids.is_empty() {
            return;
        }
        let command = format!("n UID FETCH {} {attributes}\r\n", uid_set(uids));
        if let Ok((_, command)) = CommandCodec::default().decode(command.as_bytes())
            && let CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                ..
            } = command.body
        {
            // The tagged reply of this inner FETCH is not sent.
            let _ = self.fetch(&sequence_set, macro_or_item_names, true, &[]);
        }
    }
}

/// One `(filter events)` group into `notify`; `None` when it is malformed.
fn parse_group(items: &[Arg], notify: &mut Notify) -> Option<()> {
    let (filter, rest) = items.split_first()?;
    let word = filter.atom()?.to_ascii_uppercase();
    let names = |arg: &Arg| -> Option<Vec<String>> {
        match arg.list() {
            Some(list) => list.iter().map(Arg::text).collect(),
            None => arg.text().map(|n| vec![n]),
        }
    };
    let (filter, rest) = match word.as_str() {
        "SELECTED" | "SELECTED-DELAYED" => {
            let events = rest.first()?;
            if events.is("NONE") {
                return Some(());
            }
            let list = events.list()?;
            check_events(list)?;
            // MessageNew may carry FETCH attributes.
            if let Some(at) = list.iter().position(|e| e.is("MessageNew"))
                && let Some(attributes) = list.get(at + 1).filter(|a| a.list().is_some())
            {
                let words: Vec<String> = attributes.list()?.iter().filter_map(Arg::text).collect();
                notify.selected_fetch = Some(format!("({})", words.join(" ")));
            }
            return Some(());
        }
        "INBOXES" => (Filter::Inboxes, rest),
        "PERSONAL" => (Filter::Personal, rest),
        "SUBSCRIBED" => (Filter::Subscribed, rest),
        "SUBTREE" => (Filter::Subtree(names(rest.first()?)?), &rest[1..]),
        "MAILBOXES" => (Filter::Mailboxes(names(rest.first()?)?), &rest[1..]),
        _ => return None,
    };
    let events = rest.first()?;
    if events.is("NONE") {
        return Some(());
    }
    let list = events.list()?;
    check_events(list)?;
    let has = |name: &str| list.iter().any(|e| e.is(name));
    notify.filters.push((
        filter,
        Events {
            messages: has("MessageNew") || has("MessageExpunge"),
            names: has("MailboxName"),
            subscriptions: has("SubscriptionChange"),
        },
    ));
    Some(())
}

/// Every event is a known name (a MessageNew's attribute list aside).
fn check_events(list: &[Arg]) -> Option<()> {
    list.iter()
        .filter(|e| e.list().is_none())
        .all(|e| {
            e.atom()
                .is_some_and(|a| EVENTS.contains(&a.to_ascii_uppercase().as_str()))
        })
        .then_some(())
}
