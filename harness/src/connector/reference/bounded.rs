//! The reference connector's server connections, bounded in what the server may send: at
//! most [`MAX_REPLY_BYTES`] between two writes of the client (one reply, however many lines
//! it has). lettre and async-imap buffer a line until its end, so a server that sends an
//! endless line or an endless reply grew memory without bound and kept the parser busy past
//! the step timeout; bounded, the read fails with [`ReplyTooLong`], which
//! `classify::net::io_detail` names `reply-too-long`.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The most a server may send between two writes of the client: 1 MiB.
pub const MAX_REPLY_BYTES: usize = 1 << 20;

/// The most lines of an SMTP reply (real EHLO replies have a dozen or two): lettre parses
/// the whole reply again at each line, so an endless multi-line reply cost time
/// quadratic in its lines (100,000 lines: 8 s) before its own 100,000-byte cap.
pub const MAX_SMTP_REPLY_LINES: usize = 1_000;

/// What a read fails with once the server sent more than [`MAX_REPLY_BYTES`] (or, with
/// `lines`, [`MAX_SMTP_REPLY_LINES`] lines) unasked.
#[derive(Debug)]
pub struct ReplyTooLong {
    lines: bool,
}

impl std::fmt::Display for ReplyTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.lines {
            write!(
                f,
                "the server sent more than {MAX_SMTP_REPLY_LINES} reply lines without a command to answer"
            )
        } else {
            write!(
                f,
                "the server sent more than {MAX_REPLY_BYTES} bytes without a command to answer"
            )
        }
    }
}

impl std::error::Error for ReplyTooLong {}

/// A stream whose reads fail once the server sent more than [`MAX_REPLY_BYTES`] (or, for
/// SMTP, [`MAX_SMTP_REPLY_LINES`] lines) since the client last wrote. The line count is
/// meant for plaintext; under TLS (lettre's STARTTLS runs over this stream) it counts line
/// feeds in the ciphertext, about one in 256 bytes, which only a reply of hundreds of KB
/// reaches.
#[derive(Debug)]
pub struct Bounded<S> {
    inner: S,
    unanswered: usize,
    max_lines: Option<usize>,
    lines: usize,
}

impl<S> Bounded<S> {
    /// Bounded in bytes.
    pub fn new(inner: S) -> Bounded<S> {
        Bounded {
            inner,
            unanswered: 0,
            max_lines: None,
            lines: 0,
        }
    }

    /// Bounded in bytes and in SMTP reply lines.
    pub fn smtp(inner: S) -> Bounded<S> {
        Bounded {
            max_lines: Some(MAX_SMTP_REPLY_LINES),
            ..Bounded::new(inner)
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Bounded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let lines = this.max_lines.is_some_and(|max| this.lines > max);
        if this.unanswered > MAX_REPLY_BYTES || lines {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                ReplyTooLong { lines },
            )));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let new = &buf.filled()[before..];
            this.unanswered += new.len();
            this.lines += new.iter().filter(|&&b| b == b'\n').count();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Bounded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(written)) = &poll
            && *written > 0
        {
            this.unanswered = 0;
            this.lines = 0;
        }
        poll
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The streams lettre is given: a TCP connection, or one with TLS already made.
pub trait PeerAddr {
    fn peer_addr(&self) -> io::Result<SocketAddr>;
}

impl PeerAddr for TcpStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::peer_addr(self)
    }
}

impl PeerAddr for tokio_rustls::client::TlsStream<TcpStream> {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().0.peer_addr()
    }
}

impl<S> lettre::transport::smtp::client::AsyncTokioStream for Bounded<S>
where
    S: AsyncRead + AsyncWrite + PeerAddr + Send + Sync + Unpin + std::fmt::Debug,
{
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_reply_past_the_bound_fails_and_a_write_starts_a_new_one() {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let mut client = Bounded::new(client);
        let sender = tokio::spawn(async move {
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..(MAX_REPLY_BYTES / chunk.len()) {
                server.write_all(&chunk).await.unwrap();
            }
            let mut command = [0u8; 4];
            server.read_exact(&mut command).await.unwrap();
            // After the client's command, a new reply may be as long again.
            for _ in 0..(MAX_REPLY_BYTES / chunk.len() + 2) {
                if server.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        });
        let mut buf = vec![0u8; 64 * 1024];
        let mut read = 0;
        while read < MAX_REPLY_BYTES {
            read += client.read(&mut buf).await.unwrap();
        }
        client.write_all(b"NOOP").await.unwrap();
        let mut read = 0;
        let error = loop {
            match client.read(&mut buf).await {
                Ok(n) => read += n,
                Err(error) => break error,
            }
        };
        assert!(read > MAX_REPLY_BYTES, "{read}");
        assert!(read <= MAX_REPLY_BYTES + buf.len(), "{read}");
        assert!(error.get_ref().unwrap().is::<ReplyTooLong>());
        drop(client);
        let _ = sender.await;
    }

    #[tokio::test]
    async fn smtp_replies_are_bounded_in_lines_too() {
        let (client, mut server) = tokio::io::duplex(16 * 1024);
        let mut client = Bounded::smtp(client);
        tokio::spawn(async move {
            let lines = "250-SIZE 1\r\n".repeat(100);
            while server.write_all(lines.as_bytes()).await.is_ok() {}
        });
        let mut text = Vec::new();
        let mut buf = [0u8; 4096];
        let error = loop {
            match client.read(&mut buf).await {
                Ok(n) => text.extend_from_slice(&buf[..n]),
                Err(error) => break error,
            }
        };
        assert!(error.get_ref().unwrap().is::<ReplyTooLong>());
        // Past the bound by at most one read.
        let lines = text.iter().filter(|&&b| b == b'\n').count();
        assert!(lines > MAX_SMTP_REPLY_LINES, "{lines}");
        assert!(
            lines <= MAX_SMTP_REPLY_LINES + buf.len() / 12 + 1,
            "{lines}"
        );
    }
}
