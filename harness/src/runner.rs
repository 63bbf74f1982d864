//! Running scenarios: start the servers a scenario describes on ephemeral loopback ports, run
//! the connector against them, compare its outcome with `[expect]`, and for a scenario
//! expected to pass, check that the test message really arrived with the right envelope.
//!
//! Every scenario is isolated: its own servers and ports. What does not differ between
//! scenarios is made once per run ([`RunEnv`]): the certificate matrix, the CA file the
//! connector trusts, the real servers' containers. Scenarios run in parallel (see
//! [`Concurrency`]).

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mailharness_certs::CertMatrix;
use mailharness_mock_servers::oauth::{AuthorizationServer, Tokens};
use mailharness_mock_servers::{Mailstore, MockServer, Transcript};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::connector::{Connector, Endpoint, OAuthSettings, Secret, Settings};
use crate::containers::server::ContainerPool;
use crate::containers::{config as real, docker};
use crate::outcome::Outcome;
use crate::plan::{self, Plan};
use crate::scenario::load::LoadedScenario;
use crate::scenario::{Expect, PasswordChoice, Scenario, StoredToken};

pub use crate::plan::DEFAULT_STEP_TIMEOUT;

/// The name of the CA file in the run's temporary directory.
const CA_FILE: &str = "ca.pem";

/// The host name the connector is given: every certificate names it, and it resolves to
/// the loopback address the servers listen on.
pub const HOST: &str = "localhost";

/// What all scenarios of one run share.
pub struct RunEnv {
    /// The certificate matrix, generated once per run.
    pub certs: Arc<CertMatrix>,
    /// The password the servers know. Made afresh for every run unless given (tests give
    /// one so they can look for it in the output).
    password: Secret,
    /// The real servers' containers, shared between scenarios with the same configuration.
    pub containers: ContainerPool,
    /// Whether a Docker daemon answered (checked once, on the first scenario that needs it).
    docker: std::sync::OnceLock<Result<(), crate::containers::Error>>,
    /// The run's temporary directory, holding the CA file every connector trusts (the same
    /// CA for every scenario of a run: written once, not once per scenario). Taken and
    /// deleted by [`RunEnv::shutdown`], or when the environment is dropped.
    dir: std::sync::Mutex<Option<tempfile::TempDir>>,
    /// The CA file in that directory.
    ca_file: std::path::PathBuf,
    /// What a server may send the built-in connector (`--max-line-bytes`,
    /// `--max-reply-bytes`).
    pub limits: crate::probe::bounded::Limits,
    /// The store every OAuth account's authorization server of the run issues into (tokens
    /// are random, so scenarios cannot take each other's), and the run's introspection
    /// endpoint serving it to the real servers that check bearer tokens (Dovecot's `oauth2`
    /// passdb, configured before any scenario's authorization server starts): started for
    /// the first of them.
    tokens: Tokens,
    introspection: tokio::sync::OnceCell<Result<AuthorizationServer, String>>,
}

impl RunEnv {
    pub fn new(password: Option<String>) -> Result<RunEnv, String> {
        let certs = CertMatrix::generate(HOST).map_err(|e| e.to_string())?;
        let dir = tempfile::Builder::new()
            .prefix("mailharness-run-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        let ca_file = dir.path().join(CA_FILE);
        std::fs::write(&ca_file, certs.ca_pem()).map_err(|e| format!("CA file: {e}"))?;
        Ok(RunEnv {
            dir: std::sync::Mutex::new(Some(dir)),
            ca_file,
            certs: Arc::new(certs),
            password: Secret::new(password.unwrap_or_else(random_password)),
            containers: ContainerPool::default(),
            docker: std::sync::OnceLock::new(),
            limits: Default::default(),
            tokens: Tokens::default(),
            introspection: tokio::sync::OnceCell::new(),
        })
    }

    /// The URL of the run's token introspection endpoint, started on first use.
    async fn introspection_url(&self) -> Result<String, String> {
        let server = self
            .introspection
            .get_or_init(|| async {
                let bind: SocketAddr = "127.0.0.1:0".parse().expect("valid address");
                AuthorizationServer::introspection(self.certs.clone(), bind, self.tokens.clone())
                    .await
                    .map_err(|e| format!("the introspection endpoint: {e}"))
            })
            .await;
        let server = server.as_ref().map_err(Clone::clone)?;
        Ok(format!(
            "https://{HOST}:{}/introspect",
            server.addr().port()
        ))
    }

    /// The introspection URL when one of `servers` checks bearer tokens.
    async fn introspection_for<'a>(
        &self,
        mut servers: impl Iterator<Item = &'a real::RealServer>,
    ) -> Result<Option<String>, String> {
        if servers.any(|server| server.bearer_scope.is_some()) {
            self.introspection_url().await.map(Some)
        } else {
            Ok(None)
        }
    }

    /// [`RunEnv::containers_ready`] from async code: the first call checks Docker and may build images
    /// for minutes, so on a multi-thread runtime the worker hands its other tasks over first
    /// (`block_in_place`) instead of stalling them.
    fn docker_from_async(&self) -> Result<(), crate::containers::Error> {
        if let Some(ready) = self.docker.get() {
            return ready.clone();
        }
        let multi_thread = tokio::runtime::Handle::try_current().is_ok_and(|handle| {
            handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        });
        if multi_thread {
            tokio::task::block_in_place(|| self.containers_ready())
        } else {
            self.containers_ready()
        }
    }

    /// Whether real servers can run here. The first time: removes leftovers of killed runs
    /// and builds the images that are missing (progress on stderr). Blocking: from async
    /// code, see `docker_from_async`.
    pub fn containers_ready(&self) -> Result<(), crate::containers::Error> {
        self.docker
            .get_or_init(|| {
                docker::daemon()?;
                crate::containers::server::remove_leftovers(Duration::from_secs(20));
                crate::containers::images::build(
                    &crate::containers::images::SERVERS,
                    &mut |line| {
                        if !line.starts_with('[') {
                            eprintln!("images: {line}");
                        }
                    },
                )
                .map_err(|e| {
                    crate::containers::Error::Image(format!("cannot build the server images: {e}"))
                })?;
                Ok(())
            })
            .clone()
    }

    /// Gets ready what `scenarios` need before they run: checks Docker and builds missing
    /// images (once, on the blocking pool), then starts every real server they use, all at
    /// once (the pool bounds how many start together), so that no scenario waits for its
    /// container in turn. Failures are left for the scenarios to report.
    pub async fn prepare(self: &Arc<Self>, scenarios: &[LoadedScenario]) {
        let password = self.password.expose();
        let servers: Vec<real::RealServer> = scenarios
            .iter()
            .flat_map(|loaded| {
                let plan = Plan::of(&loaded.scenario, password);
                plan.real_servers().cloned().collect::<Vec<_>>()
            })
            .collect();
        if servers.is_empty() {
            return;
        }
        let env = self.clone();
        let docker = tokio::task::spawn_blocking(move || env.containers_ready()).await;
        if !matches!(docker, Ok(Ok(()))) {
            return;
        }
        // Progress, like the image build's: the starts take seconds before any scenario ends.
        // Not eprintln!: a closed terminal (SIGHUP, see `cli/run.rs`) must not panic the run.
        let _ = writeln!(
            std::io::stderr(),
            "containers: starting the real servers of {} scenario legs, {} at a time",
            servers.len(),
            crate::containers::server::PARALLEL_STARTS
        );
        // Failures are the scenarios' to report, when they ask for their server.
        let Ok(introspection) = self.introspection_for(servers.iter()).await else {
            return;
        };
        let introspection = introspection.as_deref();
        let starts = servers.into_iter().map(|server| async move {
            let certs = self.certs.clone();
            let _ = self
                .containers
                .get(server.key(), || server.spec(&certs, introspection))
                .await;
        });
        futures::future::join_all(starts).await;
    }

    /// The file holding the CA that signs the servers' certificates (PEM).
    pub fn ca_file(&self) -> std::path::PathBuf {
        self.ca_file.clone()
    }

    /// The password the servers know.
    pub fn password(&self) -> &Secret {
        &self.password
    }

    /// Starts a scenario's two servers for something other than a connector to talk to
    /// (`mailharness check` in its tests).
    pub async fn start(&self, scenario: &Scenario) -> Result<StartedServers, String> {
        let plan = Plan::of(scenario, self.password.expose());
        let store = Mailstore::new();
        Ok(StartedServers {
            imap: Leg::start(plan.imap.server, self, &store).await?,
            smtp: Leg::start(plan.smtp.server, self, &store).await?,
        })
    }

    /// Ends the run: removes its containers, those still starting included (no container
    /// starts after this), and deletes its temporary directory. A run stopped by a signal
    /// calls it too, after dropping its scenarios (see `cli/run.rs`).
    pub async fn shutdown(&self) {
        self.containers.shutdown().await;
        let dir = self.dir.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(dir) = dir {
            let _ = dir.close();
        }
    }
}

/// A password nobody could guess or find in a source file: 24 bytes from the operating
/// system's CSPRNG (through rustls's ring provider, the crypto already in the tree), in hex.
pub fn random_password() -> String {
    let mut bytes = [0u8; 24];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .expect("the operating system's random source");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("mh-{hex}")
}

/// The result of one scenario.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioResult {
    pub id: String,
    pub description: String,
    pub tags: Vec<String>,
    pub expected: Expect,
    /// What the connector reported; none when the scenario did not run to the connector
    /// (skipped, or the harness could not set it up).
    pub outcome: Option<Outcome>,
    /// Whether the outcome is what `[expect]` says (and, for `ok`, the message arrived).
    pub passed: bool,
    /// Why it did not pass.
    pub mismatch: Option<String>,
    /// The connector reported no outcome (see [`crate::connector::ConnectorError`]);
    /// counted on its own, neither a pass nor an ordinary mismatch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_error: Option<String>,
    /// Why it did not run (real servers without Docker); such a scenario neither passes
    /// nor fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The outcome differs from `[expect]` and is the one the baseline records for this
    /// connector (see [`crate::baseline`]): it passes as a known deviation.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub known_deviation: bool,
    pub duration_ms: u128,
    /// The servers' transcripts (passwords redacted); kept for failed scenarios, or all
    /// with `keep_transcripts`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transcripts: Vec<Transcript>,
}

/// A scenario's servers, started by [`RunEnv::start`]; mock servers stop when dropped,
/// containers when the run shuts down.
pub struct StartedServers {
    imap: Leg,
    smtp: Leg,
}

impl StartedServers {
    pub fn imap_port(&self) -> u16 {
        self.imap.port()
    }

    pub fn smtp_port(&self) -> u16 {
        self.smtp.port()
    }

    /// The mock SMTP server, to see what it received.
    pub fn smtp_mock(&self) -> Option<&MockServer> {
        self.smtp.server()
    }
}

/// A server started for one leg of a scenario.
enum Leg {
    Mock(MockServer),
    /// A port that is bound but never listened on: connections to it are refused, and as
    /// the socket stays bound for the scenario, no other server can be handed that port in
    /// the meantime (a bound-then-closed port could be, by a concurrent scenario's bind).
    Closed {
        addr: SocketAddr,
        _bound: tokio::net::TcpSocket,
    },
    /// A real server in a container (kept by the run's pool): this scenario's port on it.
    Real(u16),
}

impl Leg {
    /// Starts what the plan says for one leg.
    async fn start(server: plan::Server, env: &RunEnv, store: &Mailstore) -> Result<Leg, String> {
        match server {
            plan::Server::Mock(config) => Leg::mock(*config, &env.certs, store).await,
            plan::Server::Closed => Leg::closed(),
            plan::Server::Real(real) => Leg::real(env, real).await,
        }
    }

    async fn mock(
        config: impl Into<mailharness_mock_servers::MockConfig>,
        certs: &Arc<CertMatrix>,
        store: &Mailstore,
    ) -> Result<Leg, String> {
        let bind: SocketAddr = "127.0.0.1:0".parse().expect("valid address");
        MockServer::start_with_store(config, certs.clone(), bind, store.clone())
            .await
            .map(Leg::Mock)
            .map_err(|e| e.to_string())
    }

    fn closed() -> Result<Leg, String> {
        let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
        socket
            .bind("127.0.0.1:0".parse().expect("valid address"))
            .map_err(|e| e.to_string())?;
        let addr = socket.local_addr().map_err(|e| e.to_string())?;
        Ok(Leg::Closed {
            addr,
            _bound: socket,
        })
    }

    async fn real(env: &RunEnv, server: real::RealServer) -> Result<Leg, String> {
        env.docker_from_async().map_err(|e| e.to_string())?;
        let certs = env.certs.clone();
        let introspection = env.introspection_for(std::iter::once(&server)).await?;
        let running = env
            .containers
            .get(server.key(), || {
                server.spec(&certs, introspection.as_deref())
            })
            .await
            .map_err(|e| e.to_string())?;
        let port = running.port(server.listener_port()).ok_or_else(|| {
            format!(
                "the {} container has no {} port",
                running.server,
                server.listener_port()
            )
        })?;
        Ok(Leg::Real(port))
    }

    fn port(&self) -> u16 {
        match self {
            Leg::Mock(server) => server.addr().port(),
            Leg::Closed { addr, .. } => addr.port(),
            Leg::Real(port) => *port,
        }
    }

    fn server(&self) -> Option<&MockServer> {
        match self {
            Leg::Mock(server) => Some(server),
            Leg::Closed { .. } | Leg::Real(_) => None,
        }
    }
}

/// Runs one scenario with `connector`.
pub async fn run_scenario(
    loaded: &LoadedScenario,
    connector: &dyn Connector,
    env: &RunEnv,
    keep_transcripts: bool,
) -> ScenarioResult {
    let started = Instant::now();
    let scenario = &loaded.scenario;
    let expected = scenario.expect.get_ref().clone();
    let mut result = ScenarioResult {
        id: loaded.id.clone(),
        description: scenario.description.clone(),
        tags: scenario.tags.clone(),
        expected: expected.clone(),
        outcome: None,
        passed: false,
        mismatch: None,
        connector_error: None,
        skipped: None,
        known_deviation: false,
        duration_ms: 0,
        transcripts: Vec::new(),
    };
    if scenario.oauth.is_some() && !connector.signs_in_with_oauth() {
        result.skipped = Some(format!(
            "{} does not sign in with OAuth, which this scenario's account does",
            connector.name()
        ));
        return result;
    }
    if scenario.needs_containers()
        && let Err(reason) = env.docker_from_async()
    {
        match docker::Unavailable::because(&reason) {
            docker::Unavailable::Fail(why) => result.mismatch = Some(why),
            docker::Unavailable::Skip(why) => result.skipped = Some(why),
        }
        return result;
    }
    match run_servers_and_connector(scenario, connector, env).await {
        Ok((outcome, imap, smtp)) => {
            result.mismatch =
                compare(&expected, &outcome).or_else(|| check_delivery(scenario, &outcome, &smtp));
            if result.mismatch.is_some() || keep_transcripts {
                result.transcripts = [&imap, &smtp]
                    .iter()
                    .filter_map(|leg| leg.server())
                    .flat_map(MockServer::transcripts)
                    .collect();
            }
            result.outcome = Some(outcome);
        }
        Err(RunError::Setup(error)) => {
            result.mismatch = Some(format!(
                "the harness could not set up the scenario: {error}"
            ));
        }
        Err(RunError::Connector(error)) => {
            result.mismatch = Some(error.clone());
            result.connector_error = Some(error);
        }
    }
    result.passed = result.mismatch.is_none();
    result.duration_ms = started.elapsed().as_millis();
    result
}

/// Why a scenario ended without an outcome.
enum RunError {
    /// The harness could not start what the scenario needs.
    Setup(String),
    /// The connector did not report an outcome (see [`crate::connector::ConnectorError`]).
    Connector(String),
}

impl From<String> for RunError {
    fn from(error: String) -> Self {
        RunError::Setup(error)
    }
}

async fn run_servers_and_connector(
    scenario: &Scenario,
    connector: &dyn Connector,
    env: &RunEnv,
) -> Result<(Outcome, Leg, Leg), RunError> {
    let password = env.password.expose();
    let plan = Plan::with_tokens(scenario, password, env.tokens.clone());
    let step_timeout = plan.step_timeout;
    let (imap_security, smtp_security) =
        (plan.imap.connector_security, plan.smtp.connector_security);
    // One mail store for both mocks: what the SMTP mock accepts for the user appears in
    // the IMAP mock's INBOX.
    let store = Mailstore::new();
    let imap = Leg::start(plan.imap.server, env, &store).await?;
    let smtp = Leg::start(plan.smtp.server, env, &store).await?;
    // An OAuth account's authorization server lives as long as the run of the connector.
    let (oauth, _authorization) = match &plan.oauth {
        Some(oauth) => {
            let (settings, server) = start_authorization(oauth, &env.certs).await?;
            (Some(settings), Some(server))
        }
        None => (None, None),
    };
    let account = &scenario.account;
    let settings = Settings {
        imap: Endpoint {
            host: HOST.into(),
            port: imap.port(),
            security: imap_security,
        },
        smtp: Endpoint {
            host: HOST.into(),
            port: smtp.port(),
            security: smtp_security,
        },
        email: account.email.clone(),
        username: account.username.clone(),
        password: match (&oauth, account.password) {
            (Some(_), _) => Secret::new(""),
            (None, PasswordChoice::Correct) => env.password.clone(),
            (None, PasswordChoice::Wrong) => Secret::new(format!("not-{password}")),
        },
        oauth,
        allow_insecure_certificate: account.allow_insecure_certificate,
        bcc: account.bcc.clone(),
        ca_file: Some(env.ca_file()),
        trust_system_roots: false,
        step_timeout,
        source_address: account.source_address,
        limits: env.limits,
    };
    // Five steps, each bounded by the connector itself; the harness allows one more
    // step's time before it calls the connector hung.
    let limit = step_timeout * 6;
    let outcome = match tokio::time::timeout(limit, connector.run(&settings)).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(error)) => return Err(RunError::Connector(error.to_string())),
        Err(_) => {
            return Err(RunError::Connector(format!(
                "connector error: {} did not finish within {limit:?}",
                connector.name()
            )));
        }
    };
    Ok((outcome, imap, smtp))
}

/// What runs at an OAuth account's token endpoint while the connector runs, held until it is
/// done: the server, or when the endpoint is down a bound port nothing listens on (see
/// [`Leg::Closed`]).
pub struct AuthorizationLeg(TokenEndpoint);

enum TokenEndpoint {
    Up(AuthorizationServer),
    Down(Leg),
}

impl AuthorizationLeg {
    /// The port of the token endpoint (closed when it is down).
    pub fn port(&self) -> u16 {
        match &self.0 {
            TokenEndpoint::Up(server) => server.addr().port(),
            TokenEndpoint::Down(closed) => closed.port(),
        }
    }

    /// Whether a server answers there.
    pub fn is_up(&self) -> bool {
        matches!(self.0, TokenEndpoint::Up(_))
    }
}

/// Starts the authorization server of `oauth` (or a closed port when its endpoint is
/// down), gives the connector's stored token if it has one, and returns the connector's
/// OAuth settings.
pub async fn start_authorization(
    oauth: &plan::OAuthPlan,
    certs: &Arc<CertMatrix>,
) -> Result<(OAuthSettings, AuthorizationLeg), String> {
    let leg = AuthorizationLeg(match &oauth.server {
        Some(config) => {
            let bind: SocketAddr = "127.0.0.1:0".parse().expect("valid address");
            let server = AuthorizationServer::start(
                config.clone(),
                certs.clone(),
                bind,
                oauth.tokens.clone(),
            )
            .await
            .map_err(|e| e.to_string())?;
            TokenEndpoint::Up(server)
        }
        None => TokenEndpoint::Down(Leg::closed()?),
    });
    let mut scopes = vec![oauth.required_scope.clone()];
    if oauth.smtp_scope != oauth.required_scope {
        scopes.push(oauth.smtp_scope.clone());
    }
    let access_token = match oauth.stored_token {
        StoredToken::None => None,
        StoredToken::Valid => Some(oauth.tokens.issue(&oauth.user, &scopes, oauth.lifetime)),
        StoredToken::Expired => Some(oauth.tokens.issue(&oauth.user, &scopes, Duration::ZERO)),
    };
    let settings = OAuthSettings {
        token_url: format!("https://{HOST}:{}/token", leg.port()),
        client_id: oauth.client_id.clone(),
        client_secret: Secret::new(oauth.client_secret.clone()),
        refresh_token: oauth.refresh_token.clone().map(Secret::new),
        access_token: access_token.map(Secret::new),
        scope: oauth.scope.clone(),
    };
    Ok((settings, leg))
}

/// Whether a real-server scenario and its mock twin agree: the same class and detail (the
/// step follows from them; the servers' own words differ by nature). `run --parity` and
/// the catalogue test both judge parity by this.
pub fn parity(real: &Outcome, twin: &Outcome) -> bool {
    (real.class, &real.detail) == (twin.class, &twin.detail)
}

/// Why `outcome` does not match `expected`, if it does not.
pub fn compare(expected: &Expect, outcome: &Outcome) -> Option<String> {
    let step_matches = expected.step.is_none_or(|step| outcome.step == Some(step));
    let detail_matches = expected
        .detail
        .as_ref()
        .is_none_or(|detail| outcome.detail.as_ref() == Some(detail));
    if expected.class == outcome.class && step_matches && detail_matches {
        return None;
    }
    Some(format!("expected {expected}, got {outcome}"))
}

/// For a scenario that passed every step: the SMTP server must hold exactly the test
/// message, from the inbox to the BCC address.
fn check_delivery(scenario: &Scenario, outcome: &Outcome, smtp: &Leg) -> Option<String> {
    if outcome.class != crate::outcome::ErrorClass::Ok {
        return None;
    }
    let server = smtp.server()?;
    let messages = server.messages();
    let [message] = messages.as_slice() else {
        return Some(format!(
            "the connector reported ok but the SMTP server holds {} messages",
            messages.len()
        ));
    };
    let account = &scenario.account;
    if message.mail_from != account.email || message.rcpt_to != [account.bcc.clone()] {
        return Some(format!(
            "the test message went from <{}> to {:?}, expected <{}> to <{}>",
            message.mail_from, message.rcpt_to, account.email, account.bcc
        ));
    }
    None
}

/// How much of a run goes on at once. Scenarios mostly wait (on sockets, on timeouts that
/// a scenario provokes on purpose), so the CPU bound and the bound on scenarios in progress
/// are two numbers: a scenario sleeping on a timeout holds no CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Concurrency {
    /// Worker threads of the run's async runtime: the CPU the harness's own work (mock
    /// servers, the built-in connector) can use at once.
    pub jobs: usize,
    /// Scenarios in progress at once, waiting ones included. An external connector is a
    /// process of its own per scenario, outside the runtime's threads, so it gets fewer.
    pub in_flight: usize,
}

impl Concurrency {
    /// Scenarios in progress per job for a connector inside the runtime.
    pub const IN_PROCESS_PER_JOB: usize = 32;
    /// Scenarios (connector processes) in progress per job for an external connector.
    pub const EXTERNAL_PER_JOB: usize = 4;

    /// `jobs` (default: the number of cores) and `in_flight` (default: per job, by where
    /// the connector runs).
    pub fn new(jobs: Option<usize>, in_flight: Option<usize>, in_process: bool) -> Concurrency {
        let jobs = jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1);
        let per_job = if in_process {
            Self::IN_PROCESS_PER_JOB
        } else {
            Self::EXTERNAL_PER_JOB
        };
        Concurrency {
            jobs,
            in_flight: in_flight.unwrap_or(jobs * per_job).max(1),
        }
    }

    /// The async runtime for a run: `jobs` worker threads.
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.jobs)
            .enable_all()
            .build()
    }
}

/// Runs `scenarios` with at most `in_flight` in progress at a time (see [`Concurrency`]);
/// `progress` is called as each finishes. Results come back in the order of `scenarios`.
pub async fn run_all(
    scenarios: Vec<LoadedScenario>,
    connector: Arc<dyn Connector>,
    env: Arc<RunEnv>,
    in_flight: usize,
    keep_transcripts: bool,
    mut progress: impl FnMut(&ScenarioResult, usize, usize),
) -> Vec<ScenarioResult> {
    let total = scenarios.len();
    env.prepare(&scenarios).await;
    let semaphore = Arc::new(Semaphore::new(in_flight.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, loaded) in scenarios.into_iter().enumerate() {
        let semaphore = semaphore.clone();
        let connector = connector.clone();
        let env = env.clone();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore open");
            let result = run_scenario(&loaded, connector.as_ref(), &env, keep_transcripts).await;
            (index, result)
        });
    }
    let mut results: Vec<Option<ScenarioResult>> = vec![None; total];
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined.expect("scenario task panicked");
        done += 1;
        progress(&result, done, total);
        results[index] = Some(result);
    }
    results
        .into_iter()
        .map(|r| r.expect("every scenario ran"))
        .collect()
}

#[cfg(test)]
impl ScenarioResult {
    /// A result for the reports' unit tests: `outcome` judged against `expected` as a run
    /// judges it, in 1 ms, with no transcripts.
    pub(crate) fn judged(id: &str, expected: Expect, outcome: Outcome) -> ScenarioResult {
        let mismatch = compare(&expected, &outcome);
        ScenarioResult {
            id: id.into(),
            description: String::new(),
            tags: Vec::new(),
            expected,
            passed: mismatch.is_none(),
            mismatch,
            outcome: Some(outcome),
            connector_error: None,
            skipped: None,
            known_deviation: false,
            duration_ms: 1,
            transcripts: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{ErrorClass, Step};

    #[test]
    fn comparison_checks_what_expect_names() {
        let outcome = Outcome::failed(
            ErrorClass::Unauthorized,
            Step::ImapLogin,
            crate::outcome::Detail::WrongCredentials,
        );
        let expect = |class, step, detail: Option<&str>| Expect {
            class,
            step,
            detail: detail.map(str::to_owned),
        };
        assert_eq!(
            compare(
                &expect(ErrorClass::Unauthorized, Some(Step::ImapLogin), None),
                &outcome
            ),
            None
        );
        assert_eq!(
            compare(
                &expect(
                    ErrorClass::Unauthorized,
                    Some(Step::ImapLogin),
                    Some("wrong-credentials")
                ),
                &outcome
            ),
            None
        );
        assert_eq!(
            compare(
                &expect(ErrorClass::Unauthorized, Some(Step::SmtpLogin), None),
                &outcome
            )
            .unwrap(),
            "expected unauthorized at smtp-login, got unauthorized at imap-login (wrong-credentials)"
        );
        assert!(compare(&expect(ErrorClass::Ok, None, None), &outcome).is_some());
        assert!(
            compare(
                &expect(ErrorClass::Unauthorized, Some(Step::ImapLogin), Some("x")),
                &outcome
            )
            .is_some()
        );
    }

    #[test]
    fn passwords_differ_between_runs() {
        let a = random_password();
        assert_ne!(a, random_password());
        assert!(a.len() > 40);
    }
}
