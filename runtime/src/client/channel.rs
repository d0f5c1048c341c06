//! [`Channel`]: the connection (or, over HTTP/1.1, the connections) to one server, shared
//! by every call made through it.

use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};

use crate::boxed::BoxError;
use crate::error::Error;
use crate::status::Status;
use crate::transport::body::Body;
use crate::transport::connect::{Connector, host_of};
use crate::transport::http1::client::Http1Client;
use crate::transport::http2::Http2Client;
use crate::transport::http2::keepalive::{DEFAULT_KEEP_ALIVE_TIMEOUT, Keepalive};
use crate::transport::incoming::IncomingBody;
use crate::transport::{ClientTlsConfig, HttpVersion};

/// Default limit on the connections of an HTTP/1.1 channel.
const DEFAULT_MAX_HTTP1_CONNECTIONS: usize = 64;

/// A client's way to a server. Cheap to clone: clones share the connections.
///
/// Over HTTP/2 (the default), every call is multiplexed on one connection, which the next
/// call re-opens if it breaks. Over HTTP/1.1, each call in flight has a connection of its
/// own, taken from a pool.
#[derive(Clone)]
pub struct Channel {
    shared: Arc<Shared>,
}

struct Shared {
    scheme: Scheme,
    authority: Authority,
    client: Client,
}

enum Client {
    Http2(Http2Client),
    Http1(Box<Http1Client>),
}

/// Settings for a [`Channel`], made by [`Channel::builder`].
#[derive(Debug, Clone)]
pub struct ChannelBuilder {
    uri: Uri,
    connect_timeout: Option<Duration>,
    tls: Option<ClientTlsConfig>,
    version: HttpVersion,
    max_http1_connections: usize,
    keep_alive_interval: Option<Duration>,
    keep_alive_timeout: Duration,
    keep_alive_while_idle: bool,
}

impl ChannelBuilder {
    /// Over HTTP/2, PINGs the connection every `interval` (default: never, as tonic), and
    /// closes it when a PING goes unanswered for
    /// [`keep_alive_timeout`](Self::keep_alive_timeout): the calls on it then fail with
    /// `UNAVAILABLE` instead of waiting on a dead peer, and the next call reconnects.
    /// Servers may close connections that PING too often (grpc-go's default minimum is
    /// 5 minutes without a call under way, 10 s with one).
    pub fn http2_keep_alive_interval(mut self, interval: Duration) -> Self {
        self.keep_alive_interval = Some(interval);
        self
    }

    /// How long a keepalive PING may go unanswered (default 20 s, as tonic and grpc-go).
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.keep_alive_timeout = timeout;
        self
    }

    /// Whether keepalive PINGs go out with no call under way (default `false`, as tonic
    /// and grpc-go).
    pub fn keep_alive_while_idle(mut self, while_idle: bool) -> Self {
        self.keep_alive_while_idle = while_idle;
        self
    }

    /// Fails connection attempts that take longer than `timeout`.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Connects over TLS, verifying the server with `tls`. Required for `https`
    /// destinations.
    pub fn tls_config(mut self, tls: ClientTlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The HTTP version to speak (default HTTP/2).
    pub fn http_version(mut self, version: HttpVersion) -> Self {
        self.version = version;
        self
    }

    /// Over HTTP/1.1, the most connections — and so calls in flight — at once (default
    /// 64). Further calls wait for a connection to come free.
    pub fn max_http1_connections(mut self, limit: usize) -> Self {
        self.max_http1_connections = limit.max(1);
        self
    }

    /// Connects now, failing if the server cannot be reached.
    pub async fn connect(self) -> Result<Channel, Error> {
        let channel = self.connect_lazy()?;
        let connected = match &channel.shared.client {
            Client::Http2(client) => client.connection().await.map(drop),
            Client::Http1(client) => client.probe().await,
        };
        connected.map_err(|status| Error::new("failed to connect", status))?;
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
            Some(tls) => Some(tls.connector(host_of(&authority), self.version)?),
            None => None,
        };
        let connector = Connector {
            authority: authority.clone(),
            connect_timeout: self.connect_timeout,
            tls,
        };
        let client = match self.version {
            HttpVersion::Http2 => {
                let keepalive = self.keep_alive_interval.map(|interval| Keepalive {
                    interval,
                    timeout: self.keep_alive_timeout,
                    while_idle: self.keep_alive_while_idle,
                });
                Client::Http2(Http2Client::new(connector, keepalive))
            }
            HttpVersion::Http1 => Client::Http1(Box::new(Http1Client::new(
                connector,
                self.max_http1_connections,
            ))),
        };
        Ok(Channel {
            shared: Arc::new(Shared {
                scheme,
                authority,
                client,
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
            version: HttpVersion::Http2,
            max_http1_connections: DEFAULT_MAX_HTTP1_CONNECTIONS,
            keep_alive_interval: None,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            keep_alive_while_idle: false,
        })
    }

    /// Connects to `destination` over HTTP/2 with default settings.
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
    ) -> Result<http::Response<IncomingBody>, Status> {
        match &self.shared.client {
            Client::Http2(client) => client.send(request).await,
            Client::Http1(client) => client.send(request).await,
        }
    }
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let version = match self.shared.client {
            Client::Http2(_) => HttpVersion::Http2,
            Client::Http1(_) => HttpVersion::Http1,
        };
        f.debug_struct("Channel")
            .field("authority", &self.shared.authority)
            .field("version", &version)
            .finish_non_exhaustive()
    }
}
