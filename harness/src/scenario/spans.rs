//! Where a key sits in a scenario file, read from toml's spanned document: for the problems
//! found after deserialising (a value out of range, a key a real server cannot honour), so
//! that they are reported at the key wherever it is written: under a `[table]` header, as a
//! dotted key, or inside an inline table.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The spanned document of a file, or nothing when it does not parse as TOML (the
/// deserialiser reports that with its own position).
pub struct Spans<'i> {
    root: Option<Spanned<DeTable<'i>>>,
}

impl<'i> Spans<'i> {
    pub fn parse(text: &'i str) -> Spans<'i> {
        Spans {
            root: DeTable::parse(text).ok(),
        }
    }

    /// The key at `path` (the tables, then the key): `["imap", "faults"]`.
    pub fn key(&self, path: &[&str]) -> Option<Range<usize>> {
        self.entry(path).map(|(key, _)| key.span())
    }

    /// The value of the key at `path`.
    pub fn value(&self, path: &[&str]) -> Option<Range<usize>> {
        self.entry(path).map(|(_, value)| value.span())
    }

    /// The key `key` in the `index`-th table of the array at `path` (`[[imap.hostile]]`).
    pub fn element_key(&self, path: &[&str], index: usize, key: &str) -> Option<Range<usize>> {
        let (_, value) = self.entry(path)?;
        let DeValue::Array(elements) = value.get_ref() else {
            return None;
        };
        let DeValue::Table(table) = elements.get(index)?.get_ref() else {
            return None;
        };
        table
            .iter()
            .find(|(name, _)| name.get_ref() == key)
            .map(|(name, _)| name.span())
    }

    /// Whether the value at `path` is an array (`[[expect]]` where `[expect]` was meant).
    pub fn is_array(&self, path: &[&str]) -> bool {
        self.entry(path)
            .is_some_and(|(_, value)| matches!(value.get_ref(), DeValue::Array(_)))
    }

    fn entry(
        &self,
        path: &[&str],
    ) -> Option<(&Spanned<toml::de::DeString<'i>>, &Spanned<DeValue<'i>>)> {
        let (last, tables) = path.split_last()?;
        let mut table = self.root.as_ref()?.get_ref();
        for name in tables {
            let (_, value) = table.iter().find(|(key, _)| key.get_ref() == name)?;
            match value.get_ref() {
                DeValue::Table(inner) => table = inner,
                _ => return None,
            }
        }
        table.iter().find(|(key, _)| key.get_ref() == last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_however_they_are_written() {
        let text = "description = \"has [smtp] in it\"\n[smtp]\nfaults = 1\n";
        let spans = Spans::parse(text);
        assert_eq!(&text[spans.key(&["smtp", "faults"]).unwrap()], "faults");
        assert_eq!(&text[spans.value(&["smtp", "faults"]).unwrap()], "1");
        let text = "imap = { server = \"dovecot\", faults = { stall = true } }\n";
        let spans = Spans::parse(text);
        assert_eq!(&text[spans.key(&["imap", "faults"]).unwrap()], "faults");
        let text = "imap.faults.stall = true\n";
        let spans = Spans::parse(text);
        assert_eq!(&text[spans.key(&["imap", "faults"]).unwrap()], "faults");
        assert!(spans.key(&["smtp", "faults"]).is_none());
        let spans = Spans::parse("[[expect]]\nclass = \"ok\"\n");
        assert!(spans.is_array(&["expect"]));
        assert!(Spans::parse("= broken").key(&["x"]).is_none());
        let text = "[[smtp.hostile]]\nat = \"a\"\n[[smtp.hostile]]\nsend = \"x\"\nat = \"b\"\n";
        let spans = Spans::parse(text);
        let second = spans.element_key(&["smtp", "hostile"], 1, "at").unwrap();
        assert_eq!(
            (&text[second.clone()], second.start),
            ("at", text.rfind("at").unwrap())
        );
        assert!(spans.element_key(&["smtp", "hostile"], 2, "at").is_none());
    }
}
