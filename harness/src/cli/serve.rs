//! `mailharness serve`: start one scenario's servers and keep them up, so anyone can point
//! a mail client, `openssl s_client` or a connector at them by hand, until SIGINT (Ctrl-C),
//! SIGTERM or SIGHUP; then the containers, the password file and the temporary directory go.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use mailharness::connector::OAuthSettings;
use mailharness::containers::server::ContainerPool;
use mailharness::plan::{Plan, Server};
use mailharness::runner::{AuthorizationLeg, HOST, start_authorization};
use mailharness::scenario::load::{load_file, with_root};
use mailharness_certs::CertMatrix;
use mailharness_mock_servers::oauth::AuthorizationServer;
use mailharness_mock_servers::{MockServer, Security};

use super::UsageError;
use super::run::StopSignals;

/// Arguments of `mailharness serve`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Start a scenario's servers and keep them up until Ctrl-C",
    long_about = "Start the mock IMAP and SMTP servers a scenario describes and keep them up \
        until Ctrl-C, printing where they listen, the CA to trust and the login name. The \
        password is written to a file (mode 0600) rather than printed; for an OAuth account \
        (`[oauth]`) the mock authorization server runs too, and the settings a connector \
        would be given (token endpoint, client id and secret, refresh token) go to \
        oauth.json (mode 0600) as well. On Ctrl-C (or \
        SIGTERM, SIGHUP), the transcript of every connection is printed (passwords \
        redacted), the containers are removed and the password file is deleted (the whole \
        directory when it is a temporary one).",
    after_help = "Exit codes: 0 stopped by a signal once the servers were up, 130, 143 or 129 \
        stopped by SIGINT, SIGTERM or SIGHUP while they were starting, 1 a server that did \
        not start, 2 a usage error."
)]
pub struct ServeArgs {
    /// The scenario file, or builtin:ID for one of the catalogue inside the binary
    /// (e.g. builtin:tls/imap-implicit-expired)
    #[arg(value_name = "SCENARIO")]
    scenario: PathBuf,

    /// Directory for ca.pem and the password file (or oauth.json) [default: a new temporary
    /// directory]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

fn security_name(security: Security) -> &'static str {
    match security {
        Security::ImplicitTls => "implicit TLS",
        Security::Starttls => "STARTTLS",
        Security::StarttlsStripped => "STARTTLS stripped (plaintext)",
        Security::Plaintext => "plaintext",
    }
}

pub fn run(args: &ServeArgs) -> anyhow::Result<u8> {
    let (path, root) = match mailharness::builtin::scenario_path(&args.scenario) {
        Some(found) => found.map_err(UsageError)?,
        None => with_root(&args.scenario),
    };
    if path.is_dir() {
        return Err(UsageError(format!(
            "{} is a directory: serve takes one scenario",
            args.scenario.display()
        ))
        .into());
    }
    let loaded = load_file(&path, &root).map_err(|error| {
        errln!("{:?}", miette::Report::new(error.clone()));
        UsageError(error.to_string())
    })?;
    let scenario = &loaded.scenario;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Caught before anything is written that a signal would leave behind.
    let mut signals = StopSignals::catch(&runtime).context("cannot catch signals")?;
    let temporary;
    let dir = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir.clone()
        }
        None => {
            temporary = tempfile::Builder::new()
                .prefix("mailharness-serve-")
                .tempdir()?;
            temporary.path().to_owned()
        }
    };
    let certs = Arc::new(CertMatrix::generate(HOST)?);
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, certs.ca_pem())
        .with_context(|| format!("cannot write {}", ca_file.display()))?;
    let password = mailharness::runner::random_password();
    let password_file = dir.join("password");
    write_private(&password_file, &password)?;

    let oauth_file = dir.join("oauth.json");

    let pool = ContainerPool::default();
    let served = runtime.block_on(async {
        let servers = tokio::select! {
            biased;
            // Stopped before the servers are up: the exit code says by what.
            stop = signals.next() => return Ok(stop.exit_code()),
            servers = start_servers(&loaded, &pool, &certs, &password) => servers?,
        };
        let _ = outln!("  login     {}", scenario.server_login());
        // The password logs in too where the servers take bearer tokens.
        let _ = outln!("  password  in {}", password_file.display());
        if let Some(oauth) = &servers.oauth {
            write_private(&oauth_file, &oauth.settings.request_json())?;
            let _ = outln!(
                "  token     {} (client {}{})",
                oauth.settings.token_url,
                oauth.settings.client_id,
                if oauth.endpoint.is_up() {
                    ""
                } else {
                    ": nothing listens"
                }
            );
            let _ = outln!(
                "  oauth     a connector's settings (client secret, refresh token) in {}",
                oauth_file.display()
            );
        }
        let _ = outln!("  trust     {}", ca_file.display());
        let _ = outln!("Press Ctrl-C to stop.");
        let _ = std::io::stdout().flush();
        signals.next().await;
        // Written without println!: after SIGHUP stdout may be gone, and the cleanup below
        // must still run.
        let mut stdout = std::io::stdout().lock();
        for (name, server) in &servers.mocks {
            for transcript in server.transcripts() {
                let _ = writeln!(stdout, "--- {name} {transcript}");
            }
        }
        anyhow::Ok(0)
    });
    // Whatever happened above: no container, no password or OAuth file stays behind.
    runtime.block_on(pool.shutdown());
    let _ = std::fs::remove_file(&password_file);
    let _ = std::fs::remove_file(&oauth_file);
    served
}

/// What `serve` keeps up: the mock servers, and an OAuth account's authorization server.
struct Served {
    mocks: Vec<(&'static str, MockServer)>,
    oauth: Option<ServedOAuth>,
}

/// An OAuth account's side of `serve`: what a connector would be given, the token endpoint,
/// and the introspection endpoint a real server taking bearer tokens asks.
struct ServedOAuth {
    settings: OAuthSettings,
    endpoint: AuthorizationLeg,
    _introspection: Option<AuthorizationServer>,
}

/// Starts the scenario's two servers (mock ones here, real ones in `pool`) and an OAuth
/// account's authorization server, and prints where they listen.
async fn start_servers(
    loaded: &mailharness::scenario::load::LoadedScenario,
    pool: &ContainerPool,
    certs: &Arc<CertMatrix>,
    password: &str,
) -> anyhow::Result<Served> {
    let scenario = &loaded.scenario;
    let bind = "127.0.0.1:0".parse().expect("valid address");
    let mut servers = Vec::new();
    let _ = outln!("Serving {} ({})", loaded.id, scenario.description);
    let plan = Plan::of(scenario, password);
    // The token endpoint first, and for a real server taking bearer tokens the
    // introspection endpoint its configuration names, as a run has one (`runner::RunEnv`).
    let (oauth, introspection) = match &plan.oauth {
        None => (None, None),
        Some(oauth) => {
            let (settings, endpoint) = start_authorization(oauth, certs)
                .await
                .map_err(anyhow::Error::msg)
                .context("cannot start the authorization server")?;
            let introspection = if plan.real_servers().any(|real| real.bearer_scope.is_some()) {
                let server =
                    AuthorizationServer::introspection(certs.clone(), bind, oauth.tokens.clone())
                        .await
                        .context("cannot start the introspection endpoint")?;
                Some(server)
            } else {
                None
            };
            let url = introspection
                .as_ref()
                .map(|server| format!("https://{HOST}:{}/introspect", server.addr().port()));
            let served = ServedOAuth {
                settings,
                endpoint,
                _introspection: introspection,
            };
            (Some(served), url)
        }
    };
    // One mail store: a message sent through the SMTP mock to the user shows up in INBOX.
    let store = mailharness_mock_servers::Mailstore::new();
    for (name, leg, security) in [
        ("IMAP", plan.imap.server, plan.imap.security),
        ("SMTP", plan.smtp.server, plan.smtp.security),
    ] {
        match leg {
            Server::Mock(config) => {
                let server =
                    MockServer::start_with_store(*config, certs.clone(), bind, store.clone())
                        .await
                        .with_context(|| format!("cannot start the {name} server"))?;
                let _ = outln!(
                    "  {name}  {HOST}:{}  ({})",
                    server.addr().port(),
                    security_name(security)
                );
                servers.push((name, server));
            }
            Server::Real(real) => {
                let running = pool
                    .get(real.key(), || real.spec(certs, introspection.as_deref()))
                    .await
                    .map_err(anyhow::Error::msg)?;
                let port = running.port(real.listener_port()).unwrap_or_default();
                let _ = outln!(
                    "  {name}  {HOST}:{port}  ({}, real {})",
                    security_name(security),
                    real.kind.name()
                );
            }
            Server::Closed => {
                let _ = outln!("  {name}  nothing listens (the scenario's server is closed)");
            }
        }
    }
    Ok(Served {
        mocks: servers,
        oauth,
    })
}

fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}
