//! `mailharness check`: the requirement checks against a live IMAP and SMTP server (admin
//! mode), with the servers given on the command line or taken from a domain preset.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use mailharness::check::{self, CheckConfig};
use mailharness::connector::{ConnectionSecurity, Secret};
use mailharness::connector::{Endpoint, Settings};
use mailharness::presets::{self, Preset};
use mailharness_mock_servers::TlsVersions;

use super::UsageError;

/// `--imap-security` / `--smtp-security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecurityArg {
    /// TLS from the first byte (993, 465)
    ImplicitTls,
    /// Plaintext upgraded with STARTTLS (143, 587)
    Starttls,
}

impl From<SecurityArg> for ConnectionSecurity {
    fn from(arg: SecurityArg) -> Self {
        match arg {
            SecurityArg::ImplicitTls => ConnectionSecurity::ImplicitTls,
            SecurityArg::Starttls => ConnectionSecurity::Starttls,
        }
    }
}

/// Report formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// One block per requirement, then the summary
    Human,
    /// One JSON document
    Json,
}

/// Arguments of `mailharness check`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Check a live IMAP and SMTP server against the connector's requirements",
    long_about = "Check a live IMAP and SMTP server against what an inbox connector needs, \
        before anyone connects an inbox: ports reachable, encryption offered, the TLS \
        versions each port accepts (1.0, 1.1, 1.2, 1.3 probed one by one), the \
        certificate (trust, expiry, name, chain), Courier-IMAP, IMAP login, five \
        simultaneous sessions, LIST, SMTP AUTH and — only with --send-test-to — a test \
        message. Each requirement is reported with pass/warn/fail, the server's own \
        words, the error class a connector would report and what to change.\n\n\
        The password is read from the environment variable named by --password-env, or \
        asked for on the terminal; it is never taken as an argument and never printed.",
    after_help = "Exit codes: 0 every requirement passes (warnings allowed), 1 a requirement \
        fails, 2 usage or input error.\n\n\
        Examples:\n  \
        MH_PASSWORD=… mailharness check --imap imap.example.com:993 --smtp smtp.example.com:587 \\\n      \
        --email alice@example.com --password-env MH_PASSWORD\n  \
        mailharness check --presets presets.toml --email alice@example.com --html check.html"
)]
pub struct CheckArgs {
    /// The IMAP server, HOST:PORT [default: from --presets]
    #[arg(long, value_name = "HOST:PORT")]
    imap: Option<String>,

    /// The SMTP server, HOST:PORT [default: from --presets]
    #[arg(long, value_name = "HOST:PORT")]
    smtp: Option<String>,

    /// How the IMAP port is secured [default: by port: 993 implicit TLS, 143 STARTTLS]
    #[arg(long, value_enum, value_name = "SECURITY")]
    imap_security: Option<SecurityArg>,

    /// How the SMTP port is secured [default: by port: 465 implicit TLS, 587/25 STARTTLS]
    #[arg(long, value_enum, value_name = "SECURITY")]
    smtp_security: Option<SecurityArg>,

    /// The inbox's email address: the login name unless --username is given
    #[arg(long, value_name = "ADDR")]
    email: String,

    /// A login name that differs from the email address
    #[arg(long, value_name = "NAME")]
    username: Option<String>,

    /// The environment variable holding the password [default: ask on the terminal]
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,

    /// A PEM file of CA certificates to trust besides the system's roots
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,

    /// Trust only --ca-file, not the system's roots
    #[arg(long, requires = "ca_file")]
    no_system_roots: bool,

    /// Users will tick "allow insecure certificate": certificate problems become warnings
    #[arg(long)]
    allow_insecure_certificate: bool,

    /// Send a test message to ADDR (no mail is ever sent without this)
    #[arg(long, value_name = "ADDR")]
    send_test_to: Option<String>,

    /// The TLS versions the connector speaks, e.g. 1.2-1.3 [default: the vendor's 1.0-1.2]
    #[arg(long, value_name = "RANGE")]
    connector_tls: Option<TlsVersions>,

    /// Domain presets (presets.toml): the servers come from the preset of --email's domain
    #[arg(long, value_name = "FILE")]
    presets: Option<PathBuf>,

    /// The longest any one connection, probe or step may take, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    timeout: u64,

    #[command(flatten)]
    limits: super::LimitArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,

    /// Also write the report as an HTML page to FILE, self-contained (it fetches nothing),
    /// to send to whoever runs the servers: the rows, what a connector would report and what
    /// to change
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// `HOST:PORT` (or `[IPv6]:PORT`).
fn host_port(text: &str, flag: &str) -> Result<(String, u16), UsageError> {
    let bad = || {
        UsageError(format!(
            "--{flag} `{text}`: expected HOST:PORT, e.g. imap.example.com:993"
        ))
    };
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

fn target(
    host: String,
    port: u16,
    security: Option<SecurityArg>,
    flag: &str,
) -> Result<Endpoint, UsageError> {
    let security = security
        .map(ConnectionSecurity::from)
        .or_else(|| Endpoint::default_security(port))
        .ok_or_else(|| {
            UsageError(format!(
                "port {port} has no usual security: give --{flag}-security implicit-tls or starttls"
            ))
        })?;
    Ok(Endpoint {
        host,
        port,
        security,
    })
}

/// The password: from the named variable, or asked for on the terminal.
fn password(args: &CheckArgs) -> Result<Secret, UsageError> {
    if let Some(var) = &args.password_env {
        return match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(Secret::new(value)),
            _ => Err(UsageError(format!(
                "--password-env {var}: the variable is not set or empty"
            ))),
        };
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "no password: give --password-env VAR, or run on a terminal to be asked".into(),
        ));
    }
    rpassword::prompt_password(format!(
        "Password for {}: ",
        args.username.as_deref().unwrap_or(&args.email)
    ))
    .map(Secret::new)
    .map_err(|e| UsageError(format!("cannot read the password: {e}")))
}

/// The IMAP and SMTP servers (and the preset's insecure-certificate choice), from the
/// arguments or the preset. `Ok(None)` when the domain is preset for Exchange.
fn servers(args: &CheckArgs) -> anyhow::Result<Option<(Endpoint, Endpoint, bool)>> {
    let mut imap = args
        .imap
        .as_deref()
        .map(|t| host_port(t, "imap"))
        .transpose()?;
    let mut smtp = args
        .smtp
        .as_deref()
        .map(|t| host_port(t, "smtp"))
        .transpose()?;
    let mut insecure = false;
    if let Some(file) = &args.presets {
        let presets = presets::load(file).map_err(|errors| {
            for error in &errors {
                errln!("{:?}", miette::Report::new(error.clone()));
            }
            UsageError(format!("{} problem(s) in {}", errors.len(), file.display()))
        })?;
        match presets.for_email(&args.email) {
            Some(Preset::Exchange(preset)) => {
                match args.format {
                    CheckFormat::Json => outln!(
                        "{}",
                        serde_json::json!({
                            "exchange": { "domain": preset.domain, "url": preset.url },
                            "checked": false,
                        })
                    )?,
                    CheckFormat::Human => outln!(
                        "{} is preset for Exchange ({}): an Exchange connection is made with \
                         the Exchange connector, not over IMAP/SMTP, so there is nothing to \
                         check here.",
                        preset.domain,
                        preset.url
                    )?,
                }
                return Ok(None);
            }
            Some(Preset::Imap(preset)) => {
                imap = imap.or(Some((preset.imap_host.clone(), preset.imap_port)));
                smtp = smtp.or(Some((preset.smtp_host.clone(), preset.smtp_port)));
                insecure = preset.allow_insecure_certificate;
            }
            None if imap.is_none() || smtp.is_none() => {
                return Err(UsageError(format!(
                    "{} has no preset for the domain of {}: give --imap and --smtp",
                    file.display(),
                    args.email
                ))
                .into());
            }
            None => {}
        }
    }
    let ((imap_host, imap_port), (smtp_host, smtp_port)) = match (imap, smtp) {
        (Some(imap), Some(smtp)) => (imap, smtp),
        _ => {
            return Err(UsageError(
                "give both --imap HOST:PORT and --smtp HOST:PORT, or --presets FILE".into(),
            )
            .into());
        }
    };
    Ok(Some((
        target(imap_host, imap_port, args.imap_security, "imap")?,
        target(smtp_host, smtp_port, args.smtp_security, "smtp")?,
        insecure,
    )))
}

pub fn run(args: &CheckArgs) -> anyhow::Result<u8> {
    if !args.email.contains('@') {
        return Err(UsageError(format!("--email `{}`: not an email address", args.email)).into());
    }
    if args.timeout == 0 {
        return Err(UsageError("--timeout must be at least 1 second".into()).into());
    }
    let Some((imap, smtp, preset_insecure)) = servers(args)? else {
        return Ok(super::EXIT_OK);
    };
    let config = CheckConfig {
        account: Settings {
            imap,
            smtp,
            email: args.email.clone(),
            username: args.username.clone(),
            password: password(args)?,
            oauth: None,
            ca_file: args.ca_file.clone(),
            trust_system_roots: !args.no_system_roots,
            allow_insecure_certificate: args.allow_insecure_certificate || preset_insecure,
            bcc: args.email.clone(),
            step_timeout: Duration::from_secs(args.timeout),
            source_address: None,
            limits: args.limits.limits(),
        },
        send_test_to: args.send_test_to.clone(),
        connector_tls: args.connector_tls.unwrap_or_else(check::vendor_tls),
    };
    if std::io::stderr().is_terminal() {
        errln!(
            "checking {} and {} …",
            config.account.imap,
            config.account.smtp
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime
        .block_on(check::run(&config))
        .map_err(|error| match error {
            check::Error::CaFile { .. } => UsageError(error.to_string()),
        })?;
    if let Some(path) = &args.html {
        std::fs::write(path, mailharness::html::check_page(&report))
            .with_context(|| format!("cannot write the HTML report to {}", path.display()))?;
    }
    match args.format {
        CheckFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serialises")
        )?,
        CheckFormat::Human => out!(
            "{}",
            report.human(super::run::colour_wanted(std::io::stdout().is_terminal()))
        )?,
    }
    Ok(if report.failed() {
        super::EXIT_FAILURE
    } else {
        super::EXIT_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_takes_names_addresses_and_bracketed_ipv6() {
        assert_eq!(
            host_port("imap.example.com:993", "imap").unwrap(),
            ("imap.example.com".into(), 993)
        );
        assert_eq!(host_port("[::1]:143", "imap").unwrap(), ("::1".into(), 143));
        for bad in ["imap.example.com", ":993", "host:0", "host:99999", "host:x"] {
            assert!(host_port(bad, "imap").is_err(), "{bad}");
        }
    }

    #[test]
    fn security_defaults_by_port() {
        let t = |port| target("h".into(), port, None, "imap").map(|t| t.security);
        assert_eq!(t(993).unwrap(), ConnectionSecurity::ImplicitTls);
        assert_eq!(t(465).unwrap(), ConnectionSecurity::ImplicitTls);
        assert_eq!(t(143).unwrap(), ConnectionSecurity::Starttls);
        assert_eq!(t(587).unwrap(), ConnectionSecurity::Starttls);
        assert!(t(10143).is_err());
        let explicit = target("h".into(), 10143, Some(SecurityArg::Starttls), "imap").unwrap();
        assert_eq!(explicit.security, ConnectionSecurity::Starttls);
    }
}
