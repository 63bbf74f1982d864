//! Prepares what `src/builtin.rs` embeds: copies the repository's `scenarios/`,
//! `connectors/` and `containers/` into `$OUT_DIR/builtin/`, leaving out what is not the
//! project's own (dot-files and dot-directories such as python-aio's installed `.deps`,
//! `__pycache__`, `*.pyc`), so that an installed binary carries the catalogue, the shipped
//! connectors and the real servers' build contexts.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The trees embedded, by their directory name at the repository's top.
const TREES: [&str; 3] = ["scenarios", "connectors", "containers"];

fn main() -> io::Result<()> {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let top = manifest.join("..");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("builtin");
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    fs::create_dir_all(&out)?;
    for tree in TREES {
        let source = top.join(tree);
        // A directory is scanned whole: an added, changed or removed file rebuilds.
        println!("cargo::rerun-if-changed={}", source.display());
        copy(&source, &out.join(tree)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot embed {} (the binary is built from a checkout of the whole repository): {e}",
                    source.display()
                ),
            )
        })?;
    }
    Ok(())
}

/// Whether a file or directory of that name belongs in the binary.
fn wanted(name: &str) -> bool {
    !name.starts_with('.') && name != "__pycache__" && !name.ends_with(".pyc")
}

fn copy(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if !wanted(&name.to_string_lossy()) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy(&entry.path(), &to.join(&name))?;
        } else if kind.is_file() {
            fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}
