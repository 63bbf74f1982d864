//! The extended LIST of LIST-EXTENDED (RFC 5258): selection options (SUBSCRIBED, REMOTE,
//! RECURSIVEMATCH, SPECIAL-USE of RFC 6154), several patterns, and return options
//! (SUBSCRIBED, CHILDREN, SPECIAL-USE, and LIST-STATUS's STATUS of RFC 5819). imap-codec
//! parses only the plain form, so these arguments are read with `args`; the listing itself
//! is `mail`'s. Answers as Dovecot gives them (containers/captures/dovecot-rfc-extensions.txt):
//! an extended LIST shows children and special use only when asked.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder as _;
use imap_codec::imap_types::command::CommandBody;

use super::super::args::{self, Arg};
use super::ImapSession;
use super::mail::{ListOptions, Listing};

impl ImapSession {
    /// LIST with the extended syntax, answered here (the tagged reply is returned); `None`
    /// for a plain LIST or where LIST-EXTENDED is not advertised.
    pub(super) fn list_extended(&mut self, arguments: &[u8]) -> Option<String> {
        if !self.advertises("LIST-EXTENDED") {
            return None;
        }
        let parsed = args::parse(arguments).ok()?;
        let (selection, rest) = match parsed.split_first() {
            Some((first, rest)) if first.list().is_some() => (first.list(), rest),
            _ => (None, parsed.as_slice()),
        };
        let [reference, patterns, tail @ ..] = rest else {
            return None;
        };
        let returns = match tail {
            [] => None,
            [word, list] if word.is("RETURN") => Some(list.list()?),
            _ => return Some(self.texts.invalid_arguments.replace("{name}", "LIST")),
        };
        if selection.is_none() && patterns.list().is_none() && returns.is_none() {
            return None;
        }
        let mut options = ListOptions {
            extended: true,
            ..ListOptions::default()
        };
        for option in selection.unwrap_or_default() {
            match option
                .atom()
                .unwrap_or_default()
                .to_ascii_uppercase()
                .as_str()
            {
                "SUBSCRIBED" => {
                    options.subscribed = true;
                    options.return_subscribed = true;
                }
                // Every folder is local.
                "REMOTE" => {}
                "RECURSIVEMATCH" => options.recursive = true,
                "SPECIAL-USE" if self.advertises("SPECIAL-USE") => options.special_use = true,
                _ => return Some(self.bad_arguments("LIST", "Unknown select options")),
            }
        }
        // RFC 5258 §3.1: RECURSIVEMATCH needs another selection option.
        if options.recursive && !options.subscribed && !options.special_use {
            return Some(self.texts.invalid_arguments.replace("{name}", "LIST"));
        }
        let mut returns = returns.unwrap_or_default().iter();
        while let Some(option) = returns.next() {
            match option
                .atom()
                .unwrap_or_default()
                .to_ascii_uppercase()
                .as_str()
            {
                "SUBSCRIBED" => options.return_subscribed = true,
                "CHILDREN" => options.return_children = true,
                "SPECIAL-USE" if self.advertises("SPECIAL-USE") => {
                    options.return_special_use = true;
                }
                "STATUS" if self.advertises("LIST-STATUS") => {
                    let items = returns.next().and_then(|items| self.status_items(items));
                    let Some(items) = items else {
                        return Some(self.texts.invalid_arguments.replace("{name}", "LIST"));
                    };
                    options.status = Some(items);
                }
                _ => return Some(self.texts.invalid_arguments.replace("{name}", "LIST")),
            }
        }
        let patterns: Vec<String> = match patterns.list() {
            Some(list) => list.iter().filter_map(Arg::text).collect(),
            None => patterns.text().into_iter().collect(),
        };
        let reference = reference.text().unwrap_or_default();
        Some(self.list(&reference, &patterns, Listing::List, &options))
    }

    /// STATUS items written as a list, read by imap-codec as a STATUS command's.
    fn status_items(
        &self,
        items: &Arg,
    ) -> Option<Vec<imap_codec::imap_types::status::StatusDataItemName>> {
        let words: Vec<&str> = items.list()?.iter().filter_map(Arg::atom).collect();
        let command = format!("s STATUS INBOX ({})\r\n", words.join(" "));
        match CommandCodec::default().decode(command.as_bytes()) {
            Ok((_, command)) => match command.body {
                CommandBody::Status { item_names, .. } => Some(item_names.into_owned()),
                _ => None,
            },
            Err(_) => None,
        }
    }
}
