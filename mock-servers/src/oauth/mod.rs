//! The mock OAuth 2.0 authorization server: the token endpoint a connector gets its bearer
//! tokens from (RFC 6749 §3.2: the `refresh_token` and `client_credentials` grants), and an
//! RFC 7662 introspection endpoint a real server (Dovecot's `oauth2` passdb) checks tokens
//! with. It serves HTTPS on loopback with a certificate of the matrix, so every certificate
//! kind applies to it as to the mail servers.
//!
//! - `tokens`: what it issued, shared with the mail mocks of the same scenario, which check
//!   XOAUTH2 and OAUTHBEARER bearers against it.
//! - `endpoint`: the answer to one request, from its method, path, headers and body (no
//!   socket: tested with bytes).
//! - [`AuthorizationServer`]: the listener: TLS by rustls, HTTP/1.1 by hyper.

mod endpoint;
mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use mailharness_certs::{CertKind, CertMatrix};
use tokio::task::{JoinHandle, JoinSet};

pub use endpoint::{Answer, EndpointFault};
pub use tokens::{Rejection, Tokens};

use crate::Error;
use crate::config::TlsVersions;

/// What a mail mock needs to accept bearer tokens (XOAUTH2, OAUTHBEARER): the tokens of
/// the scenario's authorization server, and the scope this mail server requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BearerCheck {
    pub tokens: Tokens,
    pub scope: String,
}

/// What an authorization server knows and how it behaves.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationConfig {
    pub certificate: CertKind,
    /// The registered client (`client_id` and `client_secret`, in the form or by HTTP
    /// Basic).
    pub client_id: String,
    pub client_secret: String,
    /// The refresh token the user granted the client.
    pub refresh_token: String,
    /// The user revoked that grant: the refresh token gets `invalid_grant`.
    pub refresh_token_revoked: bool,
    /// Whose mailbox the tokens open.
    pub user: String,
    /// The scopes the client may ask for; a token gets those asked for (all of them when
    /// the request names none).
    pub client_scopes: Vec<String>,
    /// How long an issued access token lives.
    pub lifetime: Duration,
    /// A fault of the endpoint itself.
    pub fault: Option<EndpointFault>,
}

impl std::fmt::Debug for AuthorizationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client secret and the refresh token never reach a log.
        f.debug_struct("AuthorizationConfig")
            .field("certificate", &self.certificate)
            .field("client_id", &self.client_id)
            .field("user", &self.user)
            .field("client_scopes", &self.client_scopes)
            .field("refresh_token_revoked", &self.refresh_token_revoked)
            .field("lifetime", &self.lifetime)
            .field("fault", &self.fault)
            .finish_non_exhaustive()
    }
}

/// A request body larger than this is refused (a token request is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;

/// A running authorization server; dropping it stops it and every connection it holds.
pub struct AuthorizationServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for AuthorizationServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl AuthorizationServer {
    /// Binds `bind` (port 0 for an ephemeral one) and serves `config`, issuing into
    /// `tokens` (give the mail mocks the same store).
    pub async fn start(
        config: AuthorizationConfig,
        certs: Arc<CertMatrix>,
        bind: SocketAddr,
        tokens: Tokens,
    ) -> Result<AuthorizationServer, Error> {
        let certificate = config.certificate;
        Self::serve_on(Some(config), certificate, certs, bind, tokens).await
    }

    /// An endpoint that only introspects the tokens of `tokens` (`POST /introspect`), with
    /// the valid certificate: what a real server that checks bearer tokens asks (Dovecot's
    /// `oauth2` passdb). It lives as long as that server, across the scenarios whose
    /// authorization servers issue into `tokens`.
    pub async fn introspection(
        certs: Arc<CertMatrix>,
        bind: SocketAddr,
        tokens: Tokens,
    ) -> Result<AuthorizationServer, Error> {
        Self::serve_on(None, CertKind::Valid, certs, bind, tokens).await
    }

    async fn serve_on(
        config: Option<AuthorizationConfig>,
        certificate: CertKind,
        certs: Arc<CertMatrix>,
        bind: SocketAddr,
        tokens: Tokens,
    ) -> Result<AuthorizationServer, Error> {
        let (listener, addr) = crate::server::listen(bind).await?;
        let tls = crate::tls::shared_config(certs.get(certificate), TlsVersions::default())?;
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let config = config.map(Arc::new);
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((tcp, _peer)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let config = config.clone();
                let tokens = tokens.clone();
                connections.spawn(async move {
                    // A client that refuses our certificate ends here, as it should.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |request| {
                        let config = config.clone();
                        let tokens = tokens.clone();
                        async move {
                            Ok::<_, hyper::Error>(serve(request, config.as_deref(), &tokens).await)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
                // Finished connections are collected as new ones come.
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(AuthorizationServer { addr, task })
    }

    /// The address it listens on; its endpoints are `POST /token` and `POST /introspect`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for AuthorizationServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One HTTP request: its body read (bounded), then answered by `endpoint`.
async fn serve(
    request: Request<Incoming>,
    config: Option<&AuthorizationConfig>,
    tokens: &Tokens,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let authorization = parts
        .headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let answer = endpoint::answer(
        config,
        tokens,
        parts.method.as_str(),
        parts.uri.path(),
        authorization,
        &body,
    );
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    Response::builder()
        .status(answer.status)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::CACHE_CONTROL, "no-store")
        .body(Full::new(Bytes::from(answer.body)))
        .expect("a valid response")
}
