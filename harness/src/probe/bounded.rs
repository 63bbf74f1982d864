//! Server connections (the reference connector's and `check`'s), bounded in what the server may send: a
//! line of at most [`Limits::line_bytes`] (64 KiB), and at most [`Limits::reply_bytes`]
//! (1 MiB) between two writes of the client (one reply, however many lines it has). lettre and async-imap buffer a line
//! until its end, so a server that sends an endless line or an endless reply grew memory
//! without bound; async-imap also parses its whole buffer again at each read of 4 KiB, so
//! a 900 KB line cost seconds of CPU that no step timeout can interrupt. Bounded, the read
//! fails with [`ReplyTooLong`], which `classify::net::io_detail` names `reply-too-long`.
//!
//! The bounds count plaintext: the stream sits above TLS, for SMTP after STARTTLS too (see
//! `starttls`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The bounds in bytes, set with `--max-line-bytes` and `--max-reply-bytes` of `run` and
/// `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest line a server may send: 64 KiB by default (Dovecot's own limit on a
    /// command line; RFC 5321 allows an SMTP reply line 512 bytes).
    pub line_bytes: usize,
    /// The most a server may send between two writes of the client: 1 MiB by default.
    pub reply_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            line_bytes: 64 * 1024,
            reply_bytes: 1 << 20,
        }
    }
}

/// The most lines of an SMTP reply (real EHLO replies have a dozen or two, greetings a
/// few): lettre parses the whole reply again at each line, so a reply costs time quadratic
/// in its lines (100,000 lines: 8 s; 1,000 still 2 s in a debug build, all of it CPU the
/// step timeout cannot interrupt; 200, 0.1 s).
pub const MAX_SMTP_REPLY_LINES: usize = 200;

/// Which bound a server went past.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// [`Limits::reply_bytes`].
    ReplyBytes,
    /// [`Limits::line_bytes`].
    LineBytes,
    /// [`MAX_SMTP_REPLY_LINES`].
    ReplyLines,
}

/// What a read fails with once the server went past a bound.
#[derive(Debug)]
pub struct ReplyTooLong {
    pub bound: Bound,
    /// The bound's value.
    pub limit: usize,
}

impl std::fmt::Display for ReplyTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.bound {
            Bound::ReplyBytes => write!(
                f,
                "the server sent more than {} bytes without a command to answer",
                self.limit
            ),
            Bound::LineBytes => {
                write!(f, "the server sent a line longer than {} bytes", self.limit)
            }
            Bound::ReplyLines => write!(
                f,
                "the server sent more than {} reply lines without a command to answer",
                self.limit
            ),
        }
    }
}

impl std::error::Error for ReplyTooLong {}

/// A stream whose reads fail once the server went past a bound (see the module doc).
#[derive(Debug)]
pub struct Bounded<S> {
    inner: S,
    limits: Limits,
    unanswered: usize,
    max_lines: Option<usize>,
    lines: usize,
    /// Bytes since the last line feed.
    line: usize,
    /// Raised at the client's first write, for telling a refused greeting from a refused
    /// EHLO once lettre owns the stream.
    spoke: Option<Arc<AtomicBool>>,
}

impl<S> Bounded<S> {
    /// Bounded in bytes and line length.
    pub fn new(inner: S, limits: Limits) -> Bounded<S> {
        Bounded {
            inner,
            limits,
            unanswered: 0,
            max_lines: None,
            lines: 0,
            line: 0,
            spoke: None,
        }
    }

    /// Raises `flag` when the client first writes.
    pub fn flag_writes(self, flag: Arc<AtomicBool>) -> Bounded<S> {
        Bounded {
            spoke: Some(flag),
            ..self
        }
    }

    /// Bounded in bytes, line length and SMTP reply lines.
    pub fn smtp(inner: S, limits: Limits) -> Bounded<S> {
        Bounded {
            max_lines: Some(MAX_SMTP_REPLY_LINES),
            ..Bounded::new(inner, limits)
        }
    }

    /// The stream underneath.
    pub fn into_inner(self) -> S {
        self.inner
    }

    fn past(&self) -> Option<ReplyTooLong> {
        let (bound, limit) = if self.unanswered > self.limits.reply_bytes {
            (Bound::ReplyBytes, self.limits.reply_bytes)
        } else if self.line > self.limits.line_bytes {
            (Bound::LineBytes, self.limits.line_bytes)
        } else {
            match self.max_lines {
                Some(max) if self.lines > max => (Bound::ReplyLines, max),
                _ => return None,
            }
        };
        Some(ReplyTooLong { bound, limit })
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Bounded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(too_long) = this.past() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, too_long)));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let new = &buf.filled()[before..];
            this.unanswered += new.len();
            this.lines += new.iter().filter(|&&b| b == b'\n').count();
            this.line = match new.iter().rposition(|&b| b == b'\n') {
                Some(end) => new.len() - end - 1,
                None => this.line + new.len(),
            };
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
            if let Some(flag) = &this.spoke {
                flag.store(true, Ordering::Relaxed);
            }
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

impl PeerAddr for tokio_openssl::SslStream<TcpStream> {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().peer_addr()
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

    /// Reads until a read fails: what was read, and the bound the failure names.
    async fn read_to_bound<S: AsyncRead + AsyncWrite + Unpin>(
        client: &mut Bounded<S>,
        buf: &mut [u8],
        write_between: bool,
    ) -> (Vec<u8>, Bound) {
        let mut read = Vec::new();
        loop {
            match client.read(buf).await {
                Ok(n) => read.extend_from_slice(&buf[..n]),
                Err(error) => {
                    let bound = error.get_ref().unwrap().downcast_ref::<ReplyTooLong>();
                    return (read, bound.unwrap().bound);
                }
            }
            if write_between {
                client.write_all(b"a NOOP\r\n").await.unwrap();
            }
        }
    }

    #[tokio::test]
    async fn a_reply_past_the_bound_fails_and_a_write_starts_a_new_one() {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let mut client = Bounded::new(client, Limits::default());
        let sender = tokio::spawn(async move {
            let chunk = [b"x".repeat(1023), b"\n".to_vec()].concat().repeat(64);
            for _ in 0..(Limits::default().reply_bytes / chunk.len()) {
                server.write_all(&chunk).await.unwrap();
            }
            let mut command = [0u8; 4];
            server.read_exact(&mut command).await.unwrap();
            // After the client's command, a new reply may be as long again.
            for _ in 0..(Limits::default().reply_bytes / chunk.len() + 2) {
                if server.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        });
        let mut buf = vec![0u8; 64 * 1024];
        let mut read = 0;
        while read < Limits::default().reply_bytes {
            read += client.read(&mut buf).await.unwrap();
        }
        client.write_all(b"NOOP").await.unwrap();
        let (read, bound) = read_to_bound(&mut client, &mut buf, false).await;
        assert!(read.len() > Limits::default().reply_bytes, "{}", read.len());
        assert!(
            read.len() <= Limits::default().reply_bytes + buf.len(),
            "{}",
            read.len()
        );
        assert_eq!(bound, Bound::ReplyBytes);
        drop(client);
        let _ = sender.await;
    }

    #[tokio::test]
    async fn a_line_past_the_bound_fails_whatever_the_writes() {
        let (client, mut server) = tokio::io::duplex(16 * 1024);
        let mut client = Bounded::new(client, Limits::default());
        tokio::spawn(async move {
            server.write_all(b"* OK short\r\n* OK ").await.unwrap();
            let chunk = [b'a'; 4096];
            while server.write_all(&chunk).await.is_ok() {}
        });
        // A write of the client ends a reply, not a line.
        let (read, bound) = read_to_bound(&mut client, &mut [0u8; 4096], true).await;
        assert_eq!(bound, Bound::LineBytes);
        let read = read.len();
        assert!(
            read > Limits::default().line_bytes && read <= Limits::default().line_bytes + 2 * 4096,
            "{read}"
        );
    }

    #[tokio::test]
    async fn smtp_replies_are_bounded_in_lines_too() {
        let (client, mut server) = tokio::io::duplex(16 * 1024);
        let mut client = Bounded::smtp(client, Limits::default());
        tokio::spawn(async move {
            let lines = "250-SIZE 1\r\n".repeat(100);
            while server.write_all(lines.as_bytes()).await.is_ok() {}
        });
        let mut buf = [0u8; 4096];
        let (text, bound) = read_to_bound(&mut client, &mut buf, false).await;
        assert_eq!(bound, Bound::ReplyLines);
        // Past the bound by at most one read.
        let lines = text.iter().filter(|&&b| b == b'\n').count();
        assert!(lines > MAX_SMTP_REPLY_LINES, "{lines}");
        assert!(
            lines <= MAX_SMTP_REPLY_LINES + buf.len() / 12 + 1,
            "{lines}"
        );
    }
}
