//! The TLS acceptor of a listener, from its certificate and version range: rustls for TLS
//! 1.2/1.3, OpenSSL (see `legacy_tls`) for ranges reaching TLS 1.0/1.1, which rustls does
//! not speak.
//!
//! A run's scenarios use the same few certificates over and over, so the rustls part that
//! costs (the parsed certificate and key, the checked configuration) is made once per
//! certificate and range and shared; each server still gets a session cache of its own, so
//! that, as between real servers, no server resumes a session another one made.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use mailharness_certs::ServerCert;
use rustls::ServerConfig;
use rustls::server::ServerSessionMemoryCache;
use tokio::net::TcpStream;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Error;
use crate::client_hello::{self, Hello};
use crate::config::{TlsRefusal, TlsVersion, TlsVersions};
use crate::connection::discard_forever;
use crate::legacy_tls::LegacyAcceptor;
use crate::stream::ServerStream;

pub(crate) struct TlsAcceptor {
    backend: Backend,
    versions: TlsVersions,
    refusal: TlsRefusal,
}

enum Backend {
    Rustls(tokio_rustls::TlsAcceptor),
    OpenSsl(LegacyAcceptor),
}

/// How long the server waits for a whole first record when it reads the ClientHello itself
/// (`TlsRefusal::Close`).
const HELLO_WAIT: Duration = Duration::from_secs(10);

/// rustls's default session cache size for a server.
const SESSION_CACHE_SIZE: usize = 256;

/// The rustls configurations made so far, by certificate chain (DER) and version range.
type Made = HashMap<(Vec<Vec<u8>>, TlsVersions), Arc<ServerConfig>>;
static MADE: LazyLock<Mutex<Made>> = LazyLock::new(Mutex::default);

impl TlsAcceptor {
    pub(crate) fn new(
        cert: &ServerCert,
        versions: TlsVersions,
        refusal: TlsRefusal,
    ) -> Result<TlsAcceptor, Error> {
        let backend = if versions.needs_legacy_backend() {
            Backend::OpenSsl(LegacyAcceptor::new(cert, versions)?)
        } else {
            let mut config = ServerConfig::clone(&*shared_config(cert, versions)?);
            config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE_SIZE);
            Backend::Rustls(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
        };
        Ok(TlsAcceptor {
            backend,
            versions,
            refusal,
        })
    }

    /// With `TlsRefusal::Close` or `LegacyHello`: reads the ClientHello before the TLS
    /// library does, and when it offers no version this listener speaks, takes it off the
    /// socket and refuses as the real server does: `Close` closes our side at once,
    /// `LegacyHello` sends a ServerHello at our highest version and closes once the client
    /// answered (its alert) or went. Either way an orderly close, never a reset. Returns why;
    /// none when the handshake should go on. The wait for the client goes on in a task of
    /// its own, so that the refusal is reported at once.
    async fn refused(&self, tcp: &mut Option<TcpStream>) -> Option<String> {
        let stream = tcp.as_mut()?;
        if self.refusal == TlsRefusal::Alert {
            return None;
        }
        let mut buf = vec![0u8; 16 * 1024 + 5];
        let read = tokio::time::timeout(HELLO_WAIT, async {
            loop {
                let n = stream.peek(&mut buf).await.ok()?;
                match client_hello::offered_versions(&buf[..n]) {
                    Hello::NeedMore if n > 0 && n < buf.len() => {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Hello::Offers {
                        versions,
                        suites,
                        record_len,
                    } => return Some((versions, suites, record_len)),
                    Hello::NeedMore | Hello::Other => return None,
                }
            }
        });
        let (offered, suites, record_len) = read.await.ok()??;
        let versions = self.versions;
        if offered
            .iter()
            .any(|v| versions.min <= *v && *v <= versions.max)
        {
            return None;
        }
        let mut hello = vec![0u8; record_len];
        let _ = stream.read_exact(&mut hello).await;
        // LegacyHello with a ServerHello: the client answers it (an alert), then we close.
        // A close_notify, or Close: we close at once.
        let mut answered = false;
        if self.refusal == TlsRefusal::LegacyHello {
            // The server's random and session id, from the client's random: a refusal
            // needs no secret.
            let mut seed = [0u8; 32];
            seed.copy_from_slice(hello.get(11..43).unwrap_or(&[0; 32]));
            let answer = client_hello::legacy_answer(versions.max, &suites, &seed);
            answered = answer.first() == Some(&22);
            let _ = stream.write_all(&answer).await;
        }
        if !answered {
            let _ = stream.shutdown().await;
        }
        if let Some(mut stream) = tcp.take() {
            tokio::spawn(async move {
                if answered {
                    // The client's answer to our ServerHello (its alert), then our close.
                    let mut sink = [0u8; 4096];
                    let _ = tokio::time::timeout(HELLO_WAIT, stream.read(&mut sink)).await;
                    let _ = stream.shutdown().await;
                }
                // What the client still sends is read and dropped until it goes, so that it
                // meets an orderly close and not a reset.
                let _ = tokio::time::timeout(HELLO_WAIT, discard_forever(&mut stream)).await;
            });
        }
        let offered: Vec<String> = offered
            .iter()
            .map(|v| TlsVersions::only(*v).to_string())
            .collect();
        let how = if self.refusal == TlsRefusal::LegacyHello {
            format!(
                "answered as GnuTLS does ({})",
                if answered {
                    format!("a TLS {} ServerHello", TlsVersions::only(versions.max))
                } else {
                    "a close_notify".to_owned()
                }
            )
        } else {
            "closed".to_owned()
        };
        Some(format!(
            "{how} on a ClientHello offering TLS {} only (this server speaks TLS {versions})",
            offered.join(", ")
        ))
    }

    /// Runs the server side of the handshake. On success, the stream and the negotiated
    /// version (`TLSv1.3`); on failure, why, for the transcript.
    pub(crate) async fn accept(&self, tcp: TcpStream) -> Result<(ServerStream, String), String> {
        let mut tcp = Some(tcp);
        if let Some(why) = self.refused(&mut tcp).await {
            return Err(why);
        }
        let tcp = tcp.expect("kept unless refused");
        match &self.backend {
            Backend::Rustls(acceptor) => {
                let stream = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
                let version = match stream.get_ref().1.protocol_version() {
                    Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
                    Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
                    other => format!("{other:?}"),
                };
                Ok((ServerStream::Rustls(Box::new(stream)), version))
            }
            Backend::OpenSsl(acceptor) => {
                let stream = acceptor.accept(tcp).await?;
                let version = stream.ssl().version_str().to_owned();
                Ok((ServerStream::OpenSsl(Box::new(stream)), version))
            }
        }
    }
}

/// The rustls configuration for `cert` and `versions`, made on first use.
pub(crate) fn shared_config(
    cert: &ServerCert,
    versions: TlsVersions,
) -> Result<Arc<ServerConfig>, Error> {
    let key = (
        cert.chain_der().iter().map(|der| der.to_vec()).collect(),
        versions,
    );
    if let Some(made) = MADE.lock().expect("configurations lock").get(&key) {
        return Ok(made.clone());
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
        .map(Arc::new)
        .map_err(|e| Error::Tls(format!("rustls server config: {e}")))?;
    MADE.lock()
        .expect("configurations lock")
        .insert(key, config.clone());
    Ok(config)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mailharness_certs::{CertKind, CertMatrix};

    use super::TlsAcceptor;
    use crate::config::{TlsRefusal, TlsVersions};

    fn config(acceptor: &TlsAcceptor) -> Arc<rustls::ServerConfig> {
        match &acceptor.backend {
            super::Backend::Rustls(acceptor) => acceptor.config().clone(),
            super::Backend::OpenSsl(_) => panic!("expected rustls"),
        }
    }

    #[test]
    fn servers_share_the_parsed_certificate_but_not_their_sessions() {
        let certs = CertMatrix::generate("localhost").unwrap();
        let versions = TlsVersions::default();
        let a = config(
            &TlsAcceptor::new(certs.get(CertKind::Valid), versions, TlsRefusal::Alert).unwrap(),
        );
        let b = config(
            &TlsAcceptor::new(certs.get(CertKind::Valid), versions, TlsRefusal::Alert).unwrap(),
        );
        let other = config(
            &TlsAcceptor::new(certs.get(CertKind::Expired), versions, TlsRefusal::Alert).unwrap(),
        );
        assert!(Arc::ptr_eq(&a.cert_resolver, &b.cert_resolver));
        assert!(!Arc::ptr_eq(&a.cert_resolver, &other.cert_resolver));
        assert!(!Arc::ptr_eq(&a.session_storage, &b.session_storage));
    }
}
