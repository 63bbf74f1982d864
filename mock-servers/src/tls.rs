//! The TLS acceptor of a listener, built once per server from its certificate kind and
//! version range: rustls for TLS 1.2/1.3, OpenSSL (see `legacy_tls`) for ranges reaching
//! TLS 1.0/1.1, which rustls does not speak.

use std::sync::Arc;

use mailharness_certs::ServerCert;
use rustls::ServerConfig;
use tokio::net::TcpStream;

use crate::Error;
use crate::config::{TlsVersion, TlsVersions};
use crate::legacy_tls::LegacyAcceptor;
use crate::stream::ServerStream;

pub(crate) enum TlsAcceptor {
    Rustls(tokio_rustls::TlsAcceptor),
    OpenSsl(LegacyAcceptor),
}

impl TlsAcceptor {
    pub(crate) fn new(cert: &ServerCert, versions: TlsVersions) -> Result<TlsAcceptor, Error> {
        if versions.needs_legacy_backend() {
            return LegacyAcceptor::new(cert, versions).map(TlsAcceptor::OpenSsl);
        }
        let mut protocol_versions = Vec::new();
        if versions.min <= TlsVersion::Tls12 {
            protocol_versions.push(&rustls::version::TLS12);
        }
        if versions.max >= TlsVersion::Tls13 {
            protocol_versions.push(&rustls::version::TLS13);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&protocol_versions)
            .and_then(|builder| {
                builder
                    .with_no_client_auth()
                    .with_single_cert(cert.chain_der().to_vec(), cert.key_der())
            })
            .map_err(|e| Error::Tls(format!("rustls server config: {e}")))?;
        Ok(TlsAcceptor::Rustls(tokio_rustls::TlsAcceptor::from(
            Arc::new(config),
        )))
    }

    /// Runs the server side of the handshake. On success, the stream and the negotiated
    /// version (`TLSv1.3`); on failure, why, for the transcript.
    pub(crate) async fn accept(&self, tcp: TcpStream) -> Result<(ServerStream, String), String> {
        match self {
            TlsAcceptor::Rustls(acceptor) => {
                let stream = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
                let version = match stream.get_ref().1.protocol_version() {
                    Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
                    Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
                    other => format!("{other:?}"),
                };
                Ok((ServerStream::Rustls(Box::new(stream)), version))
            }
            TlsAcceptor::OpenSsl(acceptor) => {
                let stream = acceptor.accept(tcp).await?;
                let version = stream.ssl().version_str().to_owned();
                Ok((ServerStream::OpenSsl(Box::new(stream)), version))
            }
        }
    }
}
