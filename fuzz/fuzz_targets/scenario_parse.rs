//! Any bytes as a scenario file: `parse` gives a scenario or an error at `path:line:column`
//! (or the path alone) that renders as the CLI renders it (harness/src/cli/run.rs); never
//! a panic. The same property as tests/cli/properties.rs, for long runs.
#![no_main]

use std::path::Path;

use mailharness::scenario::load::parse;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Err(error) = parse(Path::new("fuzz.toml"), &text) else {
        return;
    };
    if let Some(position) = error.location.strip_prefix("fuzz.toml:") {
        let numbers: Vec<usize> = position
            .split(':')
            .map(|n| n.parse().expect("line and column are numbers"))
            .collect();
        let [line, column] = numbers[..] else {
            panic!("location `{}` is not path:line:column", error.location);
        };
        let lines: Vec<&str> = text.split('\n').collect();
        assert!((1..=lines.len()).contains(&line), "{}", error.location);
        let width = lines[line - 1].chars().count();
        assert!((1..=width + 1).contains(&column), "{}", error.location);
    } else {
        assert_eq!(error.location, "fuzz.toml");
    }
    let rendered = format!("{:?}", miette::Report::new(error));
    assert!(!rendered.is_empty());
});
