//! COMPRESS=DEFLATE (RFC 4978): once a session asks for it ([`Action::Compress`]), both
//! directions of the connection are one raw DEFLATE stream each (no zlib header), every
//! write ending in a sync flush so that the client can read it at once. The driver applies
//! it between the socket and the session, which keeps speaking plain IMAP; the transcript
//! records the plain text.
//!
//! [`Action::Compress`]: crate::session::Action::Compress

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The two DEFLATE streams of one connection.
pub(crate) struct Deflate {
    compress: Compress,
    decompress: Decompress,
}

/// Largest output of one `decompress` call: a client's commands are small, and a bomb
/// stops here (the session refuses over-long lines anyway).
const MAX_INFLATED: usize = 64 * 1024 * 1024;

impl Deflate {
    pub(crate) fn new() -> Deflate {
        Deflate {
            compress: Compress::new(Compression::default(), false),
            decompress: Decompress::new(false),
        }
    }

    /// `plain` compressed and flushed.
    pub(crate) fn compress(&mut self, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plain.len() / 2 + 64);
        let start = self.compress.total_in();
        loop {
            let consumed = (self.compress.total_in() - start) as usize;
            out.reserve(4096);
            let status = self
                .compress
                .compress_vec(&plain[consumed..], &mut out, FlushCompress::Sync)
                .expect("raw DEFLATE compression does not fail on valid input");
            let done = (self.compress.total_in() - start) as usize == plain.len();
            // A sync flush is complete when output space was left over.
            if done && out.len() < out.capacity() || status == Status::StreamEnd {
                return out;
            }
        }
    }

    /// The plain bytes of `wire`; `Err` when they are not DEFLATE data or inflate too far.
    pub(crate) fn decompress(&mut self, wire: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(wire.len() * 4 + 64);
        let start = self.decompress.total_in();
        loop {
            let consumed = (self.decompress.total_in() - start) as usize;
            if out.len() >= MAX_INFLATED {
                return Err(std::io::Error::other("compressed input inflates too far"));
            }
            out.reserve(4096);
            let status = self
                .decompress
                .decompress_vec(&wire[consumed..], &mut out, FlushDecompress::Sync)
                .map_err(std::io::Error::other)?;
            let done = (self.decompress.total_in() - start) as usize == wire.len();
            if (done && out.len() < out.capacity()) || status == Status::StreamEnd {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peer's side, as a client has it.
    fn peer() -> (Compress, Decompress) {
        (
            Compress::new(Compression::default(), false),
            Decompress::new(false),
        )
    }

    #[test]
    fn both_directions_round_trip_write_by_write() {
        let mut server = Deflate::new();
        let (mut client_out, mut client_in) = peer();
        for line in [
            "a1 NOOP\r\n",
            "a2 FETCH 1:* (FLAGS)\r\n",
            &"x".repeat(100_000),
        ] {
            let mut wire = Vec::with_capacity(line.len() + 64);
            client_out
                .compress_vec(line.as_bytes(), &mut wire, FlushCompress::Sync)
                .unwrap();
            assert_eq!(server.decompress(&wire).unwrap(), line.as_bytes());
            let answer = format!("* answer to {}", &line[..line.len().min(20)]);
            let wire = server.compress(answer.as_bytes());
            let mut plain = Vec::with_capacity(answer.len() + 64);
            client_in
                .decompress_vec(&wire, &mut plain, FlushDecompress::Sync)
                .unwrap();
            assert_eq!(plain, answer.as_bytes());
        }
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(Deflate::new().decompress(&[0xff; 64]).is_err());
    }
}
