//! `mailharness images`: build the real servers' container images.

use std::io::IsTerminal;
use std::time::Instant;

use mailharness::containers::{docker, images};

use super::UsageError;

/// Arguments of `mailharness images`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Build the container images of the real servers (Dovecot, Courier-IMAP, Postfix)"
)]
pub struct ImagesArgs {
    #[command(subcommand)]
    action: ImagesAction,
}

#[derive(Debug, clap::Subcommand)]
enum ImagesAction {
    /// Build the images that are missing; unchanged ones are reused
    #[command(
        long_about = "Build the images that are missing. Each image is tagged with a hash \
        of its build context (containers/<server>/), so a changed Dockerfile or template \
        builds anew and an unchanged one is reused. Where debian:bookworm-slim is absent, it \
        is made with debootstrap from the mirror apt uses when debootstrap is installed and \
        this runs as root (containers/make-base-image.sh), and pulled otherwise."
    )]
    Build {
        /// Servers to build [default: all of dovecot, courier, postfix]
        #[arg(value_name = "SERVER")]
        servers: Vec<String>,
        /// Show every line of docker's output
        #[arg(long, short)]
        verbose: bool,
    },
    /// Show each image's tag and whether it is present
    List,
}

pub fn run(args: &ImagesArgs) -> anyhow::Result<u8> {
    docker::daemon().map_err(|e| anyhow::anyhow!("no Docker daemon: {e}"))?;
    match &args.action {
        ImagesAction::List => {
            for server in images::SERVERS {
                let tag = images::tag(server).map_err(anyhow::Error::msg)?;
                let state = if images::present(&tag) {
                    "present"
                } else {
                    "missing"
                };
                outln!("{tag}  {state}")?;
            }
            Ok(0)
        }
        ImagesAction::Build { servers, verbose } => {
            let wanted: Vec<&str> = if servers.is_empty() {
                images::SERVERS.to_vec()
            } else {
                let mut wanted = Vec::new();
                for server in servers {
                    let known = images::SERVERS.iter().find(|s| **s == server.as_str());
                    let Some(known) = known else {
                        return Err(UsageError(format!(
                            "unknown server `{server}` (expected dovecot, courier or postfix)"
                        ))
                        .into());
                    };
                    wanted.push(*known);
                }
                wanted
            };
            let started = Instant::now();
            let terminal = std::io::stderr().is_terminal();
            let verbose = *verbose;
            let mut progress = |line: &str| {
                // Docker's own lines start with "[server]" or "#"; without --verbose only
                // the harness's lines and the step markers are shown.
                let ours = !line.starts_with('[') && !line.starts_with('#');
                let step = line.contains("] Step ") || line.contains(" RUN ");
                if verbose || ours {
                    errln!("{line}");
                } else if step && terminal {
                    err!("\r\x1b[2K{}", line.chars().take(100).collect::<String>());
                } else if step {
                    errln!("{line}");
                }
            };
            let built = images::build(&wanted, &mut progress).map_err(anyhow::Error::msg)?;
            if terminal {
                errln!();
            }
            for image in &built {
                let what = if image.built { "built" } else { "reused" };
                outln!("{}  {what} in {:.1} s", image.tag, image.seconds)?;
            }
            outln!(
                "{} images in {:.1} s",
                built.len(),
                started.elapsed().as_secs_f64()
            )?;
            Ok(0)
        }
    }
}
