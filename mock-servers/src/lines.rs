//! Input buffering for line-based protocols: CRLF-terminated lines, raw byte runs (IMAP
//! literals) and a cap on line length so a hostile client cannot grow the buffer forever.

/// Bytes received and not yet consumed by a protocol session.
#[derive(Debug, Default)]
pub(crate) struct InputBuffer {
    bytes: Vec<u8>,
}

/// A line longer than the protocol allows arrived (or is arriving).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LineTooLong;

impl InputBuffer {
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// Takes the next complete line without its line ending (CRLF, or a bare LF as lenient
    /// servers accept it). `None` until a whole line is there.
    pub(crate) fn next_line(&mut self, max_len: usize) -> Result<Option<Vec<u8>>, LineTooLong> {
        match self.bytes.iter().position(|&b| b == b'\n') {
            Some(end) if end > max_len => Err(LineTooLong),
            Some(end) => {
                let mut line: Vec<u8> = self.bytes.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                Ok(Some(line))
            }
            None if self.bytes.len() > max_len => Err(LineTooLong),
            None => Ok(None),
        }
    }

    /// Takes exactly `n` bytes, or nothing until `n` bytes are there.
    pub(crate) fn take_exact(&mut self, n: usize) -> Option<Vec<u8>> {
        (self.bytes.len() >= n).then(|| self.bytes.drain(..n).collect())
    }

    /// Takes whatever is buffered. After STARTTLS this is what the client sent in the clear
    /// behind the command: it must be thrown away, never read as if it came over TLS.
    pub(crate) fn take_all(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_feeds() {
        let mut input = InputBuffer::default();
        input.extend(b"a1 NOOP\r\na2 LO");
        assert_eq!(input.next_line(100), Ok(Some(b"a1 NOOP".to_vec())));
        assert_eq!(input.next_line(100), Ok(None));
        input.extend(b"GOUT\n");
        assert_eq!(input.next_line(100), Ok(Some(b"a2 LOGOUT".to_vec())));
    }

    #[test]
    fn refuses_overlong_lines_complete_or_not() {
        let mut input = InputBuffer::default();
        input.extend(&[b'x'; 20]);
        assert_eq!(input.next_line(10), Err(LineTooLong));
        let mut input = InputBuffer::default();
        input.extend(b"0123456789abc\r\n");
        assert_eq!(input.next_line(10), Err(LineTooLong));
    }

    #[test]
    fn takes_exact_runs_and_leftovers() {
        let mut input = InputBuffer::default();
        input.extend(b"abcdef");
        assert_eq!(input.take_exact(10), None);
        assert_eq!(input.take_exact(4), Some(b"abcd".to_vec()));
        assert_eq!(input.take_all(), b"ef".to_vec());
        assert_eq!(input.take_all(), Vec::<u8>::new());
    }
}
