//! rustls handshake errors. rustls reports certificate problems with "context" variants
//! (`ExpiredContext`, …) as well as the plain ones; both are matched. It reports a
//! self-signed certificate, an unknown CA and a chain missing its intermediate alike, as
//! `UnknownIssuer`, so the detail cannot tell them apart.

use rustls::{AlertDescription, CertificateError, InvalidMessage};

/// What went wrong in a handshake, independent of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailure {
    /// The certificate is not acceptable; the detail names why.
    Certificate(&'static str),
    /// No TLS version in common (e.g. a TLS 1.0-only server and a TLS 1.2+ client).
    Version,
    /// The peer does not speak TLS at all (e.g. a plaintext greeting on an implicit-TLS port).
    NotTls,
    /// Anything else that ended the handshake.
    Other,
}

impl TlsFailure {
    /// The outcome detail.
    pub fn detail(self) -> &'static str {
        match self {
            TlsFailure::Certificate(detail) => detail,
            TlsFailure::Version => "tls-version",
            TlsFailure::NotTls => "tls-required",
            TlsFailure::Other => "tls-handshake-failed",
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

fn certificate_detail(error: &CertificateError) -> &'static str {
    match error {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "certificate-expired"
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate-not-yet-valid"
        }
        CertificateError::UnknownIssuer => "certificate-unknown-authority",
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "certificate-wrong-host"
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "certificate-invalid-purpose"
        }
        CertificateError::BadEncoding => "certificate-malformed",
        CertificateError::Revoked => "certificate-revoked",
        _ => "certificate-invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors() {
        let cert = |e| classify(&rustls::Error::InvalidCertificate(e)).detail();
        assert_eq!(cert(CertificateError::Expired), "certificate-expired");
        assert_eq!(
            cert(CertificateError::NotValidYet),
            "certificate-not-yet-valid"
        );
        assert_eq!(
            cert(CertificateError::UnknownIssuer),
            "certificate-unknown-authority"
        );
        assert_eq!(
            cert(CertificateError::NotValidForName),
            "certificate-wrong-host"
        );
        assert_eq!(
            cert(CertificateError::InvalidPurpose),
            "certificate-invalid-purpose"
        );
        assert_eq!(cert(CertificateError::BadEncoding), "certificate-malformed");
        assert_eq!(cert(CertificateError::Revoked), "certificate-revoked");
        assert_eq!(cert(CertificateError::BadSignature), "certificate-invalid");
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
            "tls-handshake-failed"
        );
    }
}
