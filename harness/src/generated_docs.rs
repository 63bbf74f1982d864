//! Tables in `docs/` that are generated from the code: each sits between two HTML-comment
//! markers, a test compares it with the code's, and `MAILHARNESS_UPDATE_DOCS=1` writes it.

/// Checks that `doc` (a path under `docs/`) holds `table` between `<!-- {start} -->` and
/// `<!-- {end} -->`; writes it there under `MAILHARNESS_UPDATE_DOCS=1`.
pub(crate) fn check_table(doc: &str, start: &str, end: &str, table: &str) {
    let path = format!("{}/../docs/{doc}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let start_marker = format!("<!-- {start} -->\n");
    let from = text.find(&start_marker).expect("the start marker") + start_marker.len();
    let to = text
        .find(&format!("<!-- {end} -->"))
        .expect("the end marker");
    if text[from..to] == *table {
        return;
    }
    if std::env::var("MAILHARNESS_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, format!("{}{table}{}", &text[..from], &text[to..])).unwrap();
        return;
    }
    panic!(
        "docs/{doc}'s table after `{start}` is not the code's; rerun with MAILHARNESS_UPDATE_DOCS=1 to write it:\n{table}"
    );
}
