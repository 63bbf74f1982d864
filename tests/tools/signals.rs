//! SIGINT, SIGTERM and SIGHUP stop `mailharness run` and `serve` cleanly: each test starts
//! the binary as a child in a session of its own, with a TMPDIR of its own, sends it a
//! signal at a chosen moment, and then checks the exit code (130, 143, 129; 0 for `serve`
//! once its servers are up), that no container labelled with the child's pid is left, that
//! its TMPDIR is empty, and that no process of its session (connectors, `docker`
//! commands) still runs. A run also removes the containers of runs that died, and only
//! those, even when it needs no container itself.
//!
//! The tests with real servers need Docker: without a daemon they are ignored, saying why,
//! unless `MAILHARNESS_REQUIRE_DOCKER=1` makes that a failure (as in `tests/tools/check_real.rs`).

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::tools::{Need, Test};
use mailharness::containers::{docker, images};

/// The repository's top, where `scenarios/` is.
fn top() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The binary running as a child, leader of a session of its own, with what it printed
/// (stdout and stderr, line by line) collected as it comes.
struct Child {
    process: std::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// Holds the child's TMPDIR (`tmp`), so that it can be checked for leftovers.
    _scratch: tempfile::TempDir,
    tmp: PathBuf,
}

impl Child {
    fn start(args: &[&str]) -> Child {
        let scratch = tempfile::tempdir().unwrap();
        let tmp = scratch.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_mailharness"));
        command
            .args(args)
            .current_dir(top())
            .env("TMPDIR", &tmp)
            .env_remove("MAILHARNESS_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: setsid is async-signal-safe and touches nothing of the parent.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut process = command.spawn().expect("the binary starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(process.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(process.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Child {
            process,
            lines,
            _scratch: scratch,
            tmp,
        }
    }

    fn pid(&self) -> u32 {
        self.process.id()
    }

    fn printed(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits until a line satisfies `wanted`; fails the test after `limit`.
    fn wait_for_line(&mut self, what: &str, limit: Duration, wanted: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            if self.lines.lock().unwrap().iter().any(|l| wanted(l)) {
                return;
            }
            if let Some(status) = self.process.try_wait().unwrap() {
                panic!(
                    "the run ended ({status}) before {what}:\n{}",
                    self.printed()
                );
            }
            if Instant::now() > deadline {
                let _ = self.process.kill();
                panic!("no {what} within {limit:?}:\n{}", self.printed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill only sends a signal to the child.
        assert_eq!(unsafe { libc::kill(self.pid() as i32, signal) }, 0);
    }

    /// The exit code, within `limit`; a child that does not exit is killed and fails the test.
    fn exit_code(&mut self, limit: Duration) -> i32 {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.process.try_wait().unwrap() {
                return status.code().unwrap_or_else(|| {
                    panic!("killed by a signal ({status}):\n{}", self.printed())
                });
            }
            if Instant::now() > deadline {
                let _ = self.process.kill();
                panic!("still running after {limit:?}:\n{}", self.printed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the run left in its TMPDIR.
    fn temporary_leftovers(&self) -> Vec<String> {
        std::fs::read_dir(&self.tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// Asserts that the child left no temporary file and no live process in its session
    /// (processes killed a moment ago may take that moment to go).
    fn assert_nothing_left(&self) {
        assert_eq!(
            self.temporary_leftovers(),
            Vec::<String>::new(),
            "TMPDIR {} is not empty:\n{}",
            self.tmp.display(),
            self.printed()
        );
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let left = session_processes(self.pid());
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "processes of the run's session still running: {left:?}\n{}",
                self.printed()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asserts that no container carries the child's pid as its run's.
    fn assert_no_container(&self) {
        let ids = containers_of(self.pid());
        assert!(
            ids.is_empty(),
            "containers of the run left: {ids:?}\n{}",
            self.printed()
        );
    }
}

/// The containers (any state) labelled with `pid` as their run's.
fn containers_of(pid: u32) -> Vec<String> {
    let filter = format!("label=mailharness.pid={pid}");
    docker::docker_output(
        &["ps", "-a", "-q", "--filter", &filter],
        Duration::from_secs(20),
    )
    .expect("docker ps")
    .split_whitespace()
    .map(str::to_owned)
    .collect()
}

/// Live (not zombie) processes of session `session`, as `pid command` lines.
fn session_processes(session: u32) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        // After the command name: state, ppid, pgrp, session.
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if fields.get(3) == Some(&session.to_string().as_str()) && fields[0] != "Z" {
            found.push(format!("{pid} {}", &stat[..=close]));
        }
    }
    found
}

/// Live processes of `session` running `sleep`.
fn sleeps_in(session: u32) -> usize {
    session_processes(session)
        .iter()
        .filter(|p| p.contains("(sleep)"))
        .count()
}

fn sigterm_while_containers_start_removes_them_all() {
    let mut run = Child::start(&["run", "scenarios/real"]);
    // Containers start eight at a time from this line on; some are being created, some
    // wait for their server when the signal comes.
    run.wait_for_line("the container starts", Duration::from_secs(60), |l| {
        l.starts_with("containers: starting")
    });
    std::thread::sleep(Duration::from_millis(700));
    run.signal(libc::SIGTERM);
    assert_eq!(
        run.exit_code(Duration::from_secs(40)),
        143,
        "{}",
        run.printed()
    );
    assert!(
        run.printed().contains("stopped by SIGTERM"),
        "{}",
        run.printed()
    );
    run.assert_no_container();
    run.assert_nothing_left();
}

fn sigint_during_the_scenarios_removes_the_containers() {
    let mut run = Child::start(&["run", "scenarios/real/dovecot", "--format", "matrix"]);
    run.wait_for_line("a finished scenario", Duration::from_secs(90), |l| {
        l.starts_with("[  1/")
    });
    assert!(!containers_of(run.pid()).is_empty(), "the servers run");
    run.signal(libc::SIGINT);
    assert_eq!(
        run.exit_code(Duration::from_secs(40)),
        130,
        "{}",
        run.printed()
    );
    run.assert_no_container();
    run.assert_nothing_left();
}

fn sighup_kills_the_connectors_still_running() {
    // Mock servers only, and a connector that outlives the signal by far, with a child of
    // its own in the background: killing the connector's process alone would leave that.
    let mut run = Child::start(&[
        "run",
        "scenarios/tls",
        "--connector",
        "exec:sleep 30 & sleep 30",
        "--in-flight",
        "2",
    ]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sleeps_in(run.pid()) < 4 {
        assert!(
            Instant::now() < deadline,
            "no two connectors running with their children:\n{}",
            run.printed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    run.signal(libc::SIGHUP);
    assert_eq!(
        run.exit_code(Duration::from_secs(20)),
        129,
        "{}",
        run.printed()
    );
    run.assert_nothing_left();
}

fn serve_deletes_its_password_file_on_sigterm() {
    let mut serve = Child::start(&["serve", "scenarios/tls/imap-implicit-expired.toml"]);
    serve.wait_for_line("the servers up", Duration::from_secs(30), |l| {
        l.starts_with("Press Ctrl-C")
    });
    let printed = serve.printed();
    let password_file = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("password  in "))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("no password file named:\n{printed}"));
    assert!(password_file.starts_with(&serve.tmp), "{printed}");
    assert!(password_file.is_file());
    serve.signal(libc::SIGTERM);
    assert_eq!(
        serve.exit_code(Duration::from_secs(20)),
        0,
        "{}",
        serve.printed()
    );
    assert!(!password_file.exists());
    serve.assert_nothing_left();
}

fn serve_in_a_given_directory_deletes_only_the_password_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let mut serve = Child::start(&[
        "serve",
        "scenarios/tls/imap-implicit-expired.toml",
        "--dir",
        dir_arg,
    ]);
    serve.wait_for_line("the servers up", Duration::from_secs(30), |l| {
        l.starts_with("Press Ctrl-C")
    });
    assert!(dir.path().join("password").is_file());
    serve.signal(libc::SIGINT);
    assert_eq!(
        serve.exit_code(Duration::from_secs(20)),
        0,
        "{}",
        serve.printed()
    );
    assert!(!dir.path().join("password").exists());
    assert!(
        dir.path().join("ca.pem").is_file(),
        "the CA stays for a look"
    );
    serve.assert_nothing_left();
}

/// A container that never starts, labelled as a run's with `labels`.
fn labelled_container(image: &str, labels: &[(&str, String)]) -> String {
    let mut args = vec!["create".to_owned()];
    for (label, value) in labels {
        args.push("--label".into());
        args.push(format!("{label}={value}"));
    }
    args.push(image.to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    docker::docker_output(&args, Duration::from_secs(30))
        .expect("docker create")
        .trim()
        .to_owned()
}

fn exists(id: &str) -> bool {
    docker::docker_output(
        &[
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("id={id}"),
        ],
        Duration::from_secs(20),
    )
    .expect("docker ps")
    .contains(id)
}

/// A pid no process has now: one of a process that just ended.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn a_mock_only_run_removes_containers_of_dead_runs_only() {
    // Any image does for containers that are only created; this one is built if missing.
    let image = images::build(&["dovecot"], &mut |_| {}).expect("the dovecot image")[0]
        .tag
        .clone();
    let server = ("mailharness", "server".to_owned());
    let dead = labelled_container(
        &image,
        &[server.clone(), ("mailharness.pid", dead_pid().to_string())],
    );
    // This test's own process lives: its container stays, as would a live run's.
    let live = labelled_container(
        &image,
        &[
            server.clone(),
            ("mailharness.pid", std::process::id().to_string()),
        ],
    );
    // A dead pid in another namespace: not this machine's to judge.
    let elsewhere = labelled_container(
        &image,
        &[
            server,
            ("mailharness.pid", dead_pid().to_string()),
            ("mailharness.namespace", "another-host/pid:[1]".to_owned()),
        ],
    );
    let mut run = Child::start(&["run", "scenarios/tls/imap-implicit-expired.toml"]);
    let code = run.exit_code(Duration::from_secs(30));
    let (dead_left, live_left, elsewhere_left) = (exists(&dead), exists(&live), exists(&elsewhere));
    let _ = docker::docker_output(
        &["rm", "-f", &dead, &live, &elsewhere],
        Duration::from_secs(30),
    );
    assert_eq!(code, 0, "{}", run.printed());
    assert!(!dead_left, "the dead run's container is still there");
    assert!(live_left, "the live run's container was removed");
    assert!(elsewhere_left, "another namespace's container was removed");
    run.assert_nothing_left();
}

/// The directory this file's tests start the binary in holds the scenarios they name.
fn the_scenarios_named_are_there() {
    for path in [
        "scenarios/real/dovecot",
        "scenarios/tls/imap-implicit-expired.toml",
    ] {
        assert!(Path::new(&top().join(path)).exists(), "{path}");
    }
}

/// The tests of this file, for `main.rs`.
pub fn tests() -> Vec<Test> {
    vec![
        Test {
            name: "sigterm_while_containers_start_removes_them_all",
            needs: &[Need::Docker],
            run: sigterm_while_containers_start_removes_them_all,
        },
        Test {
            name: "sigint_during_the_scenarios_removes_the_containers",
            needs: &[Need::Docker],
            run: sigint_during_the_scenarios_removes_the_containers,
        },
        Test {
            name: "sighup_kills_the_connectors_still_running",
            needs: &[],
            run: sighup_kills_the_connectors_still_running,
        },
        Test {
            name: "serve_deletes_its_password_file_on_sigterm",
            needs: &[],
            run: serve_deletes_its_password_file_on_sigterm,
        },
        Test {
            name: "serve_in_a_given_directory_deletes_only_the_password_file",
            needs: &[],
            run: serve_in_a_given_directory_deletes_only_the_password_file,
        },
        Test {
            name: "a_mock_only_run_removes_containers_of_dead_runs_only",
            needs: &[Need::Docker],
            run: a_mock_only_run_removes_containers_of_dead_runs_only,
        },
        Test {
            name: "the_scenarios_named_are_there",
            needs: &[],
            run: the_scenarios_named_are_there,
        },
    ]
}
