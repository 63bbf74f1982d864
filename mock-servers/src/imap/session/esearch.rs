//! SEARCH and SORT with RETURN options: ESEARCH (RFC 4731), ESORT and CONTEXT=SEARCH's
//! PARTIAL and UPDATE (RFC 5267), and SEARCHRES's saved result `$` (RFC 5182). imap-codec
//! parses none of these forms: the options are read with `args`, and the rest of the command
//! goes to imap-codec as a plain SEARCH or SORT. The answers are Dovecot's
//! (containers/captures/dovecot-rfc-extensions.txt): items in the order MIN, MAX, ALL, COUNT,
//! `COUNT 0` alone for no match, ESORT's MIN and MAX the first and last in sort order.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder as _;
use imap_codec::imap_types::command::CommandBody;

use super::super::args::{self, Arg};
use super::ImapSession;
use super::mail::uid_set;

/// A UID no message has: what `$` becomes when nothing is saved.
pub(super) const NO_UID: &str = "4294967295";

/// What RETURN asked for.
#[derive(Default)]
struct ReturnOptions {
    min: bool,
    max: bool,
    all: bool,
    count: bool,
    save: bool,
    update: bool,
    partial: Option<(u32, u32)>,
}

impl ReturnOptions {
    /// The options in `list`, or the reason they are refused.
    fn parse(list: &[Arg], session: &ImapSession, sort: bool) -> Result<ReturnOptions, String> {
        let mut options = ReturnOptions::default();
        let mut items = list.iter();
        let context = session.advertises("CONTEXT=SEARCH") && !sort;
        while let Some(item) = items.next() {
            let word = item.atom().unwrap_or_default().to_ascii_uppercase();
            match word.as_str() {
                "MIN" => options.min = true,
                "MAX" => options.max = true,
                "ALL" => options.all = true,
                "COUNT" => options.count = true,
                "SAVE" if session.advertises("SEARCHRES") => options.save = true,
                "UPDATE" if context => options.update = true,
                "PARTIAL" if context => {
                    let range = items.next().and_then(Arg::atom).unwrap_or_default();
                    let parsed = range
                        .split_once(':')
                        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
                    match parsed {
                        Some((a, b)) if a > 0 && b > 0 => {
                            options.partial = Some((a.min(b), a.max(b)));
                        }
                        _ => return Err("PARTIAL range broken".to_owned()),
                    }
                }
                _ => return Err("Unknown SEARCH return option".to_owned()),
            }
        }
        if list.is_empty() {
            options.all = true;
        }
        Ok(options)
    }

    /// Only SAVE: the search answers nothing but the tagged OK (RFC 5182 §2.4).
    fn save_only(&self) -> bool {
        self.save
            && !(self.min || self.max || self.all || self.count || self.update)
            && self.partial.is_none()
    }
}

/// An UPDATE search (CONTEXT=SEARCH) whose changes the session reports as they happen.
pub(super) struct SearchContext {
    tag: String,
    uid: bool,
    /// The search as a plain SEARCH command imap-codec parses, run again at each change.
    command: Vec<u8>,
    /// The UIDs it matched when last reported.
    uids: Vec<u32>,
}

/// SEARCH or SORT, and whether UID came first.
pub(super) struct Verb<'a> {
    pub(super) name: &'a str,
    pub(super) uid: bool,
}

impl ImapSession {
    /// SEARCH or SORT with `RETURN (...)` first among `arguments`: the whole command is
    /// answered here (the tagged reply is returned). `None` when there is no RETURN or the
    /// personality does not advertise ESEARCH (ESORT for SORT): imap-codec then refuses it.
    pub(super) fn search_with_return(
        &mut self,
        tag: &str,
        verb: &Verb,
        arguments: &[u8],
    ) -> Option<String> {
        let sort = verb.name == "SORT";
        let needed = if sort { "ESORT" } else { "ESEARCH" };
        let parsed = args::parse(arguments).ok()?;
        let [first, options, ..] = parsed.as_slice() else {
            return None;
        };
        let list = options.list()?;
        let rest = options.span.end;
        if !first.is("RETURN") || !self.advertises(needed) {
            return None;
        }
        let shown = if verb.uid {
            format!("UID {}", verb.name)
        } else {
            verb.name.to_owned()
        };
        if self.selection.is_none() {
            return Some(self.texts.not_selected.replace("{name}", verb.name));
        }
        let options = match ReturnOptions::parse(list, self, sort) {
            Ok(options) => options,
            Err(reason) => return Some(self.bad_arguments(&shown, &reason)),
        };
        let mut plain = format!("{tag} {shown}").into_bytes();
        plain.extend_from_slice(&arguments[rest..]);
        plain.extend_from_slice(b"\r\n");
        let (numbers, modseq) = match self.run_plain_search(&plain, verb.uid) {
            Ok(found) => found,
            Err(reply) => return Some(reply),
        };
        if options.save {
            self.save_result(&options, &numbers, verb.uid);
        }
        if options.update {
            let uids = self.uids_of(&numbers, verb.uid);
            self.contexts.push(SearchContext {
                tag: tag.to_owned(),
                uid: verb.uid,
                command: plain,
                uids,
            });
        }
        if !options.save_only() {
            let line = esearch_line(tag, verb.uid, &options, &numbers, sort, modseq);
            self.send_line(line);
        }
        Some(self.texts.completed(verb.name, None))
    }

    /// Runs a plain SEARCH or SORT command: the numbers found in result order (UIDs for a
    /// UID command), with the highest MODSEQ when the search used MODSEQ.
    fn run_plain_search(
        &mut self,
        command: &[u8],
        uid: bool,
    ) -> Result<(Vec<u32>, Option<u64>), String> {
        let decoded = CommandCodec::default().decode(command);
        let Ok((_, command)) = decoded else {
            let (_, name) = super::super::command::head(command);
            return Err(self.texts.invalid_arguments.replace("{name}", &name));
        };
        let pick = |(seq, message_uid): (u32, u32)| if uid { message_uid } else { seq };
        match command.body {
            CommandBody::Search { criteria, .. } => {
                let (hits, modseq) = self.searched(criteria.as_ref())?;
                Ok((hits.into_iter().map(pick).collect(), modseq))
            }
            CommandBody::Sort {
                sort_criteria,
                search_criteria,
                ..
            } => {
                let order = self.sorted(sort_criteria.as_ref(), search_criteria.as_ref())?;
                Ok((order.into_iter().map(pick).collect(), None))
            }
            _ => Err(self.texts.invalid_arguments.replace("{name}", "SEARCH")),
        }
    }

    /// UIDs of `numbers` (sequence numbers unless `uid`).
    fn uids_of(&self, numbers: &[u32], uid: bool) -> Vec<u32> {
        if uid {
            return numbers.to_vec();
        }
        let view = self
            .selection
            .as_ref()
            .map(|s| s.uids.as_slice())
            .unwrap_or_default();
        numbers
            .iter()
            .filter_map(|&n| view.get(n as usize - 1).copied())
            .collect()
    }

    /// RFC 5182 §2.4: MIN and/or MAX alone save those; anything else saves all.
    fn save_result(&mut self, options: &ReturnOptions, numbers: &[u32], uid: bool) {
        let only_ends = (options.min || options.max) && !options.all && !options.count;
        let kept: Vec<u32> = if only_ends {
            let mut ends = Vec::new();
            if options.min {
                ends.extend(numbers.iter().min());
            }
            if options.max {
                ends.extend(numbers.iter().max());
            }
            ends.dedup();
            ends
        } else {
            numbers.to_vec()
        };
        let mut saved = self.uids_of(&kept, uid);
        saved.sort_unstable();
        self.saved = saved;
    }

    /// The saved result (`$`) as a sequence set of the selection: UIDs in a UID command,
    /// sequence numbers otherwise; `None` when nothing saved is still there.
    pub(super) fn saved_set(&self, uid: bool) -> Option<String> {
        let view = self
            .selection
            .as_ref()
            .map(|s| s.uids.as_slice())
            .unwrap_or_default();
        let numbers: Vec<u32> = view
            .iter()
            .enumerate()
            .filter(|(_, u)| self.saved.binary_search(u).is_ok())
            .map(|(i, &u)| if uid { u } else { i as u32 + 1 })
            .collect();
        (!numbers.is_empty()).then(|| uid_set(&numbers))
    }

    /// A SEARCH key for the saved result: `UID set`, matching nothing when it is empty.
    pub(super) fn saved_key(&self) -> String {
        format!(
            "UID {}",
            self.saved_set(true).unwrap_or_else(|| NO_UID.to_owned())
        )
    }

    /// CANCELUPDATE (RFC 5267 §4.3): stops the UPDATE searches of the given tags.
    pub(super) fn cancel_update(&mut self, arguments: &[u8]) -> String {
        let tags: Vec<String> = match args::parse(arguments) {
            Ok(tags) if !tags.is_empty() => tags.iter().filter_map(Arg::text).collect(),
            _ => {
                return self
                    .texts
                    .invalid_arguments
                    .replace("{name}", "CANCELUPDATE");
            }
        };
        if tags
            .iter()
            .any(|t| !self.contexts.iter().any(|c| &c.tag == t))
        {
            // Dovecot's answer (containers/captures/dovecot-rfc-extensions.txt).
            return "NO Unknown tag (0.001 + 0.000 secs).".to_owned();
        }
        self.contexts.retain(|c| !tags.contains(&c.tag));
        self.texts.completed("CANCELUPDATE", None)
    }

    /// The ADDTO and REMOVEFROM lines of the UPDATE searches, after the selection has
    /// followed the store (expunged messages are not reported: their EXPUNGE says it).
    pub(super) fn update_contexts(&mut self) {
        let mut contexts = std::mem::take(&mut self.contexts);
        for context in &mut contexts {
            let Ok((numbers, _)) = self.run_plain_search(&context.command, true) else {
                continue;
            };
            let view = self
                .selection
                .as_ref()
                .map(|s| s.uids.clone())
                .unwrap_or_default();
            let shown = |uids: Vec<u32>| -> Vec<u32> {
                uids.iter()
                    .filter_map(|u| {
                        let seq = view.iter().position(|v| v == u)? as u32 + 1;
                        Some(if context.uid { *u } else { seq })
                    })
                    .collect()
            };
            let added: Vec<u32> = numbers
                .iter()
                .copied()
                .filter(|u| !context.uids.contains(u))
                .collect();
            let removed: Vec<u32> = context
                .uids
                .iter()
                .copied()
                .filter(|u| !numbers.contains(u) && view.contains(u))
                .collect();
            let uid = if context.uid { " UID" } else { "" };
            for (what, uids) in [("REMOVEFROM", removed), ("ADDTO", added)] {
                let shown = shown(uids);
                if !shown.is_empty() {
                    self.send_line(format!(
                        "* ESEARCH (TAG \"{}\"){uid} {what} (0 {})",
                        context.tag,
                        uid_set(&shown)
                    ));
                }
            }
            context.uids = numbers;
        }
        self.contexts = contexts;
    }
}

/// `* ESEARCH (TAG "t") [UID] MIN n MAX n ALL set COUNT n [PARTIAL (range set)] [MODSEQ n]`.
fn esearch_line(
    tag: &str,
    uid: bool,
    options: &ReturnOptions,
    numbers: &[u32],
    sort: bool,
    modseq: Option<u64>,
) -> String {
    let mut line = format!("* ESEARCH (TAG \"{tag}\")");
    if uid {
        line.push_str(" UID");
    }
    let (min, max) = if sort {
        (numbers.first(), numbers.last())
    } else {
        (numbers.iter().min(), numbers.iter().max())
    };
    if options.min
        && let Some(min) = min
    {
        line.push_str(&format!(" MIN {min}"));
    }
    if options.max
        && let Some(max) = max
    {
        line.push_str(&format!(" MAX {max}"));
    }
    if options.all && !numbers.is_empty() {
        line.push_str(&format!(" ALL {}", uid_set(numbers)));
    }
    if options.count {
        line.push_str(&format!(" COUNT {}", numbers.len()));
    }
    if let Some((from, to)) = options.partial {
        let window: Vec<u32> = numbers
            .iter()
            .skip(from as usize - 1)
            .take((to - from + 1) as usize)
            .copied()
            .collect();
        let set = if window.is_empty() {
            "NIL".to_owned()
        } else {
            uid_set(&window)
        };
        line.push_str(&format!(" PARTIAL ({from}:{to} {set})"));
    }
    if let Some(modseq) = modseq {
        line.push_str(&format!(" MODSEQ {modseq}"));
    }
    line
}
