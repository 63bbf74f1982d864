//! What the test binaries share about their surroundings: the third-party tools a test
//! drives (python3, xmllint, chromium) and Docker, each with the project's rule for a
//! missing one, and the peak memory of the children a test waited for. Each binary uses
//! some of it.
//!
//! The rule: a test that needs what this machine lacks is reported *ignored*, with the
//! reason on stderr, never passed; under `MAILHARNESS_REQUIRE_DOCKER=1` (Docker) or
//! `MAILHARNESS_REQUIRE_CONNECTORS=1` (the tools), as in CI, it fails instead. The binaries
//! with such tests are `harness = false` and run through [`run_tests`].

use std::process::{Command, Stdio};

use libtest_mimic::{Arguments, Trial};
use mailharness::containers::docker;

/// What a test needs from the machine besides the binary.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// A Docker daemon (the real servers).
    Docker,
    /// A program on the PATH that answers `--version`.
    Tool(&'static str),
}

impl Need {
    /// What is missing here, and the variable that makes it required; none when present.
    fn missing(self) -> Option<(String, &'static str)> {
        match self {
            Need::Docker => docker::daemon().err().map(|reason| {
                (
                    format!("no Docker daemon ({reason})"),
                    docker::REQUIRE_DOCKER,
                )
            }),
            Need::Tool(tool) => (!runs(tool)).then(|| {
                (
                    format!("{tool} is missing"),
                    "MAILHARNESS_REQUIRE_CONNECTORS",
                )
            }),
        }
    }
}

/// One test of a [`run_tests`] binary.
pub struct Test {
    pub name: &'static str,
    pub needs: &'static [Need],
    pub run: fn(),
}

/// One file's tests at a time: tests of the same file run side by side (as they were
/// written to), tests of different files never do. Two files' whole-catalogue runs with
/// real servers at once (`cli_run`, `signals`) slowed each other past their step timeouts.
struct FileTurns {
    state: std::sync::Mutex<(Option<&'static str>, usize)>,
    changed: std::sync::Condvar,
}

static TURNS: FileTurns = FileTurns {
    state: std::sync::Mutex::new((None, 0)),
    changed: std::sync::Condvar::new(),
};

impl FileTurns {
    /// Runs `body` when no other file's test runs.
    fn run(&self, file: &'static str, body: impl FnOnce()) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.0.is_some_and(|current| current != file) {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        *state = (Some(file), state.1 + 1);
        drop(state);
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1 -= 1;
        if state.1 == 0 {
            state.0 = None;
        }
        drop(state);
        self.changed.notify_all();
        if let Err(panic) = done {
            std::panic::resume_unwind(panic);
        }
    }
}

/// Runs `tests`, by the file they are in, as the binary's tests (libtest's arguments and
/// output; a test is named `file::name`; one file's tests at a time, see [`FileTurns`]):
/// each is ignored when something it needs is missing, or fails when that is required (see
/// the module doc).
pub fn run_tests(tests: &[(&'static str, Vec<Test>)]) -> ! {
    let args = Arguments::from_args();
    let trials = tests
        .iter()
        .flat_map(|(file, tests)| tests.iter().map(move |test| (*file, test)))
        .map(|(file, test)| {
            let name = format!("{file}::{}", test.name);
            let body = test.run;
            let run = move || TURNS.run(file, body);
            let missing = test.needs.iter().find_map(|need| need.missing());
            match missing {
                None => Trial::test(name, move || {
                    run();
                    Ok(())
                }),
                Some((what, variable)) if std::env::var(variable).is_ok_and(|v| v == "1") => {
                    Trial::test(name, move || {
                        Err(format!("{what}, and {variable}=1 is set").into())
                    })
                }
                Some((what, variable)) => {
                    if !args.list {
                        eprintln!(
                            "note: {name} is ignored: {what} ({variable}=1 makes this a failure)"
                        );
                    }
                    Trial::test(name, move || {
                        run();
                        Ok(())
                    })
                    .with_ignored_flag(true)
                }
            }
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

/// Runs an async test body on a runtime of its own (two workers, as `#[tokio::test]`'s
/// multi-thread flavour was given).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// Whether `tool --version` runs.
fn runs(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// For a part of a test that needs `tool` (the rest runs either way): whether it runs here.
/// When it does not, the test fails under
/// MAILHARNESS_REQUIRE_CONNECTORS=1 (CI installs it) and otherwise says what it leaves out.
pub fn tool_present(tool: &str, why: &str) -> bool {
    let present = runs(tool);
    let required = std::env::var("MAILHARNESS_REQUIRE_CONNECTORS").is_ok_and(|v| v == "1");
    assert!(
        present || !required,
        "{tool} is missing and MAILHARNESS_REQUIRE_CONNECTORS=1 is set"
    );
    if !present {
        eprintln!("note: {tool} is missing: {why} is left out of this test");
    }
    present
}

/// Runs `command` as [`Command::output`] does, and measures that one child: its output and
/// its peak resident set in KiB (wait4's, which counts the descendants it waited for). A
/// measure of the whole test binary's children (`RUSAGE_CHILDREN`) would count every other
/// test's children too.
// The child is reaped by wait4 below, which std's wait cannot do with the resource usage.
#[allow(clippy::zombie_processes)]
pub fn output_with_peak_rss(command: &mut Command) -> (std::process::Output, i64) {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 fills the two values it is given, for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    let output = std::process::Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    (output, usage.ru_maxrss)
}
