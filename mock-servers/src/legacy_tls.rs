//! Legacy TLS (1.0 and 1.1) through OpenSSL, the one place mailharness uses it.
//!
//! rustls speaks only TLS 1.2 and 1.3, yet the vendor's connectors are documented for TLS
//! 1.0–1.2 and old servers still offer nothing newer. Debian's OpenSSL 3 negotiates 1.0/1.1
//! only at security level 0 (`DEFAULT:@SECLEVEL=0`), so that is what this acceptor sets.
//! SSLv3 is compiled out of the system library and cannot be served.

use std::pin::Pin;

use mailharness_certs::ServerCert;
use openssl::pkey::PKey;
use openssl::ssl::{Ssl, SslAcceptor, SslMethod, SslOptions, SslVersion};
use openssl::x509::X509;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use crate::Error;
use crate::config::{TlsVersion, TlsVersions};

pub(crate) struct LegacyAcceptor(SslAcceptor);

impl TlsVersion {
    /// The same version, as OpenSSL names it.
    pub fn openssl(self) -> SslVersion {
        match self {
            TlsVersion::Tls10 => SslVersion::TLS1,
            TlsVersion::Tls11 => SslVersion::TLS1_1,
            TlsVersion::Tls12 => SslVersion::TLS1_2,
            TlsVersion::Tls13 => SslVersion::TLS1_3,
        }
    }
}

impl LegacyAcceptor {
    pub(crate) fn new(cert: &ServerCert, versions: TlsVersions) -> Result<LegacyAcceptor, Error> {
        let build = || -> Result<SslAcceptor, openssl::error::ErrorStack> {
            let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
            // The Mozilla profile switches TLS 1.0/1.1 off by option, which would win over
            // the version range below.
            builder.clear_options(SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1);
            builder.set_security_level(0);
            builder.set_cipher_list("DEFAULT:@SECLEVEL=0")?;
            builder.set_min_proto_version(Some(versions.min.openssl()))?;
            builder.set_max_proto_version(Some(versions.max.openssl()))?;
            let mut chain = X509::stack_from_pem(cert.chain_pem().as_bytes())?.into_iter();
            if let Some(leaf) = chain.next() {
                builder.set_certificate(&leaf)?;
            }
            for ca in chain {
                builder.add_extra_chain_cert(ca)?;
            }
            let key = PKey::private_key_from_pem(cert.key_pem().as_bytes())?;
            builder.set_private_key(&key)?;
            Ok(builder.build())
        };
        build()
            .map(LegacyAcceptor)
            .map_err(|e| Error::Tls(format!("OpenSSL acceptor for TLS {versions}: {e}")))
    }

    pub(crate) async fn accept(&self, tcp: TcpStream) -> Result<SslStream<TcpStream>, String> {
        let ssl = Ssl::new(self.0.context()).map_err(|e| e.to_string())?;
        let mut stream = SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
        Pin::new(&mut stream)
            .accept()
            .await
            .map_err(|e| e.to_string())?;
        Ok(stream)
    }
}
