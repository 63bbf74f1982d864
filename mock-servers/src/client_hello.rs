//! The TLS versions a ClientHello offers, read from its bytes before any TLS library sees
//! them, and the legacy ServerHello some servers answer with (sans-I/O): so that a listener
//! can refuse a client it shares no version with the way the real server does, where
//! OpenSSL on its own would send a protocol-version alert (`TlsRefusal`: real Dovecot
//! closes the connection, real Courier-IMAP answers at its own version).

use crate::config::TlsVersion;

/// What the first bytes of a connection say.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Hello {
    /// Not enough bytes yet for the first record.
    NeedMore,
    /// Not a ClientHello (another protocol, or a malformed one): left to the TLS library.
    Other,
    /// The versions offered (unknown ones and GREASE values left out), the cipher suites,
    /// and the length of the record that carried them.
    Offers {
        versions: Vec<TlsVersion>,
        suites: Vec<u16>,
        record_len: usize,
    },
}

const HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
const SUPPORTED_VERSIONS: u16 = 0x002b;

fn version(code: u16) -> Option<TlsVersion> {
    match code {
        0x0301 => Some(TlsVersion::Tls10),
        0x0302 => Some(TlsVersion::Tls11),
        0x0303 => Some(TlsVersion::Tls12),
        0x0304 => Some(TlsVersion::Tls13),
        _ => None,
    }
}

/// A cursor over a ClientHello's body; every read is bounds-checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| usize::from(b[0]))
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn vector8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(n)
    }

    fn vector16(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
}

/// Reads the versions a ClientHello offers from the start of a connection's bytes: those
/// of its `supported_versions` extension, else every version from TLS 1.0 up to its
/// `client_version`.
pub(crate) fn offered_versions(bytes: &[u8]) -> Hello {
    if bytes.len() < 5 {
        return Hello::NeedMore;
    }
    if bytes[0] != HANDSHAKE {
        return Hello::Other;
    }
    let record_len = 5 + usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
    let Some(record) = bytes.get(5..record_len) else {
        return Hello::NeedMore;
    };
    parse(record)
        .map(|(versions, suites)| Hello::Offers {
            versions,
            suites,
            record_len,
        })
        .unwrap_or(Hello::Other)
}

fn parse(record: &[u8]) -> Option<(Vec<TlsVersion>, Vec<u16>)> {
    let mut reader = Reader(record);
    if reader.u8()? != usize::from(CLIENT_HELLO) {
        return None;
    }
    let length = reader.take(3)?;
    let length =
        usize::from(length[0]) << 16 | usize::from(length[1]) << 8 | usize::from(length[2]);
    // A ClientHello longer than its record (spread over several) is read as far as it goes.
    let mut hello = Reader(&reader.0[..length.min(reader.0.len())]);
    let client_version = hello.u16()?;
    hello.take(32)?; // random
    hello.vector8()?; // session id
    let mut list = Reader(hello.vector16()?);
    let mut suites = Vec::new();
    while let Some(suite) = list.u16() {
        suites.push(suite);
    }
    hello.vector8()?; // compression methods
    let fallback = || {
        [0x0301, 0x0302, 0x0303, 0x0304]
            .into_iter()
            .filter(|code| *code <= client_version)
            .filter_map(version)
            .collect()
    };
    let Some(mut extensions) = hello.vector16().map(Reader) else {
        return Some((fallback(), suites));
    };
    while let Some(kind) = extensions.u16() {
        let data = extensions.vector16()?;
        if kind == SUPPORTED_VERSIONS {
            let mut list = Reader(Reader(data).vector8()?);
            let mut versions = Vec::new();
            while let Some(code) = list.u16() {
                versions.extend(version(code));
            }
            return Some((versions, suites));
        }
    }
    Some((fallback(), suites))
}

/// The cipher suites GnuTLS (Courier-IMAP's TLS) would pick at TLS 1.0/1.1 with an ECDSA
/// certificate, in its order: ECDHE-ECDSA with AES-256-CBC-SHA, then AES-128.
const LEGACY_SUITES: [u16; 2] = [0xc00a, 0xc009];

/// What Courier-IMAP (GnuTLS) answers a client it shares no version with
/// (`TlsRefusal::LegacyHello`), as seen from the real server: when the client offers a
/// suite it can use at its own version, a ServerHello at that version (which the client
/// then refuses); when it offers none (a TLS 1.2/1.3 AEAD-only client), a close_notify
/// alert. `seed` fills the random and the session id.
pub(crate) fn legacy_answer(version: TlsVersion, suites: &[u16], seed: &[u8; 32]) -> Vec<u8> {
    match LEGACY_SUITES.iter().find(|suite| suites.contains(suite)) {
        Some(suite) => legacy_server_hello(version, *suite, seed),
        None => vec![21, 0x03, 0x01, 0, 2, 1, 0],
    }
}

/// A ServerHello at `version` with `suite`, in one record, as GnuTLS sends it: a 32-byte
/// session id, the ec_point_formats and renegotiation_info extensions; 92 bytes, like
/// Courier-IMAP's.
fn legacy_server_hello(version: TlsVersion, suite: u16, seed: &[u8; 32]) -> Vec<u8> {
    let code: u16 = match version {
        TlsVersion::Tls10 => 0x0301,
        TlsVersion::Tls11 => 0x0302,
        TlsVersion::Tls12 => 0x0303,
        TlsVersion::Tls13 => 0x0304,
    };
    let mut body = Vec::with_capacity(83);
    body.extend(code.to_be_bytes());
    body.extend(seed);
    body.push(32);
    body.extend(seed.iter().rev());
    body.extend(suite.to_be_bytes());
    body.push(0); // no compression
    body.extend([0x00, 0x0b]); // extensions: 11 bytes
    body.extend([0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]); // ec_point_formats: uncompressed
    body.extend([0xff, 0x01, 0x00, 0x01, 0x00]); // renegotiation_info: empty
    let mut handshake = vec![2, 0, 0, body.len() as u8];
    handshake.extend(body);
    let mut record = vec![HANDSHAKE, 0x03, 0x01, 0, handshake.len() as u8];
    record.extend(handshake);
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello record with `client_version` and, when given, a supported_versions
    /// extension listing `supported` (and a GREASE value).
    fn hello(client_version: u16, supported: Option<&[u16]>) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(client_version.to_be_bytes());
        body.extend([7u8; 32]);
        body.push(0); // no session id
        body.extend([0, 2, 0x13, 0x01]); // one cipher suite
        body.extend([1, 0]); // null compression
        if let Some(supported) = supported {
            let mut list = vec![0x0a, 0x0a]; // GREASE
            for code in supported {
                list.extend(code.to_be_bytes());
            }
            let mut data = vec![list.len() as u8];
            data.extend(list);
            let mut extensions = Vec::new();
            extensions.extend([0x00, 0x0a, 0x00, 0x00]); // an empty other extension
            extensions.extend(SUPPORTED_VERSIONS.to_be_bytes());
            extensions.extend((data.len() as u16).to_be_bytes());
            extensions.extend(data);
            body.extend((extensions.len() as u16).to_be_bytes());
            body.extend(extensions);
        }
        let mut handshake = vec![CLIENT_HELLO, 0, (body.len() >> 8) as u8, body.len() as u8];
        handshake.extend(body);
        let mut record = vec![HANDSHAKE, 3, 1];
        record.extend((handshake.len() as u16).to_be_bytes());
        record.extend(handshake);
        record
    }

    #[test]
    fn a_modern_client_offers_what_its_supported_versions_say() {
        let bytes = hello(0x0303, Some(&[0x0304, 0x0303]));
        assert_eq!(
            offered_versions(&bytes),
            Hello::Offers {
                versions: vec![TlsVersion::Tls13, TlsVersion::Tls12],
                suites: vec![0x1301],
                record_len: bytes.len(),
            }
        );
    }

    #[test]
    fn without_the_extension_every_version_up_to_client_version_is_offered() {
        let bytes = hello(0x0302, None);
        let Hello::Offers { versions, .. } = offered_versions(&bytes) else {
            panic!("a hello");
        };
        assert_eq!(versions, [TlsVersion::Tls10, TlsVersion::Tls11]);
    }

    #[test]
    fn partial_records_want_more_and_other_bytes_are_not_a_hello() {
        let bytes = hello(0x0303, Some(&[0x0304]));
        for cut in 0..bytes.len() {
            assert_eq!(offered_versions(&bytes[..cut]), Hello::NeedMore, "{cut}");
        }
        assert_eq!(offered_versions(b"A1 CAPABILITY\r\n"), Hello::Other);
        assert_eq!(offered_versions(&[22, 3, 1, 0, 2, 9, 9]), Hello::Other);
    }

    #[test]
    fn the_legacy_server_hello_is_courier_s_shape() {
        let hello = legacy_answer(TlsVersion::Tls10, &[0x1301, 0xc00a], &[1; 32]);
        assert_eq!(hello.len(), 92);
        assert_eq!(&hello[..11], &[22, 3, 1, 0, 0x57, 2, 0, 0, 0x53, 3, 1]);
        assert_eq!(
            &hello[hello.len() - 16..],
            &[
                0xc0, 0x0a, 0, 0, 0x0b, 0, 0x0b, 0, 2, 1, 0, 0xff, 1, 0, 1, 0
            ]
        );
        // An AEAD-only client gets a close_notify, as from the real server.
        assert_eq!(
            legacy_answer(TlsVersion::Tls10, &[0x1301, 0xc02b], &[1; 32]),
            [21, 3, 1, 0, 2, 1, 0]
        );
    }

    #[test]
    fn any_bytes_are_read_without_a_panic() {
        let bytes = hello(0x0303, Some(&[0x0304, 0x0303]));
        for cut in 5..bytes.len() {
            // A record whose length claims fewer bytes than the hello needs.
            let mut short = bytes[..cut].to_vec();
            let len = (cut - 5) as u16;
            short[3..5].copy_from_slice(&len.to_be_bytes());
            let _ = offered_versions(&short);
        }
    }
}
