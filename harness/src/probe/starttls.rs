//! SMTP STARTTLS with the TLS made by the connector, not by lettre.
//!
//! lettre upgrades the stream it was given in place, under its own buffered reader: what it
//! read past the `220` to STARTTLS stays in that buffer and is taken, after the handshake,
//! as the server's reply to the new EHLO. A server (or a man in the middle) that sends
//! `250 …` in the clear right after the `220` has its reply believed as if it came over TLS
//! (the CVE-2011-0411 class, client side). And the bounds of `bounded` would count
//! ciphertext. So lettre runs the plaintext part over a [`Handover`] stream, the connector
//! takes the socket back after the `220` (lettre's buffer, with anything injected, is
//! dropped with it), makes the TLS handshake with the policy of implicit TLS, and gives
//! lettre the TLS stream, bounded, to run EHLO on again.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::bounded::PeerAddr;

/// A plaintext TCP stream whose socket can be taken back while lettre holds the stream.
#[derive(Clone, Debug)]
pub(crate) struct Handover(Arc<Mutex<Option<TcpStream>>>);

impl Handover {
    pub(crate) fn new(tcp: TcpStream) -> Handover {
        Handover(Arc::new(Mutex::new(Some(tcp))))
    }

    /// The socket; from now on the stream lettre holds fails every read and write.
    pub(crate) fn take_socket(&self) -> Option<TcpStream> {
        self.0.lock().expect("handover lock").take()
    }

    fn with<T>(
        &self,
        f: impl FnOnce(Pin<&mut TcpStream>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match self.0.lock().expect("handover lock").as_mut() {
            Some(tcp) => f(Pin::new(tcp)),
            None => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the connection was handed over for TLS",
            ))),
        }
    }
}

impl AsyncRead for Handover {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.with(|tcp| tcp.poll_read(cx, buf))
    }
}

impl AsyncWrite for Handover {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.with(|tcp| tcp.poll_write(cx, data))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.with(|tcp| tcp.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.with(|tcp| tcp.poll_shutdown(cx))
    }
}

impl PeerAddr for Handover {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self.0.lock().expect("handover lock").as_ref() {
            Some(tcp) => tcp.peer_addr(),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }
}

/// What lettre reads first on the TLS stream: it begins every connection by reading a
/// greeting, and after STARTTLS there is none (RFC 3207 §4.2: the client sends EHLO).
/// This stands for the server's own greeting, which lettre read before STARTTLS.
const GREETED: &[u8] = b"220 greeted before STARTTLS\r\n";

/// A TLS stream that reads [`GREETED`] first.
#[derive(Debug)]
pub(crate) struct AfterStarttls<S> {
    inner: S,
    greeted: usize,
}

impl<S> AfterStarttls<S> {
    pub(crate) fn new(inner: S) -> AfterStarttls<S> {
        AfterStarttls { inner, greeted: 0 }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for AfterStarttls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.greeted < GREETED.len() {
            let rest = &GREETED[this.greeted..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.greeted += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for AfterStarttls<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<S: PeerAddr> PeerAddr for AfterStarttls<S> {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn after_starttls_reads_the_greeting_then_the_stream() {
        let (client, mut server) = tokio::io::duplex(1024);
        let mut stream = AfterStarttls::new(client);
        server.write_all(b"250 real\r\n").await.unwrap();
        drop(server);
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "220 greeted before STARTTLS\r\n250 real\r\n");
    }

    #[tokio::test]
    async fn a_handed_over_stream_fails_and_the_socket_is_whole() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            socket.write_all(b"after\r\n").await.unwrap();
        });
        let mut handover = Handover::new(TcpStream::connect(addr).await.unwrap());
        let held = handover.clone();
        server.await.unwrap();
        let mut tcp = held.take_socket().unwrap();
        let error = handover.read(&mut [0u8; 16]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotConnected);
        let mut text = String::new();
        tcp.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "after\r\n");
    }
}
