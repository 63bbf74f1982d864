//! Whether a Docker daemon answers, and whether its absence is an error.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::Error;

/// The variable CI sets so that a missing daemon fails the container tests instead of
/// skipping them.
pub const REQUIRE_DOCKER: &str = "MAILHARNESS_REQUIRE_DOCKER";

/// Whether container tests must run (`MAILHARNESS_REQUIRE_DOCKER=1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_DOCKER).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// What becomes of real-server scenarios that cannot run here (`reason`: why not): a
/// failure under `MAILHARNESS_REQUIRE_DOCKER=1`, else skipped with a note saying how to
/// make it a failure. The one reading of the variable for `run` and the tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unavailable {
    Fail(String),
    Skip(String),
}

impl Unavailable {
    pub fn because(reason: &Error) -> Unavailable {
        if required() {
            Unavailable::Fail(format!("{reason}, and {REQUIRE_DOCKER} is set"))
        } else {
            Unavailable::Skip(format!(
                "{reason}: scenarios with real servers are skipped (set {REQUIRE_DOCKER}=1 to fail instead)"
            ))
        }
    }
}

/// Runs `docker ARGS` and returns its stdout when it succeeds within `limit`.
pub fn docker_output(args: &[&str], limit: Duration) -> Result<String, Error> {
    let mut child = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::NoDaemon(format!("cannot run docker: {e}")))?;
    let deadline = std::time::Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Docker(format!(
                    "docker {} took longer than {limit:?}",
                    args.join(" ")
                )));
            }
            Err(e) => return Err(Error::Docker(e.to_string())),
        }
    }
    let output = child
        .wait_with_output()
        .map_err(|e| Error::Docker(e.to_string()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(Error::Docker(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    }
}

/// The daemon's version, or why there is none.
pub fn daemon() -> Result<String, Error> {
    docker_output(
        &["version", "--format", "{{.Server.Version}}"],
        Duration::from_secs(10),
    )
    .map(|v| v.trim().to_owned())
    .map_err(|e| match e {
        Error::NoDaemon(why) | Error::Docker(why) => Error::NoDaemon(why),
        other => other,
    })
}
