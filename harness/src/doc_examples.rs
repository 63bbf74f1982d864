//! The fenced examples of the docs, for the tests that check each against the code that
//! reads such a file (scenarios, presets, baselines, the connector protocol): an example
//! that no longer parses fails its module's tests.

/// The text of every ```` ```LANG ```` block of `markdown`, in order.
pub(crate) fn blocks<'a>(markdown: &'a str, lang: &str) -> Vec<&'a str> {
    let fence = format!("```{lang}\n");
    let mut found = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```").expect("a closed fence");
        found.push(&body[..end]);
        rest = &body[end + 3..];
    }
    found
}

#[cfg(test)]
mod tests {
    #[test]
    fn blocks_are_found_in_order() {
        let text = "a\n```toml\nx = 1\n```\n```json\n{}\n```\n```toml\ny = 2\n```\n";
        assert_eq!(super::blocks(text, "toml"), ["x = 1\n", "y = 2\n"]);
        assert_eq!(super::blocks(text, "json"), ["{}\n"]);
    }
}
