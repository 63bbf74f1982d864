use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mailharness_certs::CertMatrix;
use mailharness_mock_servers::{MockConfig, MockServer};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;

/// How long any single read may take before the test fails.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub const USER: &str = "alice@example.com";
pub const PASSWORD: &str = "correct horse battery staple";

/// One certificate matrix for the whole test binary: generating it per test would work but
/// says nothing more.
pub fn certs() -> Arc<CertMatrix> {
    static CERTS: OnceLock<Arc<CertMatrix>> = OnceLock::new();
    CERTS
        .get_or_init(|| Arc::new(CertMatrix::generate("localhost").expect("certificates")))
        .clone()
}

pub async fn start(config: impl Into<MockConfig>) -> MockServer {
    MockServer::start(config, certs(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("mock server starts")
}

/// A rustls client trusting only the matrix CA, for the given versions.
pub fn client_config(versions: &[&'static SupportedProtocolVersion]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(certs().ca_der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

pub fn modern() -> Arc<ClientConfig> {
    client_config(&[&rustls::version::TLS12, &rustls::version::TLS13])
}

pub async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("connect")
}

/// Connects from a chosen source address in 127.0.0.0/8.
pub async fn connect_from(source: &str, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(format!("{source}:0").parse().unwrap())
        .expect("bind source address");
    socket.connect(addr).await.expect("connect")
}

pub async fn tls_handshake(
    tcp: TcpStream,
    config: Arc<ClientConfig>,
) -> io::Result<TlsStream<TcpStream>> {
    let connector = tokio_rustls::TlsConnector::from(config);
    let name = ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(READ_TIMEOUT, connector.connect(name, tcp))
        .await
        .expect("TLS handshake timed out")
}

/// The rustls error inside an I/O error from tokio-rustls, if there is one.
pub fn rustls_error(error: &io::Error) -> Option<&rustls::Error> {
    error.get_ref()?.downcast_ref::<rustls::Error>()
}

/// A line-oriented client over any stream.
pub struct Client<S> {
    pub stream: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub fn new(stream: S) -> Self {
        Client {
            stream: BufReader::new(stream),
        }
    }

    /// Reads one line (without CRLF); panics on timeout, EOF or error.
    pub async fn line(&mut self) -> String {
        match self.try_line().await {
            Ok(Some(line)) => line,
            other => panic!("expected a line, got {other:?}"),
        }
    }

    /// Reads one line; `Ok(None)` at EOF.
    pub async fn try_line(&mut self) -> io::Result<Option<String>> {
        let mut line = String::new();
        let n = tokio::time::timeout(READ_TIMEOUT, self.stream.read_line(&mut line))
            .await
            .expect("read timed out")?;
        Ok((n > 0).then(|| line.trim_end_matches(['\r', '\n']).to_owned()))
    }

    pub async fn send(&mut self, text: &str) {
        let stream = self.stream.get_mut();
        stream.write_all(text.as_bytes()).await.expect("write");
        stream.flush().await.expect("flush");
    }

    /// Sends an IMAP command and collects the reply lines up to the tagged one.
    pub async fn command(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(&format!("{tag} {command}\r\n")).await;
        self.until_tagged(tag).await
    }

    pub async fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Sends an SMTP command and collects one (possibly multi-line) reply.
    pub async fn smtp(&mut self, command: &str) -> Vec<String> {
        self.send(&format!("{command}\r\n")).await;
        self.smtp_reply().await
    }

    pub async fn smtp_reply(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines;
            }
        }
    }

    pub fn into_inner(self) -> S {
        self.stream.into_inner()
    }
}
