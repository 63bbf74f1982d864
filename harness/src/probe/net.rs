//! The first steps of every connection: TCP from the configured source address, and the
//! class of a TLS handshake that failed.

use std::net::{IpAddr, SocketAddr};

use tokio::net::{TcpSocket, TcpStream};

use crate::classify;
use crate::classify::tls::TlsFailure;
use crate::outcome::{Detail, ErrorClass, Outcome, Step};

/// Resolves and connects, from the source address when one is set. The class is IMAP's;
/// SMTP keeps the detail only.
pub(crate) async fn tcp_connect(
    host: &str,
    port: u16,
    source: Option<IpAddr>,
) -> Result<TcpStream, (ErrorClass, Detail)> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| (ErrorClass::ImapSettingsIncorrect, Detail::Dns))?
        .filter(|addr| source.is_none_or(|source| source.is_ipv4() == addr.is_ipv4()))
        .collect();
    let mut last = (ErrorClass::ImapSettingsIncorrect, Detail::Dns);
    for addr in addrs {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        };
        let attempt = async {
            let socket = socket?;
            if let Some(source) = source {
                socket.bind(SocketAddr::new(source, 0))?;
            }
            socket.connect(addr).await
        };
        match attempt.await {
            Ok(stream) => {
                // async-imap writes a command in pieces; without this, Nagle's algorithm
                // holds each piece back until the server's delayed ACK.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(error) => {
                last = (
                    ErrorClass::ImapSettingsIncorrect,
                    classify::net::io_detail(&error),
                )
            }
        }
    }
    Err(last)
}

/// Class and detail of a failed handshake. `validation` is the protocol's class for a
/// server that cannot be validated (TLS version, no TLS), `settings` for a lost connection.
pub(crate) fn tls_failure(
    error: &std::io::Error,
    validation: ErrorClass,
    settings: ErrorClass,
    step: Step,
) -> Outcome {
    match classify::net::find_rustls_error(error).map(classify::tls::classify) {
        Some(TlsFailure::Certificate(detail)) => {
            Outcome::failed(ErrorClass::UnauthorizedUntrustedCertificate, step, detail)
        }
        Some(failure) => Outcome::failed(validation, step, failure.detail()),
        None => Outcome::failed(settings, step, classify::net::io_detail(error)),
    }
}
