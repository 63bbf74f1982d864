//! Drives one protocol session over one accepted socket.
//!
//! The driver owns everything that touches the network and is the same for IMAP and SMTP:
//! the allowlist drop at connect, implicit TLS and the STARTTLS upgrade, the network faults
//! (delay, stall, reset at a milestone, close mid-handshake, trickle), floods, and the
//! transcript events for all of it. What to say is the session's business.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{Milestone, Security};
use crate::deflate::Deflate;
use crate::session::{Action, Protocol, Session};
use crate::stream::ServerStream;
use crate::tls::TlsAcceptor;
use crate::transcript::TranscriptHandle;

/// How long the close-mid-handshake fault waits for the client's first handshake bytes.
const HANDSHAKE_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a server that closed reads on until the client closes too (see `Action::Close`).
const CLOSE_DRAIN: Duration = Duration::from_secs(10);

/// Serves one connection until either side closes it.
pub(crate) async fn serve<P: Protocol>(
    protocol: &P,
    acceptor: Option<&TlsAcceptor>,
    tcp: TcpStream,
    peer: SocketAddr,
    transcript: TranscriptHandle,
) {
    let listener = protocol.listener();
    let faults = listener.faults;
    if protocol.refuses_at_connect(peer.ip()) {
        // Close our side first and drain what the client sends until it goes, so that it
        // always sees an orderly close (EOF), never a reset caused by unread bytes.
        transcript.event("dropped at connect: source address not on the allowlist");
        let mut tcp = tcp;
        let _ = tcp.shutdown().await;
        let _ = tokio::time::timeout(HANDSHAKE_READ_TIMEOUT, discard_forever(&mut tcp)).await;
        return;
    }
    if faults.stall {
        transcript.event("stalling: the server will never answer");
        let mut tcp = tcp;
        discard_forever(&mut tcp).await;
        return transcript.event("closed by client");
    }
    let mut stream = ServerStream::Plain(tcp);
    if listener.security == Security::ImplicitTls {
        match handshake(stream, acceptor, faults.close_mid_handshake, &transcript).await {
            Some(tls) => stream = tls,
            None => return,
        }
    }
    let mut session = protocol.open(
        peer,
        listener.security == Security::ImplicitTls,
        transcript.clone(),
    );
    if faults.delay_before_greeting_ms > 0 {
        transcript.event(format!(
            "delaying the greeting by {} ms",
            faults.delay_before_greeting_ms
        ));
        tokio::time::sleep(Duration::from_millis(faults.delay_before_greeting_ms)).await;
    }
    session.start();
    // One receiver for the whole connection, so that no change between two reads is missed.
    let mut changes = session.watch();
    let mut buf = vec![0u8; 16 * 1024];
    // Replies are collected and written in one go before anything else happens, as a real
    // server's buffered output does: line-by-line writes would meet Nagle's algorithm and
    // delayed ACKs and cost ~40 ms per reply.
    let mut pending = Vec::new();
    // COMPRESS=DEFLATE, once the session turned it on.
    let mut deflate: Option<Deflate> = None;
    let trickle = faults.trickle_bytes_per_second;
    if let Some(rate) = trickle {
        transcript.event(format!("trickling everything at {rate} bytes a second"));
    }
    loop {
        while let Some(action) = session.next_action() {
            if let Action::Send(bytes) = action {
                transcript.server(&bytes);
                match &mut deflate {
                    Some(deflate) => pending.extend(deflate.compress(&bytes)),
                    None => pending.extend_from_slice(&bytes),
                }
                continue;
            }
            if let Err(e) = write_all(&mut stream, &mut pending, trickle).await {
                return transcript.event(format!("write failed: {e}"));
            }
            match action {
                Action::Send(_) => unreachable!("sends are collected above"),
                Action::Flood { bytes, times } => {
                    transcript.event(match times {
                        Some(n) => format!("flooding: {n} times {}", preview(&bytes)),
                        None => format!("flooding forever: {}", preview(&bytes)),
                    });
                    if let Err(e) = flood(&mut stream, &bytes, times, trickle).await {
                        return transcript.event(format!("flood ended: {e}"));
                    }
                }
                Action::Close => {
                    let _ = stream.shutdown().await;
                    transcript.event("closed by server");
                    // Read what the client still sends until it closes, so that it always
                    // reads what came before the close and then EOF; closing with its bytes
                    // unread would reset the connection, and a reset makes the client's
                    // kernel discard what it had not read yet (a BYE, a 421): which of the
                    // two the client saw would depend on timing.
                    let _ = tokio::time::timeout(CLOSE_DRAIN, drain(&mut stream)).await;
                    return;
                }
                Action::LoginRefused => {
                    if faults.delay_failed_login_ms > 0 {
                        transcript.event(format!(
                            "waiting {} ms before refusing the login",
                            faults.delay_failed_login_ms
                        ));
                        tokio::time::sleep(Duration::from_millis(faults.delay_failed_login_ms))
                            .await;
                    }
                }
                Action::Reached(milestone) => {
                    if faults.reset == Some(milestone) {
                        return reset(stream, milestone, &transcript);
                    }
                }
                Action::Compress => {
                    transcript.event("COMPRESS=DEFLATE: both directions compressed from here");
                    let mut layer = Deflate::new();
                    // What the client sent behind the command is compressed already.
                    let unread = session.take_unread();
                    if !unread.is_empty() {
                        match layer.decompress(&unread) {
                            Ok(plain) => session.feed(&plain),
                            Err(e) => {
                                return transcript.event(format!("bad compressed input: {e}"));
                            }
                        }
                    }
                    deflate = Some(layer);
                }
                Action::StartTls => {
                    let unread = session.take_unread();
                    if !unread.is_empty() {
                        // Bytes pipelined behind STARTTLS arrived in the clear: a real server
                        // must drop them (the CVE-2011-0411 class of command injection).
                        transcript.event(format!(
                            "discarded {} bytes sent in the clear after STARTTLS: {:?}",
                            unread.len(),
                            first_words(&unread)
                        ));
                    }
                    let ServerStream::Plain(_) = &stream else {
                        return transcript.event("STARTTLS on a connection already on TLS");
                    };
                    match handshake(stream, acceptor, faults.close_mid_handshake, &transcript).await
                    {
                        Some(tls) => stream = tls,
                        None => return,
                    }
                    session.tls_started();
                    if faults.reset == Some(Milestone::AfterStarttls) {
                        return reset(stream, Milestone::AfterStarttls, &transcript);
                    }
                }
            }
        }
        if let Err(e) = write_all(&mut stream, &mut pending, trickle).await {
            return transcript.event(format!("write failed: {e}"));
        }
        let read = tokio::select! {
            read = stream.read(&mut buf) => read,
            changed = changed(&mut changes) => {
                match changed {
                    Ok(()) => session.refresh(),
                    // The store is gone (the server stops): nothing more to watch.
                    Err(_) => changes = None,
                }
                continue;
            }
        };
        match read {
            Ok(0) => return transcript.event("closed by client"),
            Ok(n) => match &mut deflate {
                Some(layer) => match layer.decompress(&buf[..n]) {
                    Ok(plain) => session.feed(&plain),
                    Err(e) => return transcript.event(format!("bad compressed input: {e}")),
                },
                None => session.feed(&buf[..n]),
            },
            Err(e) => return transcript.event(format!("read failed: {e}")),
        }
    }
}

/// Waits for the next change of a watched store; never returns without one.
async fn changed(
    changes: &mut Option<tokio::sync::watch::Receiver<u64>>,
) -> Result<(), tokio::sync::watch::error::RecvError> {
    match changes {
        Some(receiver) => receiver.changed().await,
        None => std::future::pending().await,
    }
}

/// The first two words of each line: enough to see which commands were injected, never
/// a LOGIN password or an AUTH payload (always the third word or later).
fn first_words(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|line| {
            line.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Writes and empties `pending`, if there is anything in it.
async fn write_all(
    stream: &mut ServerStream,
    pending: &mut Vec<u8>,
    trickle: Option<u32>,
) -> std::io::Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    write_paced(stream, pending, trickle).await?;
    pending.clear();
    Ok(())
}

/// Writes `bytes` at once, or at `trickle` bytes a second: a tenth of a second's worth at a
/// time (one byte at a time below ten a second).
async fn write_paced(
    stream: &mut ServerStream,
    bytes: &[u8],
    trickle: Option<u32>,
) -> std::io::Result<()> {
    let Some(rate) = trickle.map(|r| r.max(1) as usize) else {
        stream.write_all(bytes).await?;
        return stream.flush().await;
    };
    let chunk = (rate / 10).max(1);
    let pause = Duration::from_secs_f64(chunk as f64 / rate as f64);
    for piece in bytes.chunks(chunk) {
        stream.write_all(piece).await?;
        stream.flush().await?;
        tokio::time::sleep(pause).await;
    }
    Ok(())
}

/// Largest write of a flood: repeats are batched up to this size.
const FLOOD_CHUNK: usize = 64 * 1024;

/// Writes `bytes` `times` times, or forever: until the client goes away, which ends it with
/// the write's error. Memory stays at one batch whatever the count.
async fn flood(
    stream: &mut ServerStream,
    bytes: &[u8],
    times: Option<u64>,
    trickle: Option<u32>,
) -> std::io::Result<()> {
    let per_batch = (FLOOD_CHUNK / bytes.len().max(1)).max(1) as u64;
    let batch = bytes.repeat(per_batch as usize);
    let mut left = times;
    loop {
        let n = left.map_or(per_batch, |left| left.min(per_batch));
        if n == 0 {
            return Ok(());
        }
        write_paced(stream, &batch[..bytes.len() * n as usize], trickle).await?;
        if let Some(left) = &mut left {
            *left -= n;
        }
    }
}

/// The start of a flood's bytes, escaped, for the transcript.
fn preview(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(60)];
    let mut text = crate::hostile::RawBytes(shown.to_vec()).encode();
    if shown.len() < bytes.len() {
        text.push('…');
    }
    format!("\"{text}\" ({} bytes)", bytes.len())
}

/// Runs the server side of a TLS handshake on a plain stream, recording how it went.
async fn handshake(
    stream: ServerStream,
    acceptor: Option<&TlsAcceptor>,
    close_mid_handshake: bool,
    transcript: &TranscriptHandle,
) -> Option<ServerStream> {
    let ServerStream::Plain(mut tcp) = stream else {
        return Some(stream);
    };
    if close_mid_handshake {
        let mut hello = vec![0u8; 4096];
        let read = tokio::time::timeout(HANDSHAKE_READ_TIMEOUT, tcp.read(&mut hello)).await;
        let n = match read {
            Ok(Ok(n)) => n,
            _ => 0,
        };
        transcript.event(format!(
            "closed in the middle of the TLS handshake, after {n} bytes of ClientHello"
        ));
        return None;
    }
    let Some(acceptor) = acceptor else {
        transcript.event("TLS requested but the listener has no TLS set up");
        return None;
    };
    match acceptor.accept(tcp).await {
        Ok((tls, version)) => {
            transcript.event(format!("TLS established ({version})"));
            Some(tls)
        }
        Err(reason) => {
            transcript.event(format!("TLS handshake failed: {reason}"));
            None
        }
    }
}

/// Closes with a TCP RST instead of a FIN: SO_LINGER with a zero timeout, then drop.
fn reset(stream: ServerStream, milestone: Milestone, transcript: &TranscriptHandle) {
    let name = match milestone {
        Milestone::AfterGreeting => "after the greeting",
        Milestone::AfterStarttls => "after STARTTLS",
        Milestone::AfterLogin => "after login",
    };
    if let Err(e) = stream.tcp().set_zero_linger() {
        transcript.event(format!("could not arm the reset: {e}"));
    }
    drop(stream);
    transcript.event(format!("connection reset {name}"));
}

/// Reads and ignores everything until the client goes away, on any stream.
async fn drain(stream: &mut ServerStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

/// Reads and ignores everything until the client goes away.
pub(crate) async fn discard_forever(tcp: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = tcp.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::first_words;

    #[test]
    fn injected_commands_are_shown_without_their_arguments() {
        assert_eq!(
            first_words(b"a3 LOGIN alice secret\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
            "a3 LOGIN | AUTH PLAIN"
        );
    }
}
