//! TLS for servers and channels, on rustls. Servers offer ALPN `h2` and `http/1.1`.

use std::fmt;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::Error;

/// The ALPN protocol id of HTTP/2.
const ALPN_H2: &[u8] = b"h2";
/// The ALPN protocol id of HTTP/1.1.
const ALPN_HTTP1: &[u8] = b"http/1.1";

/// The rustls crypto provider rsrpc builds with.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server's TLS identity: certificate chain and private key.
#[derive(Clone)]
pub struct ServerTlsConfig {
    acceptor: TlsAcceptor,
}

impl ServerTlsConfig {
    /// Loads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Result<Self, Error> {
        let certs = CertificateDer::pem_slice_iter(cert_chain.as_ref())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| Error::new("invalid TLS certificate", error))?;
        if certs.is_empty() {
            return Err(Error::new(
                "invalid TLS certificate",
                "no PEM certificate found",
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key.as_ref())
            .map_err(|error| Error::new("invalid TLS private key", error))?;
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::new("invalid TLS configuration", error))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|error| Error::new("invalid TLS certificate or key", error))?;
        config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP1.to_vec()];
        Ok(ServerTlsConfig {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

impl fmt::Debug for ServerTlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTlsConfig").finish_non_exhaustive()
    }
}

/// How a channel verifies its server: trusted roots and the name to check.
#[derive(Clone, Default)]
pub struct ClientTlsConfig {
    roots: Vec<CertificateDer<'static>>,
    domain: Option<String>,
}

impl ClientTlsConfig {
    /// A configuration that trusts nothing yet: add roots with
    /// [`ca_certificate_pem`](Self::ca_certificate_pem).
    pub fn new() -> Self {
        ClientTlsConfig::default()
    }

    /// Trusts the CA certificates in `pem`.
    pub fn ca_certificate_pem(mut self, pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        let certs = CertificateDer::pem_slice_iter(pem.as_ref())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| Error::new("invalid CA certificate", error))?;
        if certs.is_empty() {
            return Err(Error::new(
                "invalid CA certificate",
                "no PEM certificate found",
            ));
        }
        self.roots.extend(certs);
        Ok(self)
    }

    /// Verifies the server's certificate against `domain` instead of the host of the
    /// destination URI (the server-name override of other gRPC stacks).
    pub fn domain_name(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// A connector for a server at `host`, offering the ALPN id of `version`.
    pub(crate) fn connector(
        &self,
        host: &str,
        version: super::HttpVersion,
    ) -> Result<(TlsConnector, ServerName<'static>), Error> {
        let mut roots = RootCertStore::empty();
        for cert in &self.roots {
            roots
                .add(cert.clone())
                .map_err(|error| Error::new("invalid CA certificate", error))?;
        }
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::new("invalid TLS configuration", error))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let alpn = match version {
            super::HttpVersion::Http2 => ALPN_H2,
            super::HttpVersion::Http1 => ALPN_HTTP1,
        };
        config.alpn_protocols = vec![alpn.to_vec()];
        let name = self.domain.as_deref().unwrap_or(host).to_owned();
        let server_name = ServerName::try_from(name)
            .map_err(|error| Error::new("invalid TLS server name", error))?;
        Ok((TlsConnector::from(Arc::new(config)), server_name))
    }
}

impl fmt::Debug for ClientTlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTlsConfig")
            .field("roots", &self.roots.len())
            .field("domain", &self.domain)
            .finish()
    }
}
