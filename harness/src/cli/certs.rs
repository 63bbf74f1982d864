//! `mailharness certs`: writes the certificate matrix to a directory, for real servers, for
//! a connector's trust store, and for poking by hand with `openssl`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use mailharness_certs::{CertKind, CertMatrix, Manifest};

use super::UsageError;

/// Arguments of `mailharness certs`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Write the certificate matrix (a CA and one server certificate of every kind)",
    long_about = "Write the certificate matrix to a directory: a CA, an intermediate CA and \
        one server certificate of every kind (valid, expired, self-signed, wrong host, …) for \
        one host name.\n\n\
        Files written into DIR:\n  \
        ca.pem            the CA a connector under test trusts\n  \
        intermediate.pem  the intermediate CA behind valid-chain and incomplete-chain\n  \
        KIND.pem          the chain a server sends for KIND, leaf first\n  \
        KIND.key          the private key of KIND.pem (PKCS#8 PEM), mode 0600: only you \
        can read it\n  \
        manifest.json     host, files, trust and validity of every kind\n\n\
        Every run makes new keys and a new CA; existing files of the same names are \
        overwritten. Use the directory for a real server's TLS settings or check a \
        certificate by hand, e.g.\n  \
        openssl verify -CAfile ca.pem -untrusted expired.pem expired.pem",
    after_long_help = kinds_help()
)]
pub struct CertsArgs {
    /// Directory to write into; created if missing.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Host name or IP address the certificates are made for (the name a client connects
    /// to). `wrong-host` names wrong-host.invalid instead.
    #[arg(long, value_name = "NAME", default_value = "localhost", value_parser = parse_host)]
    host: String,
}

/// Writes the matrix and prints a table of what was written.
pub fn run(args: &CertsArgs) -> anyhow::Result<()> {
    if args.out.exists() && !args.out.is_dir() {
        return Err(UsageError(format!(
            "--out {} exists and is not a directory",
            args.out.display()
        ))
        .into());
    }
    let matrix = CertMatrix::generate(&args.host)
        .with_context(|| format!("cannot make certificates for {}", args.host))?;
    let manifest = matrix.write_to(&args.out)?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(table(&manifest, &args.out).as_bytes())
        .context("cannot write to stdout")?;
    Ok(())
}

/// The summary printed after writing: one row per kind.
fn table(manifest: &Manifest, out: &std::path::Path) -> String {
    let mut text = format!(
        "Certificates for {} written to {}\nTrust {} (keys KIND.key are mode 0600)\n\n",
        manifest.host,
        out.display(),
        manifest.ca_file
    );
    let rows: Vec<[&str; 4]> = manifest
        .certificates
        .iter()
        .map(|entry| {
            let trusted = if entry.trusted { "yes" } else { "no" };
            [
                entry.kind.name(),
                &entry.chain_file,
                trusted,
                &entry.info.not_after,
            ]
        })
        .collect();
    let header = ["KIND", "FILE", "TRUSTED", "NOT AFTER"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        );
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// The list of kinds at the end of `mailharness certs --help`.
fn kinds_help() -> String {
    let mut text = String::from(
        "Certificate kinds (for --host, signed by ca.pem unless said otherwise; only valid \
         and valid-chain pass a strict client):\n",
    );
    let width = CertKind::ALL
        .iter()
        .map(|k| k.name().len())
        .max()
        .unwrap_or(0);
    for kind in CertKind::ALL {
        let _ = writeln!(text, "  {:width$}  {}", kind.name(), kind.description());
    }
    text
}

/// Accepts an IP address or a DNS name (letters, digits and hyphens in dot-separated
/// labels), so a typo fails as a usage error instead of deep inside certificate generation.
fn parse_host(s: &str) -> Result<String, String> {
    if s.parse::<IpAddr>().is_ok() {
        return Ok(s.to_owned());
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if s.len() <= 253 && s.split('.').all(label_ok) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{s}` is neither an IP address nor a DNS name (letters, digits, hyphens, dots)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_accepts_names_and_addresses() {
        for ok in [
            "localhost",
            "mail.example.org",
            "127.0.0.1",
            "::1",
            "a-b.c1",
        ] {
            assert_eq!(parse_host(ok).as_deref(), Ok(ok));
        }
        for bad in ["", "a..b", "-a", "a-", "bad host", "ünïcode", "x.", "a_b"] {
            assert!(parse_host(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn kinds_help_lists_every_kind() {
        let help = kinds_help();
        for kind in CertKind::ALL {
            assert!(help.contains(kind.name()), "{kind} missing");
        }
    }
}
