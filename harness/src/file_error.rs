//! An error in a file a user wrote (a scenario, a presets file): its path, line and column
//! and what was expected, as a miette diagnostic that shows the offending line.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// A file that could not be read, or one problem in it.
#[derive(Clone, Debug, thiserror::Error, Diagnostic)]
#[error("{location}: {message}")]
pub struct FileError {
    /// `path:line:column`, or the path alone when there is no position.
    pub location: String,
    /// What was wrong, and what was expected.
    pub message: String,
    /// Shared, so that the error stays small to pass around (`Result<_, FileError>`).
    #[source_code]
    source_code: Option<Arc<NamedSource<String>>>,
    #[label("here")]
    span: Option<SourceSpan>,
}

impl FileError {
    pub(crate) fn io(path: &Path, error: &std::io::Error) -> FileError {
        FileError {
            location: path.display().to_string(),
            message: format!("cannot read: {error}"),
            source_code: None,
            span: None,
        }
    }

    /// A problem at `span` (a byte range of `text`), or in the file as a whole. The lines
    /// around the span are shown, unless one is too long to show (more than
    /// [`MAX_SHOWN_LINE`] characters) or the span too tall: then the message ends with a
    /// short excerpt instead, and nothing is echoed whole.
    pub(crate) fn at(
        path: &Path,
        text: &str,
        span: Option<Range<usize>>,
        mut message: String,
    ) -> FileError {
        let span = span.map(|span| {
            let start = floor_char_boundary(text, span.start);
            start..floor_char_boundary(text, span.end.max(start))
        });
        let location = match &span {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                format!("{}:{line}:{column}", path.display())
            }
            None => path.display().to_string(),
        };
        if let Some(span) = span.as_ref().filter(|span| !showable(text, span)) {
            message.push_str(&format!("\n  near: {}", excerpt(text, span.start)));
            return FileError {
                location,
                message,
                source_code: None,
                span: None,
            };
        }
        FileError {
            location,
            message,
            source_code: Some(Arc::new(NamedSource::new(
                path.display().to_string(),
                text.to_owned(),
            ))),
            span: span.map(SourceSpan::from),
        }
    }

    /// Where in the file the problem is (0 when it has no position), for ordering.
    pub(crate) fn offset(&self) -> usize {
        self.span.map_or(0, |span| span.offset())
    }
}

/// The longest line shown around an error, in characters.
pub const MAX_SHOWN_LINE: usize = 1_000;

/// The most lines a span may cover and still be shown.
const MAX_SHOWN_LINES: usize = 50;

/// Whether the lines around `span` (one before, one after, as shown) are short enough and
/// few enough to show.
fn showable(text: &str, span: &Range<usize>) -> bool {
    let from = text[..span.start].rfind('\n').map_or(0, |i| i);
    let from = text[..from].rfind('\n').map_or(0, |i| i + 1);
    let to = text[span.end..]
        .match_indices('\n')
        .nth(1)
        .map_or(text.len(), |(i, _)| span.end + i);
    let lines = &text[from..to];
    lines.lines().count() <= MAX_SHOWN_LINES + 2
        && lines
            .lines()
            .all(|line| line.chars().count() <= MAX_SHOWN_LINE)
}

/// Up to 40 characters before `offset` and 60 from it, within its line, escaped, with `…`
/// where it was cut.
fn excerpt(text: &str, offset: usize) -> String {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let before: Vec<char> = text[line_start..offset].chars().rev().take(41).collect();
    let after: Vec<char> = text[offset..line_end].chars().take(61).collect();
    let mut shown = String::new();
    if before.len() > 40 {
        shown.push('…');
    }
    shown.extend(before.iter().take(40).rev());
    shown.extend(after.iter().take(60));
    let mut shown = format!("\"{}\"", shown.escape_debug());
    if after.len() > 60 {
        shown.push('…');
    }
    shown
}

/// The largest char boundary of `text` at or below `offset`.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(error: &FileError) -> String {
        format!("{:?}", miette::Report::new(error.clone()))
    }

    #[test]
    fn a_short_line_is_shown_with_its_label() {
        let text = "a = 1\nbad = x\nc = 3\n";
        let error = FileError::at(Path::new("f.toml"), text, Some(12..13), "what".into());
        assert_eq!(error.location, "f.toml:2:7");
        let shown = rendered(&error);
        assert!(shown.contains("bad = x"), "{shown}");
        assert!(shown.contains("here"), "{shown}");
    }

    #[test]
    fn a_line_too_long_to_show_gives_an_excerpt_and_no_panic() {
        // A span past column 65,535 once made miette panic while formatting.
        let long = "a".repeat(70_000);
        let text =
            format!("description = \"d\"\nimap = {{ folders = [\"{long}\"], securty = \"x\" }}\n");
        let at = text.find("securty").unwrap();
        let error = FileError::at(
            Path::new("f.toml"),
            &text,
            Some(at..at + 7),
            "unknown field".into(),
        );
        assert_eq!(error.location, "f.toml:2:70026");
        let shown = rendered(&error);
        assert!(shown.len() < 1_000, "{} bytes", shown.len());
        assert!(shown.contains("near: \"…aaaaaaaa"), "{shown}");
        assert!(shown.contains("securty = \\\"x\\\" }\"\n"), "{shown}");
        // A span inside a long line of multi-byte characters, cut anywhere.
        let text = "é".repeat(5_000);
        let error = FileError::at(Path::new("f.toml"), &text, Some(4_001..4_003), "x".into());
        assert!(rendered(&error).contains("near: "));
    }

    #[test]
    fn a_tall_span_is_not_echoed_whole() {
        let text = "x = \"\"\"\n".to_owned() + &"line\n".repeat(10_000) + "\"\"\"\n";
        let error = FileError::at(
            Path::new("f.toml"),
            &text,
            Some(4..text.len() - 1),
            "x".into(),
        );
        assert!(rendered(&error).len() < 1_000);
    }
}
