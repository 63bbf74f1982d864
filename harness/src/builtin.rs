//! What ships inside the binary, so that an installed `mailharness` runs from any directory:
//! the scenario catalogue (`scenarios/`), the shipped connectors (`connectors/`) and the real
//! servers' build contexts (`containers/`), copied by `build.rs` and embedded with
//! include_dir.
//!
//! They are used as ordinary files: the first use of a tree writes it into the user's cache
//! directory (`$XDG_CACHE_HOME/mailharness` or `~/.cache/mailharness`), in a directory named
//! after the tree, the version and a hash of its contents, where scenarios load (and find
//! their twins), connectors run (and keep what their `setup` installs) and images build. An
//! existing copy is reused when every file is still there with its size; otherwise it is
//! written again. Nothing removes old copies: deleting the directory is always safe.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use include_dir::{Dir, DirEntry, include_dir};
use sha2::{Digest, Sha256};

static EMBEDDED: Dir<'static> = include_dir!("$OUT_DIR/builtin");

/// The prefix that names built-in scenarios on the command line: `builtin`, `builtin:tls`,
/// `builtin:tls/imap-expired`.
pub const PREFIX: &str = "builtin";

/// One of the embedded trees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tree {
    /// The scenario catalogue, `scenarios/`.
    Scenarios,
    /// The shipped connectors, `connectors/`.
    Connectors,
    /// The real servers' build contexts, `containers/`.
    Containers,
}

impl Tree {
    /// Its directory name, in the repository and in the cache.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Scenarios => "scenarios",
            Tree::Connectors => "connectors",
            Tree::Containers => "containers",
        }
    }

    fn dir(self) -> &'static Dir<'static> {
        EMBEDDED
            .get_dir(self.name())
            .expect("build.rs embeds every tree")
    }
}

/// Every embedded file of `tree`: its path relative to the tree's top, with `/`, and its bytes.
pub fn files(tree: Tree) -> Vec<(String, &'static [u8])> {
    let mut found = Vec::new();
    collect(tree.dir(), &mut found);
    let prefix = format!("{}/", tree.name());
    let mut files: Vec<(String, &'static [u8])> = found
        .into_iter()
        .map(|(path, contents)| {
            let relative = path.strip_prefix(&prefix).unwrap_or(&path).to_owned();
            (relative, contents)
        })
        .collect();
    files.sort();
    files
}

fn collect(dir: &'static Dir<'static>, found: &mut Vec<(String, &'static [u8])>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => collect(sub, found),
            DirEntry::File(file) => found.push((
                file.path().to_string_lossy().replace('\\', "/"),
                file.contents(),
            )),
        }
    }
}

/// SHA-256 of the embedded files of `tree` (names and contents), in hex: names its copy.
fn hash(tree: Tree) -> String {
    let mut hasher = Sha256::new();
    for (path, contents) in files(tree) {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update((contents.len() as u64).to_le_bytes());
        hasher.update(contents);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the copies live: `$XDG_CACHE_HOME/mailharness`, else `$HOME/.cache/mailharness`.
fn cache_base() -> Result<PathBuf, String> {
    let from = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(cache) = from("XDG_CACHE_HOME") {
        return Ok(cache.join("mailharness"));
    }
    if let Some(home) = from("HOME") {
        return Ok(home.join(".cache").join("mailharness"));
    }
    Err(
        "no cache directory for the built-in scenarios and connectors: set XDG_CACHE_HOME or HOME"
            .into(),
    )
}

/// The directory holding the written-out copy of `tree`, written on first use:
/// `<cache>/<tree>-<version>-<hash>`, so that a tree that did not change between two
/// builds is written once.
pub fn dir(tree: Tree) -> Result<PathBuf, String> {
    static DIRS: [OnceLock<Result<PathBuf, String>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    DIRS[tree as usize]
        .get_or_init(|| {
            let name = format!(
                "{}-{}-{}",
                tree.name(),
                env!("CARGO_PKG_VERSION"),
                &hash(tree)[..16]
            );
            let dir = cache_base()?.join(name);
            ensure(tree, &dir).map_err(|e| {
                format!(
                    "cannot write the built-in {} to {}: {e}",
                    tree.name(),
                    dir.display()
                )
            })?;
            Ok(dir)
        })
        .clone()
}

/// Whether `dir` holds every embedded file of `tree` with its size.
fn complete(tree: Tree, dir: &Path) -> bool {
    files(tree).iter().all(|(path, contents)| {
        fs::metadata(dir.join(path)).is_ok_and(|m| m.is_file() && m.len() == contents.len() as u64)
    })
}

/// Makes `dir` a complete copy of `tree`: written beside it and renamed into place, so that
/// runs in parallel never see half a copy.
fn ensure(tree: Tree, dir: &Path) -> io::Result<()> {
    if complete(tree, dir) {
        return Ok(());
    }
    let base = dir
        .parent()
        .expect("the copy is inside the cache directory");
    fs::create_dir_all(base)?;
    let partial = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(base)?;
    write_tree(tree, partial.path(), false)?;
    if dir.exists() && !complete(tree, dir) {
        // A damaged copy (a file removed or cut by hand): replaced whole.
        fs::remove_dir_all(dir)?;
    }
    match fs::rename(partial.path(), dir) {
        Ok(()) => {
            // Renamed away: nothing left for the guard to remove.
            let _ = partial.keep();
            Ok(())
        }
        // Another run wrote it first.
        Err(_) if complete(tree, dir) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes `tree` under `dest`. Files that start with `#!` are made executable (the
/// containers' entry points must be). With `fresh_only`, an existing file is never
/// overwritten: the first one found is the error, before anything is written.
fn write_tree(tree: Tree, dest: &Path, fresh_only: bool) -> io::Result<usize> {
    let files = files(tree);
    if fresh_only && let Some((path, _)) = files.iter().find(|(path, _)| dest.join(path).exists()) {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} is there already (nothing was written; choose an empty or new directory)",
                dest.join(path).display()
            ),
        ));
    }
    for (path, contents) in &files {
        let file = dest.join(path);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&file, contents)?;
        #[cfg(unix)]
        if contents.starts_with(b"#!") {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&file, fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(files.len())
}

/// Writes `tree` out under `dest` for reading or editing, refusing to overwrite any file;
/// returns how many files it wrote.
pub fn export(tree: Tree, dest: &Path) -> io::Result<usize> {
    write_tree(tree, dest, true)
}

/// A command-line path naming built-in scenarios (`builtin`, `builtin:`, `builtin:tls`,
/// `builtin:tls/imap-expired`), as the path to load and the root ids are relative to (the
/// catalogue's top, so that ids are the same however they are selected). `None` for any
/// other path; `Err` for a built-in name that does not exist.
pub fn scenario_path(arg: &Path) -> Option<Result<(PathBuf, PathBuf), String>> {
    let arg = arg.to_str()?;
    let rest = match arg.strip_prefix(PREFIX)? {
        "" => "",
        rest => rest.strip_prefix(':')?,
    };
    Some(resolve_scenarios(rest.trim_matches('/')))
}

fn resolve_scenarios(rest: &str) -> Result<(PathBuf, PathBuf), String> {
    let top = dir(Tree::Scenarios)?;
    if rest.is_empty() {
        return Ok((top.clone(), top));
    }
    let known = Tree::Scenarios.dir();
    let inside = format!("{}/{rest}", Tree::Scenarios.name());
    let path = if known.get_dir(&inside).is_some() {
        top.join(rest)
    } else if known
        .get_file(format!("{}.toml", inside.trim_end_matches(".toml")))
        .is_some()
    {
        top.join(format!("{}.toml", rest.trim_end_matches(".toml")))
    } else {
        let topics: Vec<String> = known
            .dirs()
            .map(|d| {
                d.path()
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        return Err(format!(
            "no built-in scenario or directory `{rest}` (`{PREFIX}:` takes a topic such as {} or a scenario id; `mailharness list {PREFIX}` lists them)",
            topics.join(", ")
        ));
    };
    Ok((path, top))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_and_connectors_are_inside_without_dot_files() {
        let scenarios = files(Tree::Scenarios);
        assert!(
            scenarios
                .iter()
                .any(|(p, _)| p == "tls/imap-implicit-expired.toml")
        );
        assert!(scenarios.iter().all(|(p, _)| p.ends_with(".toml")));
        let connectors = files(Tree::Connectors);
        assert!(
            connectors
                .iter()
                .any(|(p, _)| p == "python-stdlib/connector.toml")
        );
        assert!(connectors.iter().all(|(p, _)| {
            !p.split('/')
                .any(|part| part.starts_with('.') || part == "__pycache__")
        }));
        let containers = files(Tree::Containers);
        assert!(containers.iter().any(|(p, _)| p == "postfix/Dockerfile"));
    }

    #[test]
    fn the_embedded_files_are_those_of_the_repository() {
        let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for tree in [Tree::Scenarios, Tree::Connectors, Tree::Containers] {
            for (path, contents) in files(tree) {
                let on_disk = fs::read(top.join(tree.name()).join(&path)).unwrap();
                assert_eq!(on_disk, contents, "{}/{path}", tree.name());
            }
        }
    }

    #[test]
    fn export_writes_everything_and_overwrites_nothing() {
        let dest = tempfile::tempdir().unwrap();
        let written = export(Tree::Scenarios, dest.path()).unwrap();
        assert_eq!(written, files(Tree::Scenarios).len());
        let file = dest.path().join("tls/imap-implicit-expired.toml");
        fs::write(&file, "mine").unwrap();
        let error = export(Tree::Scenarios, dest.path()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert!(error.to_string().contains("is there already"), "{error}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
    }

    #[test]
    fn a_damaged_copy_is_written_again_and_scripts_are_executable() {
        let base = tempfile::tempdir().unwrap();
        let containers = base.path().join("copy");
        ensure(Tree::Containers, &containers).unwrap();
        assert!(complete(Tree::Containers, &containers));
        let entry = containers.join("postfix/entrypoint.sh");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&entry).unwrap().permissions().mode();
            assert_eq!(mode & 0o111, 0o111, "{mode:o}");
        }
        fs::write(&entry, "cut").unwrap();
        assert!(!complete(Tree::Containers, &containers));
        ensure(Tree::Containers, &containers).unwrap();
        assert!(complete(Tree::Containers, &containers));
        // Nothing half-written is left beside it.
        let names: Vec<_> = fs::read_dir(base.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["copy"]);
    }
}
