//! Starting real servers: one container per distinct configuration, shared by every
//! scenario of a run that asks for the same one, started on first use (scenarios asking at
//! the same time wait for the same start; a run asks for all of its containers up front,
//! see `runner::RunEnv::prepare`), at most [`PARALLEL_STARTS`] at once, and removed at the
//! end of the run.
//!
//! Every container carries labels naming the process that started it ([`Owner`]:
//! `mailharness.pid`, `mailharness.started`, the pid's start time, and
//! `mailharness.namespace`, the host and pid namespace the pid means something in) and
//! the pool inside that process (`mailharness.pool`), beside `mailharness=server`. A pool's
//! shutdown removes its containers, those still starting included (it waits for each start
//! in progress, then removes by label what they made); a run killed before it could clean up
//! leaves containers that a later run removes ([`remove_leftovers`]) once it sees their
//! process gone, and only then: another run's containers are left alone while it lives.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use testcontainers::core::WaitFor;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use tokio::sync::{OnceCell, Semaphore};

use super::Error;
use super::docker::docker_output;
use super::images;

/// The line every image's entrypoint prints once its server accepts connections.
pub const READY_LINE: &str = "mailharness: ready";

/// Where the rendered configuration goes inside the container.
pub const CONFIG_DIR: &str = "/etc/mailharness";

/// How long a server may take to come up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a shutdown waits for the starts in progress to return (removing their
/// containers makes them return within a second or two).
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(20);

/// What to start: a server image and the files for its configuration directory.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// `dovecot`, `courier` or `postfix`.
    pub server: &'static str,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// A running real server.
pub struct RunningServer {
    pub server: &'static str,
    /// The ports the configuration told it to listen on, by name (`IMAPS_PORT`, …).
    pub ports: BTreeMap<String, u16>,
    container: Mutex<Option<ContainerAsync<GenericImage>>>,
}

impl RunningServer {
    pub fn port(&self, name: &str) -> Option<u16> {
        self.ports.get(name).copied()
    }
}

/// A free port on 127.0.0.1 for a server on the host network, below the kernel's
/// ephemeral range (32768 and up on Linux): the port is released before the server binds
/// it, and a mock server binding port 0 in between must not be handed the same one.
/// Ports are taken in turn from a per-process starting point, skipping any in use.
pub fn free_port() -> Result<u16, Error> {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 10_000;
    const SPAN: u32 = 22_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    for _ in 0..SPAN {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN;
        let port = (FIRST + offset) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(Error::Start("no free port between 10000 and 32000".into()))
}

/// The image tag of `server`, once it is known to be present. Hashing the build context and
/// asking the daemon are blocking work, so they run on the blocking pool.
async fn present_tag(server: &'static str) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let tag = images::tag(server)?;
        if images::present(&tag) {
            Ok(tag)
        } else {
            Err(Error::Image(format!(
                "the image {tag} is missing: run `mailharness images build` first"
            )))
        }
    })
    .await
    .map_err(|e| Error::Image(format!("image check: {e}")))?
}

async fn start(
    tag: &str,
    spec: ContainerSpec,
    ports: BTreeMap<String, u16>,
    pool: u32,
) -> Result<RunningServer, Error> {
    let (name, version) = tag.split_once(':').expect("tags have a version");
    let mut request = GenericImage::new(name, version)
        .with_wait_for(WaitFor::message_on_stdout(READY_LINE))
        .with_network("host")
        .with_startup_timeout(STARTUP_TIMEOUT);
    for (label, value) in Owner::here().labels(pool) {
        request = request.with_label(label, value);
    }
    for (file, contents) in spec.files {
        request = request.with_copy_to(format!("{CONFIG_DIR}/{file}"), contents);
    }
    let container = request
        .start()
        .await
        .map_err(|e| Error::Start(format!("cannot start the {} container: {e}", spec.server)))?;
    Ok(RunningServer {
        server: spec.server,
        ports,
        container: Mutex::new(Some(container)),
    })
}

type Slot = Arc<OnceCell<Result<Arc<RunningServer>, Error>>>;
type TagSlot = Arc<OnceCell<Result<String, Error>>>;

/// How many containers start at once. Starting one is mostly the daemon's and the
/// server's own work; more at once than this only queues on two cores.
pub const PARALLEL_STARTS: usize = 8;

/// The containers of one run.
pub struct ContainerPool {
    slots: Mutex<HashMap<String, Slot>>,
    /// Each server's image tag, checked once per run.
    tags: Mutex<HashMap<&'static str, TagSlot>>,
    /// What the start tasks share with the pool (they outlive a caller that stops waiting).
    starts: Arc<Starts>,
    /// This pool's number in the process (its `mailharness.pool` label).
    id: u32,
}

/// The starts of a pool: each runs as a task of its own, so that a run that stops (its
/// scenarios dropped) does not cut a start off between the daemon creating the container
/// and the pool learning of it.
struct Starts {
    permits: Semaphore,
    /// Set by shutdown: no start begins after it.
    closed: AtomicBool,
    /// Starts past the closed check and not yet returned.
    in_flight: AtomicUsize,
    /// Every server the pool started, to remove at shutdown.
    running: Mutex<Vec<Arc<RunningServer>>>,
}

/// Counts a start in progress for as long as it lives.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Default for ContainerPool {
    fn default() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        ContainerPool {
            slots: Mutex::default(),
            tags: Mutex::default(),
            starts: Arc::new(Starts {
                permits: Semaphore::new(PARALLEL_STARTS),
                closed: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
                running: Mutex::default(),
            }),
            id: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// What a start that comes after the shutdown says.
const STOPPING: &str = "the run is stopping: no container starts any more";

impl ContainerPool {
    /// The server for configuration `key`, started with `make()` (which picks ports and
    /// renders the files) if no scenario asked for it yet.
    pub async fn get(
        &self,
        key: String,
        make: impl FnOnce() -> Result<(ContainerSpec, BTreeMap<String, u16>), Error>,
    ) -> Result<Arc<RunningServer>, Error> {
        let slot = self
            .slots
            .lock()
            .expect("pool lock")
            .entry(key)
            .or_default()
            .clone();
        slot.get_or_init(|| async {
            let (spec, ports) = make()?;
            let tag = self.tag(spec.server).await?;
            let (starts, pool) = (self.starts.clone(), self.id);
            let task = tokio::spawn(async move {
                let _permit = starts
                    .permits
                    .acquire()
                    .await
                    .map_err(|_| Error::Start(STOPPING.into()))?;
                // Counted before the check: a shutdown either sees this start or stops it.
                starts.in_flight.fetch_add(1, Ordering::SeqCst);
                let _counted = InFlight(&starts.in_flight);
                if starts.closed.load(Ordering::SeqCst) {
                    return Err(Error::Start(STOPPING.into()));
                }
                let server = Arc::new(start(&tag, spec, ports, pool).await?);
                starts
                    .running
                    .lock()
                    .expect("pool lock")
                    .push(server.clone());
                Ok(server)
            });
            task.await
                .map_err(|e| Error::Start(format!("container start: {e}")))
                .and_then(|started| started)
        })
        .await
        .clone()
    }

    async fn tag(&self, server: &'static str) -> Result<String, Error> {
        let cell = self
            .tags
            .lock()
            .expect("pool lock")
            .entry(server)
            .or_default()
            .clone();
        cell.get_or_init(|| present_tag(server)).await.clone()
    }

    /// Removes every container this pool started or is starting; no start begins after
    /// it. Starts in progress are waited for (at most [`IN_FLIGHT_WAIT`]; removing their
    /// containers by label meanwhile makes them fail fast), then whatever carries the
    /// pool's labels is removed until none is left.
    pub async fn shutdown(&self) {
        let starts = &self.starts;
        starts.closed.store(true, Ordering::SeqCst);
        starts.permits.close();
        self.slots.lock().expect("pool lock").clear();
        let mut swept = false;
        if starts.in_flight.load(Ordering::SeqCst) > 0 {
            tracing::debug!(
                "shutdown: waiting for {} container starts",
                starts.in_flight.load(Ordering::SeqCst)
            );
            let deadline = Instant::now() + IN_FLIGHT_WAIT;
            let mut next_sweep = Instant::now();
            while starts.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
                if Instant::now() >= next_sweep {
                    self.sweep(1).await;
                    next_sweep = Instant::now() + Duration::from_secs(1);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            swept = true;
        }
        let running: Vec<Arc<RunningServer>> =
            std::mem::take(&mut *starts.running.lock().expect("pool lock"));
        let ids: Vec<String> = running
            .iter()
            .filter_map(|server| {
                let container = server.container.lock().expect("container lock").take()?;
                let id = container.id().to_owned();
                // Removed with the command line below. testcontainers removes a container it
                // drops, and its removal of one that is gone already (swept above) can hang.
                std::mem::forget(container);
                Some(id)
            })
            .collect();
        tracing::debug!("shutdown: removing {} containers", ids.len());
        // All in one command, which removes them in parallel (each a SIGKILL and a wait).
        let _ = tokio::task::spawn_blocking(move || remove(&ids)).await;
        if swept || !running.is_empty() {
            // A container whose start failed (or was cut short) is known only by its labels,
            // and a removal that failed above is tried again.
            self.sweep(10).await;
        }
    }

    /// Removes the containers labelled with this pool, up to `rounds` times until a
    /// listing shows none.
    async fn sweep(&self, rounds: usize) {
        let filters = Owner::here().filters(Some(self.id));
        let _ = tokio::task::spawn_blocking(move || {
            for round in 0..rounds {
                let ids: Vec<String> = labelled_containers(&filters)
                    .into_iter()
                    .map(|c| c.id)
                    .collect();
                if ids.is_empty() {
                    return;
                }
                tracing::debug!("sweep: removing {} containers by label", ids.len());
                if round > 0 {
                    // A removal the daemon is already doing (testcontainers removes a
                    // container whose start failed) makes `docker rm` fail meanwhile.
                    std::thread::sleep(Duration::from_millis(200));
                }
                remove(&ids);
            }
        })
        .await;
    }
}

/// The process that starts containers, as their labels name it: enough for another run to
/// tell whether that process still lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    /// When the process started (clock ticks since boot, from `/proc/PID/stat`), so that
    /// another process given the same pid later is not taken for it. None where unknown.
    pub started: Option<u64>,
    /// The host name and pid namespace: a pid means something only there. Containers of a
    /// run in another namespace (another machine, another container sharing the daemon)
    /// are never judged, so never removed, by this one.
    pub namespace: String,
}

impl Owner {
    /// This process.
    pub fn here() -> &'static Owner {
        static HERE: OnceLock<Owner> = OnceLock::new();
        HERE.get_or_init(|| {
            let pid = std::process::id();
            Owner {
                pid,
                started: start_time(pid),
                namespace: namespace(),
            }
        })
    }

    /// The labels of a container this process starts for pool `pool`.
    fn labels(&self, pool: u32) -> Vec<(&'static str, String)> {
        let mut labels = vec![
            ("mailharness", "server".to_owned()),
            ("mailharness.pid", self.pid.to_string()),
            ("mailharness.namespace", self.namespace.clone()),
            ("mailharness.pool", pool.to_string()),
        ];
        if let Some(started) = self.started {
            labels.push(("mailharness.started", started.to_string()));
        }
        labels
    }

    /// `docker ps --filter` arguments for this owner's containers (of one pool or all).
    fn filters(&self, pool: Option<u32>) -> Vec<String> {
        let mut filters = vec![
            "label=mailharness=server".to_owned(),
            format!("label=mailharness.pid={}", self.pid),
            format!("label=mailharness.namespace={}", self.namespace),
        ];
        if let Some(started) = self.started {
            filters.push(format!("label=mailharness.started={started}"));
        }
        if let Some(pool) = pool {
            filters.push(format!("label=mailharness.pool={pool}"));
        }
        filters
    }
}

/// The start time of process `pid` (field 22 of `/proc/PID/stat`), where there is a /proc.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This process's host name and pid namespace.
fn namespace() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let host = if unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) } == 0 {
        let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
        String::from_utf8_lossy(&buffer[..end]).into_owned()
    } else {
        String::new()
    };
    let pid_namespace = std::fs::read_link("/proc/self/ns/pid")
        .map(|link| link.display().to_string())
        .unwrap_or_default();
    format!("{host}/{pid_namespace}")
}

/// Whether process `pid` is alive (it exists, ours to signal or not), and if so when it
/// started.
fn alive(pid: u32) -> Option<Option<u64>> {
    let raw = i32::try_from(pid).ok().filter(|&p| p > 0)?;
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(raw, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    exists.then(|| start_time(pid))
}

/// A container with the mailharness labels, as `docker ps` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Labelled {
    id: String,
    pid: Option<u32>,
    started: Option<u64>,
    namespace: Option<String>,
}

impl Labelled {
    /// Whether the run that started this container is gone: its pid (in this namespace)
    /// is dead or now another process's. A container of another namespace is never gone as
    /// far as this process can tell; one without a pid label is (no run can claim it).
    fn run_is_gone(&self, here: &str, alive: impl Fn(u32) -> Option<Option<u64>>) -> bool {
        if self.namespace.as_deref().is_some_and(|n| n != here) {
            return false;
        }
        let Some(pid) = self.pid else {
            return true;
        };
        match alive(pid) {
            None => true,
            Some(started) => matches!((self.started, started), (Some(a), Some(b)) if a != b),
        }
    }

    /// One line of the listing `labelled_containers` asks for.
    fn parse(line: &str) -> Option<Labelled> {
        let mut fields = line.split('\t');
        let id = fields.next()?.trim();
        if id.is_empty() {
            return None;
        }
        let mut next = || {
            fields
                .next()
                .map(str::trim)
                .filter(|v| !v.is_empty() && *v != "<no value>")
        };
        Some(Labelled {
            id: id.to_owned(),
            pid: next().and_then(|v| v.parse().ok()),
            started: next().and_then(|v| v.parse().ok()),
            namespace: next().map(str::to_owned),
        })
    }
}

/// The containers that match every `filters` (docker ps `--filter` values), within `limit`;
/// none when the daemon does not answer.
fn listing(filters: &[String], limit: Duration) -> Vec<Labelled> {
    let mut args = vec!["ps", "-a"];
    for filter in filters {
        args.extend(["--filter", filter.as_str()]);
    }
    args.extend([
        "--format",
        "{{.ID}}\t{{.Label \"mailharness.pid\"}}\t{{.Label \"mailharness.started\"}}\t{{.Label \"mailharness.namespace\"}}",
    ]);
    docker_output(&args, limit)
        .unwrap_or_default()
        .lines()
        .filter_map(Labelled::parse)
        .collect()
}

fn labelled_containers(filters: &[String]) -> Vec<Labelled> {
    listing(filters, Duration::from_secs(20))
}

fn remove(ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    let _ = docker_output(&args, Duration::from_secs(60));
}

/// Removes the containers of runs that are gone (killed before they could clean up), if
/// the daemon lists them within `limit`; returns how many. Runs of this process at once
/// take turns, so that they do not remove the same containers twice.
pub fn remove_leftovers(limit: Duration) -> usize {
    static TURN: Mutex<()> = Mutex::new(());
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let here = &Owner::here().namespace;
    let stale: Vec<String> = listing(&["label=mailharness=server".to_owned()], limit)
        .into_iter()
        .filter(|container| container.run_is_gone(here, alive))
        .map(|container| container.id)
        .collect();
    remove(&stale);
    stale.len()
}

/// [`remove_leftovers`] on a thread of its own, for a run that may need no container at
/// all: a daemon that does not answer within a couple of seconds is left alone, and no
/// Docker at all costs nothing. Join the handle before exiting, so that no `docker`
/// command outlives the run.
pub fn remove_leftovers_in_background() -> std::thread::JoinHandle<usize> {
    std::thread::spawn(|| remove_leftovers(Duration::from_secs(2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(pid: Option<u32>, started: Option<u64>, namespace: Option<&str>) -> Labelled {
        Labelled {
            id: "c1".into(),
            pid,
            started,
            namespace: namespace.map(str::to_owned),
        }
    }

    #[test]
    fn only_runs_known_dead_here_are_gone() {
        let here = "host/pid:[1]";
        let dead = |_| None;
        let alive_since = |t: u64| move |_| Some(Some(t));
        // A dead pid here: gone; with no namespace label (an older run): gone too.
        assert!(container(Some(5), Some(7), Some(here)).run_is_gone(here, dead));
        assert!(container(Some(5), None, None).run_is_gone(here, dead));
        // The same process still running: not gone.
        assert!(!container(Some(5), Some(7), Some(here)).run_is_gone(here, alive_since(7)));
        // The pid now belongs to a process started later: gone.
        assert!(container(Some(5), Some(7), Some(here)).run_is_gone(here, alive_since(9)));
        // Start time unknown on either side: the live pid is taken for the run.
        assert!(!container(Some(5), None, Some(here)).run_is_gone(here, alive_since(9)));
        assert!(!container(Some(5), Some(7), Some(here)).run_is_gone(here, |_| Some(None)));
        // Another namespace: never judged, even with its pid dead here.
        assert!(!container(Some(5), Some(7), Some("other/pid:[2]")).run_is_gone(here, dead));
        // No pid label: nobody owns it.
        assert!(container(None, None, None).run_is_gone(here, alive_since(7)));
    }

    #[test]
    fn listing_lines_are_parsed() {
        assert_eq!(
            Labelled::parse("abc\t42\t1234\th/pid:[9]"),
            Some(Labelled {
                id: "abc".into(),
                pid: Some(42),
                started: Some(1234),
                namespace: Some("h/pid:[9]".into()),
            })
        );
        assert_eq!(
            Labelled::parse("abc\t42\t<no value>\t"),
            Some(container(Some(42), None, None)).map(|c| Labelled {
                id: "abc".into(),
                ..c
            })
        );
        assert_eq!(Labelled::parse(""), None);
    }

    #[test]
    fn this_process_is_alive_and_known_by_its_start_time() {
        let here = Owner::here();
        assert_eq!(alive(here.pid), Some(here.started));
        assert_eq!(alive(0), None);
        assert_eq!(alive(u32::MAX), None);
        if cfg!(target_os = "linux") {
            assert!(here.started.is_some());
            assert!(here.namespace.contains("pid:["), "{}", here.namespace);
        }
        let labelled = Labelled {
            id: "x".into(),
            pid: Some(here.pid),
            started: here.started,
            namespace: Some(here.namespace.clone()),
        };
        assert!(!labelled.run_is_gone(&here.namespace, alive));
    }
}
