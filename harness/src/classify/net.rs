//! TCP-level failures, the same for both protocols: the class is the protocol's "settings
//! incorrect" class, the detail says what happened.

use std::io;

use crate::detail::Detail;

/// The detail for an I/O error on connect or while waiting for the server's first words.
pub fn io_detail(error: &io::Error) -> Detail {
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<crate::probe::bounded::ReplyTooLong>())
    {
        return Detail::ReplyTooLong;
    }
    match error.kind() {
        io::ErrorKind::ConnectionRefused => Detail::ConnectionRefused,
        io::ErrorKind::TimedOut => Detail::Timeout,
        // Writing to a socket the peer reset gives EPIPE: a reset too.
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Detail::ConnectionReset,
        io::ErrorKind::UnexpectedEof => Detail::ConnectionClosed,
        io::ErrorKind::AddrNotAvailable | io::ErrorKind::AddrInUse => {
            Detail::SourceAddressUnavailable
        }
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => Detail::Unreachable,
        _ => Detail::ConnectionFailed,
    }
}

/// The rustls error somewhere in an error's source chain, if any: tokio-rustls and lettre
/// both bury it inside `io::Error`s and their own error types.
pub fn find_rustls_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(rustls) = error.downcast_ref::<rustls::Error>() {
            return Some(rustls);
        }
        if let Some(io) = error.downcast_ref::<io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(rustls) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(rustls);
        }
        current = error.source();
    }
    None
}

/// The I/O error somewhere in an error's source chain, if any.
pub fn find_io_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a io::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(io) = error.downcast_ref::<io::Error>() {
            return Some(io);
        }
        current = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_error_kinds() {
        let detail = |kind| io_detail(&io::Error::from(kind));
        assert_eq!(
            detail(io::ErrorKind::ConnectionRefused),
            Detail::ConnectionRefused
        );
        assert_eq!(detail(io::ErrorKind::TimedOut), Detail::Timeout);
        assert_eq!(
            detail(io::ErrorKind::ConnectionReset),
            Detail::ConnectionReset
        );
        assert_eq!(detail(io::ErrorKind::BrokenPipe), Detail::ConnectionReset);
        assert_eq!(
            detail(io::ErrorKind::UnexpectedEof),
            Detail::ConnectionClosed
        );
        assert_eq!(
            detail(io::ErrorKind::AddrNotAvailable),
            Detail::SourceAddressUnavailable
        );
        assert_eq!(detail(io::ErrorKind::HostUnreachable), Detail::Unreachable);
        assert_eq!(detail(io::ErrorKind::Other), Detail::ConnectionFailed);
    }

    #[test]
    fn rustls_errors_are_found_inside_io_errors_and_chains() {
        let io = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert_eq!(find_rustls_error(&io), Some(&rustls::Error::DecryptError));
        assert!(find_rustls_error(&io::Error::other("plain")).is_none());
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] io::Error);
        let outer = Outer(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::DecryptError,
        ));
        assert!(find_rustls_error(&outer).is_some());
        assert_eq!(
            find_io_error(&outer).unwrap().kind(),
            io::ErrorKind::InvalidData
        );
    }
}
