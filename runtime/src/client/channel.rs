//! [`Channel`]: a connection to one server, shared by every call made through it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::codegen::BoxError;
use crate::status::status_from_hyper;
use crate::transport::ClientTlsConfig;
use crate::{Body, Error, Status, transport};

/// A client connection to a server, over HTTP/2. Cheap to clone: clones share the
/// connection, and concurrent calls are multiplexed on it. A broken connection is
/// re-established by the next call.
#[derive(Clone)]
pub struct Channel {
    shared: Arc<Shared>,
}

struct Shared {
    scheme: Scheme,
    authority: Authority,
    connect_timeout: Option<Duration>,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    /// The live connection, if any.
    sender: Mutex<Option<SendRequest<Body>>>,
    /// Serialises reconnection so that concurrent calls open one connection, not many.
    connecting: tokio::sync::Mutex<()>,
}

/// Settings for a [`Channel`], made by [`Channel::builder`].
#[derive(Debug, Clone)]
pub struct ChannelBuilder {
    uri: Uri,
    connect_timeout: Option<Duration>,
    tls: Option<ClientTlsConfig>,
}

impl ChannelBuilder {
    /// Fails connection attempts that take longer than `timeout`.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Connects over TLS (ALPN `h2`), verifying the server with `tls`. Required for
    /// `https` destinations.
    pub fn tls_config(mut self, tls: ClientTlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Connects now, failing if the server cannot be reached.
    pub async fn connect(self) -> Result<Channel, Error> {
        let channel = self.connect_lazy()?;
        channel
            .sender()
            .await
            .map_err(|status| Error::new("failed to connect", status))?;
        Ok(channel)
    }

    /// Returns a channel that connects on its first call.
    pub fn connect_lazy(self) -> Result<Channel, Error> {
        let parts = self.uri.into_parts();
        let authority = parts
            .authority
            .ok_or_else(|| Error::new("invalid destination", "missing host and port"))?;
        let scheme = match (parts.scheme, &self.tls) {
            (Some(scheme), None) if scheme == Scheme::HTTPS => {
                return Err(Error::new(
                    "invalid destination",
                    "https needs a TLS configuration: call tls_config",
                ));
            }
            (Some(scheme), _) if scheme != Scheme::HTTP && scheme != Scheme::HTTPS => {
                return Err(Error::new(
                    "invalid destination",
                    format!("unsupported scheme {scheme}: use http or https"),
                ));
            }
            (_, Some(_)) => Scheme::HTTPS,
            (_, None) => Scheme::HTTP,
        };
        let tls = match &self.tls {
            Some(tls) => Some(tls.connector(host_of(&authority))?),
            None => None,
        };
        Ok(Channel {
            shared: Arc::new(Shared {
                scheme,
                authority,
                connect_timeout: self.connect_timeout,
                tls,
                sender: Mutex::new(None),
                connecting: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

impl Channel {
    /// Settings for a channel to `destination`, such as `"http://127.0.0.1:50051"`.
    pub fn builder<D>(destination: D) -> Result<ChannelBuilder, Error>
    where
        D: TryInto<Uri>,
        D::Error: Into<BoxError>,
    {
        let uri = destination
            .try_into()
            .map_err(|error| Error::new("invalid destination", error))?;
        Ok(ChannelBuilder {
            uri,
            connect_timeout: None,
            tls: None,
        })
    }

    /// Connects to `destination` with default settings.
    pub async fn connect<D>(destination: D) -> Result<Channel, Error>
    where
        D: TryInto<Uri>,
        D::Error: Into<BoxError>,
    {
        Channel::builder(destination)?.connect().await
    }

    /// The URI of a call to `path` on this channel's server.
    pub(crate) fn uri(&self, path: &'static str) -> Uri {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.shared.scheme.clone());
        parts.authority = Some(self.shared.authority.clone());
        parts.path_and_query = Some(PathAndQuery::from_static(path));
        Uri::from_parts(parts).unwrap_or_default()
    }

    /// Sends a request and waits for the response head.
    pub(crate) async fn send(
        &self,
        request: http::Request<Body>,
    ) -> Result<http::Response<Incoming>, Status> {
        let mut sender = self.sender().await?;
        sender
            .ready()
            .await
            .map_err(|error| status_from_hyper(&error))?;
        sender
            .send_request(request)
            .await
            .map_err(|error| status_from_hyper(&error))
    }

    /// A handle on the live connection, connecting first if there is none.
    async fn sender(&self) -> Result<SendRequest<Body>, Status> {
        if let Some(sender) = self.live_sender() {
            return Ok(sender);
        }
        let _connecting = self.shared.connecting.lock().await;
        if let Some(sender) = self.live_sender() {
            return Ok(sender);
        }
        let sender = self.open().await?;
        *self.lock_sender() = Some(sender.clone());
        Ok(sender)
    }

    fn live_sender(&self) -> Option<SendRequest<Body>> {
        self.lock_sender()
            .as_ref()
            .filter(|sender| !sender.is_closed())
            .cloned()
    }

    fn lock_sender(&self) -> std::sync::MutexGuard<'_, Option<SendRequest<Body>>> {
        // The guarded value is a plain handle; a panic elsewhere cannot leave it torn.
        self.shared
            .sender
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Opens a new connection.
    async fn open(&self) -> Result<SendRequest<Body>, Status> {
        let host = host_of(&self.shared.authority);
        let default_port = if self.shared.tls.is_some() { 443 } else { 80 };
        let port = self.shared.authority.port_u16().unwrap_or(default_port);
        let connect = TcpStream::connect((host, port));
        let stream = match self.shared.connect_timeout {
            Some(timeout) => tokio::time::timeout(timeout, connect)
                .await
                .map_err(|_| Status::unavailable("timed out connecting"))?,
            None => connect.await,
        }
        .map_err(|error| {
            Status::unavailable(format!(
                "failed to connect to {}: {error}",
                self.shared.authority
            ))
        })?;
        let _ = stream.set_nodelay(true);
        let handshake = match &self.shared.tls {
            None => transport::http2::handshake(TokioIo::new(stream)).await,
            Some((connector, server_name)) => {
                let stream = connector
                    .connect(server_name.clone(), stream)
                    .await
                    .map_err(|error| {
                        Status::unavailable(format!("TLS handshake failed: {error}"))
                    })?;
                transport::http2::handshake(TokioIo::new(stream)).await
            }
        };
        handshake.map_err(|error| Status::unavailable(format!("HTTP/2 handshake failed: {error}")))
    }
}

/// The host of an authority, without the brackets of an IPv6 literal.
fn host_of(authority: &Authority) -> &str {
    authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("authority", &self.shared.authority)
            .finish_non_exhaustive()
    }
}
