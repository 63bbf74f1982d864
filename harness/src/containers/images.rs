//! The container images of the real servers. Each is built from `containers/<name>/`
//! (an ordinary Dockerfile `FROM debian:bookworm-slim` plus configuration templates) and
//! tagged `mailharness/<name>:<hash>`, the hash being that of its build context: a changed
//! Dockerfile or template gives a new tag and a rebuild, an unchanged one is reused.
//!
//! Where `debian:bookworm-slim` is absent and no registry can provide it, it is made
//! locally: `containers/make-base-image.sh` runs debootstrap against the mirror apt
//! already uses and imports the result.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::Error;
use super::config::RealKind;
use super::docker::docker_output;

/// The servers there are images for.
pub const SERVERS: [&str; 3] = [
    RealKind::Dovecot.name(),
    RealKind::Courier.name(),
    RealKind::Postfix.name(),
];

/// The base image every Dockerfile starts from.
pub const BASE_IMAGE: &str = "debian:bookworm-slim";

/// The `containers/` directory: `MAILHARNESS_CONTAINERS`, else the copy inside the binary
/// (`crate::builtin`), written out on first use.
pub fn containers_dir() -> Result<PathBuf, Error> {
    if let Some(dir) = std::env::var_os("MAILHARNESS_CONTAINERS") {
        return Ok(PathBuf::from(dir));
    }
    crate::builtin::dir(crate::builtin::Tree::Containers).map_err(Error::Files)
}

/// SHA-256 of every file under `dir` (names and contents, in a stable order), in hex.
pub fn context_hash(dir: &Path) -> Result<String, Error> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)
        .map_err(|e| Error::Files(format!("cannot read {}: {e}", dir.display())))?;
    files.sort();
    let mut hasher = Sha256::new();
    for (relative, path) in files {
        let contents = std::fs::read(&path)
            .map_err(|e| Error::Files(format!("cannot read {}: {e}", path.display())))?;
        hasher.update(relative.as_bytes());
        hasher.update([0]);
        hasher.update((contents.len() as u64).to_le_bytes());
        hasher.update(&contents);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            files.push((relative, path));
        }
    }
    Ok(())
}

/// The tag of a server's image as its build context is now.
pub fn tag(server: &str) -> Result<String, Error> {
    let hash = context_hash(&containers_dir()?.join(server))?;
    Ok(format!("mailharness/{server}:{}", &hash[..12]))
}

/// Whether the daemon has an image by that name.
pub fn present(image: &str) -> bool {
    docker_output(
        &["image", "inspect", "--format", "{{.Id}}", image],
        Duration::from_secs(20),
    )
    .is_ok()
}

/// What building one image did.
#[derive(Debug)]
pub struct Built {
    pub server: String,
    pub tag: String,
    /// False when an image of the same tag was there already.
    pub built: bool,
    pub seconds: f64,
}

/// Runs a command, passing each output line to `progress`; fails with the last lines.
fn run_streaming(command: &mut Command, progress: &mut dyn FnMut(&str)) -> Result<(), Error> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Image(format!("cannot run {command:?}: {e}")))?;
    let stderr = child.stderr.take().expect("piped stderr");
    let collector = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let mut tail: Vec<String> = Vec::new();
    for line in BufReader::new(child.stdout.take().expect("piped stdout"))
        .lines()
        .map_while(Result::ok)
    {
        progress(&line);
        tail.push(line);
        if tail.len() > 20 {
            tail.remove(0);
        }
    }
    let errors = collector.join().unwrap_or_default();
    for line in &errors {
        progress(line);
    }
    let status = child.wait().map_err(|e| Error::Image(e.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        tail.extend(errors.into_iter().rev().take(20).rev());
        Err(Error::Image(format!(
            "{command:?} failed ({status}):\n{}",
            tail.join("\n")
        )))
    }
}

/// Provides `debian:bookworm-slim` when the daemon lacks it: with debootstrap from the
/// mirror apt uses where it can (root and the debootstrap package, as on machines without a
/// registry: no traffic leaves for a registry), else by pulling it.
pub fn ensure_base_image(progress: &mut dyn FnMut(&str)) -> Result<(), Error> {
    if present(BASE_IMAGE) {
        return Ok(());
    }
    let debootstrap = Command::new("sh")
        .args([
            "-c",
            "command -v debootstrap >/dev/null && [ \"$(id -u)\" = 0 ]",
        ])
        .status()
        .is_ok_and(|status| status.success());
    if debootstrap {
        progress(&format!(
            "{BASE_IMAGE} is missing: making it with debootstrap"
        ));
        let script = containers_dir()?.join("make-base-image.sh");
        run_streaming(Command::new("bash").arg(&script), progress)?;
    } else {
        progress(&format!("{BASE_IMAGE} is missing: pulling it"));
        run_streaming(Command::new("docker").args(["pull", BASE_IMAGE]), progress).map_err(|e| {
            Error::Image(format!("{e}\n(without a registry, install debootstrap and run as root: {BASE_IMAGE} is then made locally)"))
        })?;
    }
    if present(BASE_IMAGE) {
        Ok(())
    } else {
        Err(Error::Image(format!("{BASE_IMAGE} is still missing")))
    }
}

/// Builds (or finds) the image of each of `servers`.
pub fn build(servers: &[&str], progress: &mut dyn FnMut(&str)) -> Result<Vec<Built>, Error> {
    let mut results = Vec::new();
    let mut base_checked = false;
    for server in servers {
        let started = Instant::now();
        let tag = tag(server)?;
        if present(&tag) {
            progress(&format!("{tag}: present, reused"));
            results.push(Built {
                server: server.to_string(),
                tag,
                built: false,
                seconds: started.elapsed().as_secs_f64(),
            });
            continue;
        }
        if !base_checked {
            ensure_base_image(progress)?;
            base_checked = true;
        }
        progress(&format!("{tag}: building"));
        let context = containers_dir()?.join(server);
        run_streaming(
            Command::new("docker")
                .args([
                    "build",
                    "--network",
                    "host",
                    "--label",
                    "mailharness=image",
                    "-t",
                ])
                .arg(&tag)
                .arg(&context),
            &mut |line| progress(&format!("[{server}] {line}")),
        )?;
        progress(&format!(
            "{tag}: built in {:.0} s",
            started.elapsed().as_secs_f64()
        ));
        results.push(Built {
            server: server.to_string(),
            tag,
            built: true,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_follows_names_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM debian:bookworm-slim\n").unwrap();
        let first = context_hash(dir.path()).unwrap();
        assert_eq!(first, context_hash(dir.path()).unwrap());
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM debian:bookworm-slim\nRUN true\n",
        )
        .unwrap();
        let second = context_hash(dir.path()).unwrap();
        assert_ne!(first, second);
        std::fs::create_dir(dir.path().join("conf")).unwrap();
        std::fs::write(dir.path().join("conf/a.tmpl"), "").unwrap();
        assert_ne!(second, context_hash(dir.path()).unwrap());
    }
}
