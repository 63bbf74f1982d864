//! The server side of a connection: plain TCP, or TLS through rustls or OpenSSL. One enum so
//! the driver can hold any of them and upgrade plain to TLS in place at STARTTLS.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub(crate) enum ServerStream {
    Plain(TcpStream),
    Rustls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    OpenSsl(Box<tokio_openssl::SslStream<TcpStream>>),
}

impl ServerStream {
    /// The TCP socket underneath.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            ServerStream::Plain(tcp) => tcp,
            ServerStream::Rustls(tls) => tls.get_ref().0,
            ServerStream::OpenSsl(tls) => tls.get_ref(),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $stream:ident => $call:expr) => {
        match $self.get_mut() {
            ServerStream::Plain($stream) => {
                let $stream = Pin::new($stream);
                $call
            }
            ServerStream::Rustls($stream) => {
                let $stream = Pin::new($stream.as_mut());
                $call
            }
            ServerStream::OpenSsl($stream) => {
                let $stream = Pin::new($stream.as_mut());
                $call
            }
        }
    };
}

impl AsyncRead for ServerStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, stream => stream.poll_read(cx, buf))
    }
}

impl AsyncWrite for ServerStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, stream => stream.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, stream => stream.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, stream => stream.poll_shutdown(cx))
    }
}
