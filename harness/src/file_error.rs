//! An error in a file a user wrote (a scenario, a presets file): its path, line and column
//! and what was expected, as a miette diagnostic that shows the offending line.

use std::ops::Range;
use std::path::Path;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// A file that could not be read, or one problem in it.
#[derive(Clone, Debug, thiserror::Error, Diagnostic)]
#[error("{location}: {message}")]
pub struct FileError {
    /// `path:line:column`, or the path alone when there is no position.
    pub location: String,
    /// What was wrong, and what was expected.
    pub message: String,
    #[source_code]
    source_code: Option<NamedSource<String>>,
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

    /// A problem at `span` (a byte range of `text`), or in the file as a whole.
    pub(crate) fn at(
        path: &Path,
        text: &str,
        span: Option<Range<usize>>,
        message: String,
    ) -> FileError {
        let location = match &span {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                format!("{}:{line}:{column}", path.display())
            }
            None => path.display().to_string(),
        };
        FileError {
            location,
            message,
            source_code: Some(NamedSource::new(
                path.display().to_string(),
                text.to_owned(),
            )),
            span: span.map(|span| SourceSpan::from(span.start..span.end.max(span.start))),
        }
    }

    /// Where in the file the problem is (0 when it has no position), for ordering.
    pub(crate) fn offset(&self) -> usize {
        self.span.map_or(0, |span| span.offset())
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
