//! OpenSSL client handshakes that rustls cannot make (TLS 1.0/1.1, one version at a time),
//! used by `mailharness check` to probe versions and read certificates, and by the one
//! diagnosis the reference connector makes after a failed handshake: when a server
//! simply closes the connection on a TLS 1.2/1.3 ClientHello — as real Dovecot and
//! Courier-IMAP do when they speak only TLS 1.0/1.1, where Postfix sends a protocol-version
//! alert — a second connection offering only TLS 1.0/1.1 (OpenSSL at security level 0)
//! tells a legacy-only server from one that drops connections.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio_openssl::SslStream;

use crate::connector::ConnectionSecurity;
use crate::outcome::{Detail, Outcome};

/// Whether the server closed or reset the connection (rather than saying why): the case
/// this probe is for.
fn is_dropped(outcome: &Outcome) -> bool {
    outcome.detail == Detail::ConnectionClosed || outcome.detail == Detail::ConnectionReset
}

/// Which protocol's STARTTLS dance precedes the handshake.
#[derive(Clone, Copy)]
pub(crate) enum Protocol {
    Imap,
    Smtp,
}

/// Whether the server at `host:port` completes a handshake offering only TLS 1.0 and 1.1.
/// Bounded by `limit`; any failure is a no.
async fn speaks_only_legacy_tls(
    host: &str,
    port: u16,
    security: ConnectionSecurity,
    protocol: Protocol,
    source: Option<IpAddr>,
    limit: Duration,
) -> bool {
    tokio::time::timeout(limit, probe(host, port, security, protocol, source))
        .await
        .is_ok_and(|result| result.is_ok())
}

/// A failed connect (`outcome`) that the server dropped (see [`is_dropped`]) is tried again
/// offering only TLS 1.0 and 1.1: a legacy-only server makes it `legacy`, a TLS version
/// problem; anything else stays as it was.
pub(crate) async fn diagnose_dropped(
    outcome: Outcome,
    settings: &crate::connector::Settings,
    protocol: Protocol,
    legacy: Outcome,
) -> Outcome {
    if !is_dropped(&outcome) {
        return outcome;
    }
    let endpoint = match protocol {
        Protocol::Imap => &settings.imap,
        Protocol::Smtp => &settings.smtp,
    };
    let only_legacy = speaks_only_legacy_tls(
        &endpoint.host,
        endpoint.port,
        endpoint.security,
        protocol,
        settings.source_address,
        settings.step_timeout,
    )
    .await;
    if only_legacy { legacy } else { outcome }
}

async fn probe(
    host: &str,
    port: u16,
    security: ConnectionSecurity,
    protocol: Protocol,
    source: Option<IpAddr>,
) -> Result<(), String> {
    handshake(
        host,
        port,
        security,
        protocol,
        source,
        SslVersion::TLS1,
        SslVersion::TLS1_1,
    )
    .await
    .map(drop)
}

/// An OpenSSL handshake offering exactly `min..=max`, after the protocol's STARTTLS when
/// `security` says so. The certificate is not checked: callers want to know which version
/// the server speaks, or to look at the certificate themselves.
pub(crate) async fn handshake(
    host: &str,
    port: u16,
    security: ConnectionSecurity,
    protocol: Protocol,
    source: Option<IpAddr>,
    min: SslVersion,
    max: SslVersion,
) -> Result<SslStream<TcpStream>, String> {
    let addr = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| e.to_string())?
        .find(|addr| source.is_none_or(|s| s.is_ipv4() == addr.is_ipv4()))
        .ok_or("no address")?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| e.to_string())?;
    if let Some(source) = source {
        socket
            .bind(SocketAddr::new(source, 0))
            .map_err(|e| e.to_string())?;
    }
    let mut tcp = socket.connect(addr).await.map_err(|e| e.to_string())?;
    if security == ConnectionSecurity::Starttls {
        tcp = starttls(tcp, protocol).await?;
    }
    tls_over(tcp, host, min, max).await
}

/// The OpenSSL client handshake on a connected stream, offering `min..=max` at security
/// level 0 (so that TLS 1.0/1.1 and old ciphers can be offered at all), without checking
/// the certificate.
async fn tls_over(
    tcp: TcpStream,
    host: &str,
    min: SslVersion,
    max: SslVersion,
) -> Result<SslStream<TcpStream>, String> {
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
    builder.set_security_level(0);
    builder
        .set_cipher_list("DEFAULT:@SECLEVEL=0")
        .map_err(|e| e.to_string())?;
    builder
        .set_min_proto_version(Some(min))
        .map_err(|e| e.to_string())?;
    builder
        .set_max_proto_version(Some(max))
        .map_err(|e| e.to_string())?;
    builder.set_verify(SslVerifyMode::NONE);
    let ssl = builder
        .build()
        .configure()
        .and_then(|c| c.verify_hostname(false).into_ssl(host))
        .map_err(|e| e.to_string())?;
    let mut stream = SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
    Pin::new(&mut stream)
        .connect()
        .await
        .map_err(|e| describe_ssl_error(&e))?;
    Ok(stream)
}

/// A failed handshake in a few words: OpenSSL's reason (`tlsv1 alert protocol version`,
/// `unsupported protocol`), or what happened to the connection.
fn describe_ssl_error(error: &openssl::ssl::Error) -> String {
    if let Some(io) = error.io_error() {
        return crate::classify::net::io_detail(io).to_string();
    }
    if let Some(stack) = error.ssl_error() {
        let reasons: Vec<&str> = stack.errors().iter().filter_map(|e| e.reason()).collect();
        if !reasons.is_empty() {
            return reasons.join("; ");
        }
    }
    match error.code() {
        openssl::ssl::ErrorCode::SYSCALL | openssl::ssl::ErrorCode::ZERO_RETURN => {
            Detail::ConnectionClosed.to_string()
        }
        _ => error.to_string(),
    }
}

/// Reads lines until one for which `done` holds, and returns it.
async fn read_until(
    reader: &mut BufReader<TcpStream>,
    done: fn(&str) -> bool,
) -> Result<String, String> {
    let mut line = String::new();
    loop {
        line.clear();
        if reader
            .read_line(&mut line)
            .await
            .map_err(|e| e.to_string())?
            == 0
        {
            return Err("closed".to_owned());
        }
        if done(&line) {
            return Ok(line);
        }
    }
}

/// A protocol's way to STARTTLS: the commands to send, how to tell a reply's last line,
/// and how an accepting reply starts.
type StarttlsDialogue = (&'static [&'static [u8]], fn(&str) -> bool, &'static str);

/// Plaintext up to the point where TLS starts.
async fn starttls(tcp: TcpStream, protocol: Protocol) -> Result<TcpStream, String> {
    let mut reader = BufReader::new(tcp);
    let (commands, last_line, accepted): StarttlsDialogue = match protocol {
        Protocol::Imap => (
            &[b"mh2 STARTTLS\r\n"],
            |l| l.starts_with("* ") || l.starts_with("mh2 "),
            "mh2 OK",
        ),
        // An SMTP reply ends with the line whose code is followed by a space.
        Protocol::Smtp => (
            &[b"EHLO mailharness.localhost\r\n", b"STARTTLS\r\n"],
            |l| l.len() >= 4 && l.as_bytes()[3] == b' ',
            "220",
        ),
    };
    read_until(&mut reader, last_line).await?;
    let mut reply = String::new();
    for command in commands {
        reader
            .get_mut()
            .write_all(command)
            .await
            .map_err(|e| e.to_string())?;
        reply = read_until(&mut reader, last_line).await?;
    }
    if !reply.starts_with(accepted) {
        return Err(reply);
    }
    Ok(reader.into_inner())
}
