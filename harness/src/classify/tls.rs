//! rustls handshake errors. rustls reports certificate problems with "context" variants
//! (`ExpiredContext`, …) as well as the plain ones; both are matched. It reports a
//! self-signed certificate, an unknown CA and a chain missing its intermediate alike, as
//! `UnknownIssuer`, so the detail cannot tell them apart.

use rustls::{AlertDescription, CertificateError, InvalidMessage};

use crate::detail::Detail;

/// What went wrong in a handshake, independent of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailure {
    /// The certificate is not acceptable; the detail names why.
    Certificate(Detail),
    /// No TLS version in common (e.g. a TLS 1.0-only server and a TLS 1.2+ client).
    Version,
    /// The peer does not speak TLS at all (e.g. a plaintext greeting on an implicit-TLS port).
    NotTls,
    /// Anything else that ended the handshake.
    Other,
}

impl TlsFailure {
    /// The outcome detail.
    pub fn detail(self) -> Detail {
        match self {
            TlsFailure::Certificate(detail) => detail,
            TlsFailure::Version => Detail::TlsVersion,
            TlsFailure::NotTls => Detail::TlsRequired,
            TlsFailure::Other => Detail::TlsHandshakeFailed,
        }
    }
}

pub fn classify(error: &rustls::Error) -> TlsFailure {
    match error {
        rustls::Error::InvalidCertificate(certificate) => {
            TlsFailure::Certificate(certificate_detail(certificate))
        }
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)
        | rustls::Error::PeerIncompatible(_) => TlsFailure::Version,
        rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType)
        | rustls::Error::InvalidMessage(InvalidMessage::UnknownProtocolVersion)
        | rustls::Error::InvalidMessage(InvalidMessage::MessageTooLarge) => TlsFailure::NotTls,
        _ => TlsFailure::Other,
    }
}

fn certificate_detail(error: &CertificateError) -> Detail {
    match error {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            Detail::CertificateExpired
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            Detail::CertificateNotYetValid
        }
        CertificateError::UnknownIssuer => Detail::CertificateUnknownAuthority,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            Detail::CertificateWrongHost
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            Detail::CertificateInvalidPurpose
        }
        CertificateError::BadEncoding => Detail::CertificateMalformed,
        CertificateError::Revoked => Detail::CertificateRevoked,
        _ => Detail::CertificateInvalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors() {
        let cert = |e| classify(&rustls::Error::InvalidCertificate(e)).detail();
        assert_eq!(cert(CertificateError::Expired), Detail::CertificateExpired);
        assert_eq!(
            cert(CertificateError::NotValidYet),
            Detail::CertificateNotYetValid
        );
        assert_eq!(
            cert(CertificateError::UnknownIssuer),
            Detail::CertificateUnknownAuthority
        );
        assert_eq!(
            cert(CertificateError::NotValidForName),
            Detail::CertificateWrongHost
        );
        assert_eq!(
            cert(CertificateError::InvalidPurpose),
            Detail::CertificateInvalidPurpose
        );
        assert_eq!(
            cert(CertificateError::BadEncoding),
            Detail::CertificateMalformed
        );
        assert_eq!(cert(CertificateError::Revoked), Detail::CertificateRevoked);
        assert_eq!(
            cert(CertificateError::BadSignature),
            Detail::CertificateInvalid
        );
    }

    #[test]
    fn versions_plaintext_peers_and_the_rest() {
        assert_eq!(
            classify(&rustls::Error::AlertReceived(
                AlertDescription::ProtocolVersion
            )),
            TlsFailure::Version
        );
        assert_eq!(
            classify(&rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13
            )),
            TlsFailure::Version
        );
        assert_eq!(
            classify(&rustls::Error::InvalidMessage(
                InvalidMessage::InvalidContentType
            )),
            TlsFailure::NotTls
        );
        assert_eq!(
            classify(&rustls::Error::DecryptError).detail(),
            Detail::TlsHandshakeFailed
        );
    }
}
