//! TLS for servers and channels, on rustls. Servers offer ALPN `h2` and `http/1.1`, and
//! can require client certificates (mutual TLS); channels can present one.

use std::fmt;
use std::sync::Arc;

use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::server::danger::ClientCertVerifier;
use tokio_rustls::rustls::sign::{CertifiedKey, SingleCertAndKey};
use tokio_rustls::rustls::{
    self, ClientConfig, ConfigBuilder, RootCertStore, ServerConfig, WantsVerifier,
};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::error::Error;
use crate::transport::http_version::HttpVersion;

/// The ALPN protocol id of HTTP/2.
const ALPN_H2: &[u8] = b"h2";
/// The ALPN protocol id of HTTP/1.1.
const ALPN_HTTP1: &[u8] = b"http/1.1";

/// The rustls crypto provider rsrpc builds with.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates in `pem`; at least one, or an error in `context`.
fn parse_certs(pem: &[u8], context: &'static str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| Error::new(context, error))?;
    if certs.is_empty() {
        return Err(Error::new(context, "no PEM certificate found"));
    }
    Ok(certs)
}

/// A certificate chain and the private key of its first certificate, checked to match.
fn certified_key(
    cert_chain: &[u8],
    key: &[u8],
    provider: &CryptoProvider,
) -> Result<Arc<SingleCertAndKey>, Error> {
    let certs = parse_certs(cert_chain, "invalid TLS certificate")?;
    let key = PrivateKeyDer::from_pem_slice(key)
        .map_err(|error| Error::new("invalid TLS private key", error))?;
    let certified = CertifiedKey::from_der(certs, key, provider)
        .map_err(|error| Error::new("invalid TLS certificate or key", error))?;
    Ok(Arc::new(SingleCertAndKey::from(certified)))
}

/// A server's TLS setup: its certificate chain and key and, for mutual TLS, the CAs that
/// client certificates must chain to.
///
/// Each method rebuilds the rustls configuration from the settings so far: the server
/// uses the one built from the final settings, and nothing can fail once a method has
/// returned. Cloning is cheap.
#[derive(Clone)]
pub struct ServerTlsConfig {
    settings: Arc<ServerSettings>,
    /// Built from `settings`.
    acceptor: TlsAcceptor,
}

/// What a server's rustls configuration is built from.
#[derive(Clone)]
struct ServerSettings {
    /// rsrpc's provider and protocol versions: where every build starts.
    versions: ConfigBuilder<ServerConfig, WantsVerifier>,
    /// The server's certificate chain and key.
    identity: Arc<SingleCertAndKey>,
    /// How client certificates are verified, once CAs were given for them.
    client_auth: Option<ClientAuth>,
    /// Whether clients without a certificate are accepted.
    client_auth_optional: bool,
}

/// Verifiers of client certificates against trusted CAs: one that requires a certificate
/// and one that lets clients go without. Both are built when the CAs are given, so
/// choosing one later cannot fail.
#[derive(Clone)]
struct ClientAuth {
    roots: Arc<RootCertStore>,
    required: Arc<dyn ClientCertVerifier>,
    optional: Arc<dyn ClientCertVerifier>,
}

impl ClientAuth {
    fn new(roots: RootCertStore, provider: &Arc<CryptoProvider>) -> Result<ClientAuth, Error> {
        let roots = Arc::new(roots);
        let builder =
            WebPkiClientVerifier::builder_with_provider(Arc::clone(&roots), Arc::clone(provider));
        let optional = builder.clone().allow_unauthenticated().build();
        let invalid = |error| Error::new("invalid client CA certificate", error);
        Ok(ClientAuth {
            required: builder.build().map_err(invalid)?,
            optional: optional.map_err(invalid)?,
            roots,
        })
    }
}

impl ServerSettings {
    /// The acceptor of these settings, offering ALPN `h2` and `http/1.1`.
    fn acceptor(&self) -> TlsAcceptor {
        let verifier = match &self.client_auth {
            None => WebPkiClientVerifier::no_client_auth(),
            Some(auth) if self.client_auth_optional => Arc::clone(&auth.optional),
            Some(auth) => Arc::clone(&auth.required),
        };
        let mut config = self
            .versions
            .clone()
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(self.identity.clone());
        config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP1.to_vec()];
        TlsAcceptor::from(Arc::new(config))
    }
}

impl ServerTlsConfig {
    /// Loads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    /// Clients are not asked for a certificate unless
    /// [`client_ca_root`](Self::client_ca_root) is called.
    pub fn from_pem(cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Result<Self, Error> {
        let provider = provider();
        let identity = certified_key(cert_chain.as_ref(), key.as_ref(), &provider)?;
        let versions = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::new("invalid TLS configuration", error))?;
        Ok(ServerTlsConfig::from_settings(ServerSettings {
            versions,
            identity,
            client_auth: None,
            client_auth_optional: false,
        }))
    }

    /// Trusts the CA certificates in `pem` to sign client certificates, and requires
    /// clients to present a certificate that chains to one of them: the handshake fails
    /// otherwise. Handlers read the certificates with
    /// [`Request::peer_certs`](crate::Request::peer_certs). Each call adds CAs.
    pub fn client_ca_root(self, pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        let mut settings = self.into_settings();
        let mut roots = match settings.client_auth.take() {
            Some(auth) => Arc::unwrap_or_clone(auth.roots),
            None => RootCertStore::empty(),
        };
        for cert in parse_certs(pem.as_ref(), "invalid client CA certificate")? {
            roots
                .add(cert)
                .map_err(|error| Error::new("invalid client CA certificate", error))?;
        }
        let provider = settings.versions.crypto_provider();
        settings.client_auth = Some(ClientAuth::new(roots, provider)?);
        Ok(ServerTlsConfig::from_settings(settings))
    }

    /// With `true`, also accepts clients that present no certificate; a certificate that
    /// is presented must still chain to a [`client_ca_root`](Self::client_ca_root) CA.
    /// No effect until client CAs are given.
    pub fn client_auth_optional(self, optional: bool) -> Self {
        let mut settings = self.into_settings();
        settings.client_auth_optional = optional;
        ServerTlsConfig::from_settings(settings)
    }

    fn from_settings(settings: ServerSettings) -> ServerTlsConfig {
        ServerTlsConfig {
            acceptor: settings.acceptor(),
            settings: Arc::new(settings),
        }
    }

    fn into_settings(self) -> ServerSettings {
        Arc::unwrap_or_clone(self.settings)
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

impl fmt::Debug for ServerTlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let client_auth = match &self.settings.client_auth {
            None => "none",
            Some(_) if self.settings.client_auth_optional => "optional",
            Some(_) => "required",
        };
        f.debug_struct("ServerTlsConfig")
            .field("client_auth", &client_auth)
            .finish_non_exhaustive()
    }
}

/// How a channel verifies its server (trusted roots and the name to check) and, for
/// mutual TLS, the certificate it presents.
#[derive(Clone, Default)]
pub struct ClientTlsConfig {
    roots: Vec<CertificateDer<'static>>,
    domain: Option<String>,
    identity: Option<Arc<SingleCertAndKey>>,
}

impl ClientTlsConfig {
    /// A configuration that trusts nothing yet: add roots with
    /// [`ca_certificate_pem`](Self::ca_certificate_pem).
    pub fn new() -> Self {
        ClientTlsConfig::default()
    }

    /// Trusts the CA certificates in `pem`.
    pub fn ca_certificate_pem(mut self, pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        self.roots
            .extend(parse_certs(pem.as_ref(), "invalid CA certificate")?);
        Ok(self)
    }

    /// Verifies the server's certificate against `domain` instead of the host of the
    /// destination URI (the server-name override of other gRPC stacks).
    pub fn domain_name(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Presents a client certificate to servers that ask for one (mutual TLS): a PEM
    /// certificate chain, the client's own certificate first, and its PEM private key
    /// (PKCS#8, PKCS#1 or SEC1).
    pub fn identity(
        mut self,
        cert_chain: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
    ) -> Result<Self, Error> {
        self.identity = Some(certified_key(
            cert_chain.as_ref(),
            key.as_ref(),
            &provider(),
        )?);
        Ok(self)
    }

    /// A connector for a server at `host`, offering the ALPN id of `version`.
    pub(crate) fn connector(
        &self,
        host: &str,
        version: HttpVersion,
    ) -> Result<(TlsConnector, ServerName<'static>), Error> {
        let mut roots = RootCertStore::empty();
        for cert in &self.roots {
            roots
                .add(cert.clone())
                .map_err(|error| Error::new("invalid CA certificate", error))?;
        }
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::new("invalid TLS configuration", error))?
            .with_root_certificates(roots);
        // The identity was loaded and checked by `identity`: this is what
        // `with_client_auth_cert` does, without parsing the key again.
        let mut config = match &self.identity {
            Some(identity) => builder.with_client_cert_resolver(identity.clone()),
            None => builder.with_no_client_auth(),
        };
        let alpn = match version {
            HttpVersion::Http2 => ALPN_H2,
            HttpVersion::Http1 => ALPN_HTTP1,
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
            .field("identity", &self.identity.is_some())
            .finish()
    }
}
