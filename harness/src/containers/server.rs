//! Starting real servers: one container per distinct configuration, shared by every
//! scenario of a run that asks for the same one, started on first use (scenarios asking at
//! the same time wait for the same start; a run asks for all of its containers up front,
//! see `runner::RunEnv::prepare`), at most [`PARALLEL_STARTS`] at once, and removed at the
//! end of the run.
//!
//! Every container carries the label `mailharness=server` and `mailharness.pid=<pid>` of
//! the run that started it, so that a run killed before it could clean up leaves nothing a
//! later run does not remove ([`remove_leftovers`]), and Ctrl-C removes the run's own
//! ([`remove_own`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use testcontainers::core::WaitFor;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use tokio::sync::OnceCell;

use super::docker::docker_output;
use super::images;

/// The line every image's entrypoint prints once its server accepts connections.
pub const READY_LINE: &str = "mailharness: ready";

/// Where the rendered configuration goes inside the container.
pub const CONFIG_DIR: &str = "/etc/mailharness";

/// How long a server may take to come up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);

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
pub fn free_port() -> Result<u16, String> {
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
    Err("no free port between 10000 and 32000".into())
}

/// The image tag of `server`, once it is known to be present. Hashing the build context and
/// asking the daemon are blocking work, so they run on the blocking pool.
async fn present_tag(server: &'static str) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let tag = images::tag(server)?;
        if images::present(&tag) {
            Ok(tag)
        } else {
            Err(format!(
                "the image {tag} is missing: run `mailharness images build` first"
            ))
        }
    })
    .await
    .map_err(|e| format!("image check: {e}"))?
}

async fn start(
    tag: &str,
    spec: ContainerSpec,
    ports: BTreeMap<String, u16>,
) -> Result<RunningServer, String> {
    let (name, version) = tag.split_once(':').expect("tags have a version");
    let mut request = GenericImage::new(name, version)
        .with_wait_for(WaitFor::message_on_stdout(READY_LINE))
        .with_network("host")
        .with_label("mailharness", "server")
        .with_label("mailharness.pid", std::process::id().to_string())
        .with_startup_timeout(STARTUP_TIMEOUT);
    for (file, contents) in spec.files {
        request = request.with_copy_to(format!("{CONFIG_DIR}/{file}"), contents);
    }
    let container = request
        .start()
        .await
        .map_err(|e| format!("cannot start the {} container: {e}", spec.server))?;
    Ok(RunningServer {
        server: spec.server,
        ports,
        container: Mutex::new(Some(container)),
    })
}

type Slot = Arc<OnceCell<Result<Arc<RunningServer>, String>>>;
type TagSlot = Arc<OnceCell<Result<String, String>>>;

/// How many containers start at once. Starting one is mostly the daemon's and the
/// server's own work; more at once than this only queues on two cores.
pub const PARALLEL_STARTS: usize = 8;

/// The containers of one run.
pub struct ContainerPool {
    slots: Mutex<HashMap<String, Slot>>,
    /// Each server's image tag, checked once per run.
    tags: Mutex<HashMap<&'static str, TagSlot>>,
    starts: tokio::sync::Semaphore,
}

impl Default for ContainerPool {
    fn default() -> Self {
        ContainerPool {
            slots: Mutex::default(),
            tags: Mutex::default(),
            starts: tokio::sync::Semaphore::new(PARALLEL_STARTS),
        }
    }
}

impl ContainerPool {
    /// The server for configuration `key`, started with `make()` (which picks ports and
    /// renders the files) if no scenario asked for it yet.
    pub async fn get(
        &self,
        key: String,
        make: impl FnOnce() -> Result<(ContainerSpec, BTreeMap<String, u16>), String>,
    ) -> Result<Arc<RunningServer>, String> {
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
            let _permit = self.starts.acquire().await.expect("never closed");
            start(&tag, spec, ports).await.map(Arc::new)
        })
        .await
        .clone()
    }

    async fn tag(&self, server: &'static str) -> Result<String, String> {
        let cell = self
            .tags
            .lock()
            .expect("pool lock")
            .entry(server)
            .or_default()
            .clone();
        cell.get_or_init(|| present_tag(server)).await.clone()
    }

    /// Removes every container this pool started.
    pub async fn shutdown(&self) {
        let slots: Vec<Slot> = self
            .slots
            .lock()
            .expect("pool lock")
            .drain()
            .map(|(_, s)| s)
            .collect();
        // Removed all at once: each removal is a stop (SIGTERM, a wait) in the daemon.
        let removals = slots.iter().filter_map(|slot| {
            let Some(Ok(server)) = slot.get() else {
                return None;
            };
            let container = server.container.lock().expect("container lock").take()?;
            Some(async move {
                let _ = container.rm().await;
            })
        });
        futures::future::join_all(removals).await;
    }
}

fn labelled_containers() -> Vec<(String, Option<u32>)> {
    let listing = docker_output(
        &[
            "ps",
            "-a",
            "--filter",
            "label=mailharness=server",
            "--format",
            "{{.ID}} {{.Label \"mailharness.pid\"}}",
        ],
        Duration::from_secs(20),
    )
    .unwrap_or_default();
    listing
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let id = words.next()?.to_owned();
            Some((id, words.next().and_then(|pid| pid.parse().ok())))
        })
        .collect()
}

fn remove(ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    let _ = docker_output(&args, Duration::from_secs(60));
}

/// Removes the containers of runs that are gone (killed before they could clean up).
pub fn remove_leftovers() -> usize {
    let stale: Vec<String> = labelled_containers()
        .into_iter()
        .filter(|(_, pid)| {
            pid.is_none_or(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
        })
        .map(|(id, _)| id)
        .collect();
    remove(&stale);
    stale.len()
}

/// Removes this process's containers (on Ctrl-C).
pub fn remove_own() {
    let own = std::process::id();
    let ids: Vec<String> = labelled_containers()
        .into_iter()
        .filter(|(_, pid)| *pid == Some(own))
        .map(|(id, _)| id)
        .collect();
    remove(&ids);
}
