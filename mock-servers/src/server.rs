//! The handle of a running mock server: it binds, accepts, spawns one task per connection,
//! keeps what the server saw, and stops when dropped.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mailharness_certs::CertMatrix;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::Error;
use crate::config::Security;
use crate::connection;
use crate::imap::{ImapConfig, ImapService, Mailstore};
use crate::session::Protocol;
use crate::smtp::{SmtpConfig, SmtpService};
use crate::tls::TlsAcceptor;
use crate::transcript::{Transcript, TranscriptHandle};

pub use crate::smtp::ReceivedMessage;

/// The configuration of either server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MockConfig {
    Imap(Box<ImapConfig>),
    Smtp(Box<SmtpConfig>),
}

impl From<ImapConfig> for MockConfig {
    fn from(config: ImapConfig) -> Self {
        MockConfig::Imap(Box::new(config))
    }
}

impl From<SmtpConfig> for MockConfig {
    fn from(config: SmtpConfig) -> Self {
        MockConfig::Smtp(Box::new(config))
    }
}

type Transcripts = Arc<Mutex<Vec<TranscriptHandle>>>;
type Messages = Arc<Mutex<Vec<ReceivedMessage>>>;

/// A running mock server. Dropping it stops the server and every connection it holds.
pub struct MockServer {
    addr: SocketAddr,
    transcripts: Transcripts,
    messages: Messages,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// A listener on `bind` (port 0: an ephemeral one) and the address it got.
pub(crate) async fn listen(bind: SocketAddr) -> Result<(TcpListener, SocketAddr), Error> {
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|source| Error::Bind { addr: bind, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr: bind, source })?;
    Ok((listener, addr))
}

impl MockServer {
    /// Binds `bind` (use port 0 for an ephemeral port; any 127.0.0.0/8 address works on
    /// loopback) and serves `config` with certificates from `certs`. The TLS setup is built
    /// here, once, and shared by every connection.
    pub async fn start(
        config: impl Into<MockConfig>,
        certs: Arc<CertMatrix>,
        bind: SocketAddr,
    ) -> Result<MockServer, Error> {
        MockServer::start_with_store(config, certs, bind, Mailstore::new()).await
    }

    /// As [`MockServer::start`], with the accounts' mail in `store`: give the IMAP and the
    /// SMTP server of one scenario the same store, and what the SMTP server accepts for a
    /// user appears in that user's INBOX.
    pub async fn start_with_store(
        config: impl Into<MockConfig>,
        certs: Arc<CertMatrix>,
        bind: SocketAddr,
        store: Mailstore,
    ) -> Result<MockServer, Error> {
        let (listener, addr) = listen(bind).await?;
        let transcripts = Transcripts::default();
        let messages = Messages::default();
        let task = match config.into() {
            MockConfig::Imap(config) => spawn(
                ImapService::new(*config, store)?,
                &certs,
                listener,
                transcripts.clone(),
            )?,
            MockConfig::Smtp(config) => spawn(
                SmtpService::new(*config, messages.clone(), store)?,
                &certs,
                listener,
                transcripts.clone(),
            )?,
        };
        Ok(MockServer {
            addr,
            transcripts,
            messages,
            task,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Transcripts of every connection so far, finished or not, in order of arrival.
    pub fn transcripts(&self) -> Vec<Transcript> {
        let handles = self.transcripts.lock().expect("transcripts lock");
        handles.iter().map(TranscriptHandle::snapshot).collect()
    }

    /// Messages an SMTP server accepted (always empty for IMAP).
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.messages.lock().expect("messages lock").clone()
    }

    /// Stops the server and closes all its connections. Dropping the handle does the same.
    pub fn stop(self) {}
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

fn spawn<P: Protocol>(
    protocol: P,
    certs: &CertMatrix,
    listener: TcpListener,
    transcripts: Transcripts,
) -> Result<JoinHandle<()>, Error> {
    let settings = protocol.listener();
    let acceptor = match settings.security {
        Security::ImplicitTls | Security::Starttls => Some(TlsAcceptor::new(
            certs.get(settings.certificate),
            settings.tls_versions,
            settings.tls_refusal,
        )?),
        Security::StarttlsStripped | Security::Plaintext => None,
    };
    let protocol = Arc::new(protocol);
    let acceptor = Arc::new(acceptor);
    Ok(tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: say so, keep serving.
                    tracing::warn!(protocol = P::NAME, "accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            // Every reply is written whole, but TLS 1.3 sends its session tickets and the
            // greeting as separate records: without TCP_NODELAY the second write waits for
            // the client's delayed ACK (~40 ms on Linux) before it leaves.
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!(protocol = P::NAME, "TCP_NODELAY: {e}");
            }
            while connections.try_join_next().is_some() {}
            let transcript = TranscriptHandle::new(peer);
            transcripts
                .lock()
                .expect("transcripts lock")
                .push(transcript.clone());
            let protocol = protocol.clone();
            let acceptor = acceptor.clone();
            connections.spawn(async move {
                tracing::debug!(protocol = P::NAME, %peer, "connection");
                connection::serve(&*protocol, (*acceptor).as_ref(), tcp, peer, transcript).await;
            });
        }
    }))
}
