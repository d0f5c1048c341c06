//! [`ChannelBuilder`]: a channel's settings, from its target to its keepalive.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::time::Duration;

use http::uri::Scheme;
use tokio::sync::{Notify, watch};

use super::backoff::BackoffConfig;
use super::balancer::LoadBalancingPolicy;
use super::channel::Channel;
use super::resolver::{Endpoint, Resolver, SystemResolver, Target, TargetKind};
use super::shared::{Addresses, Shared};
use super::state::ConnectivityState;
use super::subchannel::ConnectSettings;
use crate::boxed::BoxError;
use crate::codec::Format;
use crate::error::Error;
use crate::interceptor::{Interceptor, Interceptors};
use crate::protocol::retry::RetryConfig;
use crate::transport::body::Body;
use crate::transport::connect::{Connector, host_of};
use crate::transport::http2::keepalive::{DEFAULT_KEEP_ALIVE_TIMEOUT, Keepalive};
use crate::transport::{ClientTlsConfig, HttpVersion, TowerService};
use crate::web::Protocol;
use crate::web::client::WebSettings;

/// Default limit on the connections of an HTTP/1.1 channel.
const DEFAULT_MAX_HTTP1_CONNECTIONS: usize = 64;
/// Default shortest time a connection attempt may take: the backoff spec's 20 s.
const DEFAULT_MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Default idle timeout: grpc-go's 30 minutes.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Default interval between resolutions of a DNS target.
const DEFAULT_RESOLUTION_INTERVAL: Duration = Duration::from_secs(30);

/// Settings for a [`Channel`], made by [`Channel::builder`] or
/// [`Channel::balance_list`].
#[derive(Clone)]
pub struct ChannelBuilder {
    target: Target,
    connect_timeout: Option<Duration>,
    min_connect_timeout: Duration,
    backoff: BackoffConfig,
    tls: Option<ClientTlsConfig>,
    version: HttpVersion,
    max_http1_connections: usize,
    keep_alive_interval: Option<Duration>,
    keep_alive_timeout: Duration,
    keep_alive_while_idle: bool,
    tcp_keepalive: Option<Duration>,
    policy: LoadBalancingPolicy,
    resolver: Arc<dyn Resolver>,
    resolution_interval: Duration,
    idle_timeout: Option<Duration>,
    /// Set in `retry.rs`.
    pub(super) retry: RetryConfig,
    interceptors: Interceptors,
    /// Wrap the channel, outermost first.
    layers: Vec<Arc<LayerFn>>,
    web: WebSettings,
    format: Format,
}

/// Wraps a channel in a layer.
type LayerFn = dyn Fn(Channel) -> Channel + Send + Sync;

impl ChannelBuilder {
    fn new(target: Target) -> ChannelBuilder {
        ChannelBuilder {
            target,
            connect_timeout: None,
            min_connect_timeout: DEFAULT_MIN_CONNECT_TIMEOUT,
            backoff: BackoffConfig::default(),
            tls: None,
            version: HttpVersion::Http2,
            max_http1_connections: DEFAULT_MAX_HTTP1_CONNECTIONS,
            keep_alive_interval: None,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            keep_alive_while_idle: false,
            tcp_keepalive: None,
            policy: LoadBalancingPolicy::default(),
            resolver: Arc::new(SystemResolver),
            resolution_interval: DEFAULT_RESOLUTION_INTERVAL,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            retry: RetryConfig::default(),
            interceptors: Interceptors::default(),
            layers: Vec::new(),
            web: WebSettings::default(),
            format: Format::default(),
        }
    }

    /// The protocol calls speak (default [`Protocol::Grpc`]): gRPC, gRPC-Web or Connect.
    /// Generated clients work the same over each; gRPC-Web and Connect also work over
    /// HTTP/1.1 ([`http_version`](Self::http_version)) through proxies that drop
    /// trailers.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.web.protocol = protocol;
        self
    }

    /// The format of calls' messages (default [`Format::Proto`]). JSON needs clients
    /// generated with the plugin's `json` option; others fail their calls with
    /// `INTERNAL` before sending them.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Over Connect, sends unary calls to methods without side effects as HTTP GETs, with
    /// the message in the query, so that HTTP caches can keep their responses (default
    /// off, as connect-go's `WithHTTPGet`).
    pub fn connect_get(mut self, enabled: bool) -> Self {
        self.web.connect_get = enabled;
        self
    }

    /// Adds an interceptor that runs before every call made through the channel, in the
    /// order added. See [`Interceptor`] for what it can do; the extensions it sets reach
    /// the channel's layers as the HTTP request's. A channel without interceptors does
    /// no work for them.
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.interceptors = self.interceptors.with(interceptor);
        self
    }

    /// Sends every call through a tower layer, such as `tower::timeout::TimeoutLayer`,
    /// `tower::limit::ConcurrencyLimitLayer` or `tower_http::trace::TraceLayer`. Layers
    /// added first are outermost, as in `tower::ServiceBuilder`.
    ///
    /// The layer wraps a [`Channel`], itself a tower service of HTTP requests. Its errors
    /// become statuses: a [`Status`](crate::Status) as it is, `tower::timeout`'s
    /// `DEADLINE_EXCEEDED`, `tower::load_shed`'s `RESOURCE_EXHAUSTED`. Calls through
    /// layers keep every guarantee of the channel but one: a request the server refused
    /// unprocessed is not sent again (transparent retry), since the layers have it.
    /// Each call goes through a clone of the layered service, made ready first: state
    /// shared between clones (`ConcurrencyLimit`'s semaphore) is shared by all calls,
    /// state kept in one instance (`tower::limit::RateLimit`'s window) is not.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower_layer::Layer<Channel, Service: TowerService<http::Request<Body>>>
            + Send
            + Sync
            + 'static,
    {
        self.layers.push(Arc::new(move |channel: Channel| {
            let service = layer.layer(channel.clone());
            channel.layered(service)
        }));
        self
    }

    /// Over HTTP/2, PINGs each connection every `interval` (default: never, as tonic),
    /// and closes it when a PING goes unanswered for
    /// [`keep_alive_timeout`](Self::keep_alive_timeout): the calls on it then fail with
    /// `UNAVAILABLE` instead of waiting on a dead peer, and the channel reconnects.
    /// Servers may close connections that PING too often (grpc-go's default minimum is
    /// 5 minutes; a new connection's first PING, which proves the server speaks HTTP/2,
    /// counts towards it too).
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

    /// Turns on TCP keepalive for the channel's connections: the OS probes a connection
    /// idle for `idle`, then every `idle`, and closes it after its count of unanswered
    /// probes (9 on Linux), failing the calls on it with `UNAVAILABLE`. This is how an
    /// HTTP/1.1 channel, which has no PING, learns of a dead peer; over HTTP/2,
    /// [`http2_keep_alive_interval`](Self::http2_keep_alive_interval) is faster. Off by
    /// default, as in tonic.
    pub fn tcp_keepalive(mut self, idle: Option<Duration>) -> Self {
        self.tcp_keepalive = idle;
        self
    }

    /// A fixed limit on each connection attempt, TLS handshake included (tonic's
    /// setting). Without it, an attempt may last until the next one is due, and at
    /// least [`min_connect_timeout`](Self::min_connect_timeout), as the backoff spec says.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The shortest time a connection attempt may take when no
    /// [`connect_timeout`](Self::connect_timeout) is set (default 20 s).
    pub fn min_connect_timeout(mut self, timeout: Duration) -> Self {
        self.min_connect_timeout = timeout;
        self
    }

    /// The waits between attempts to reconnect to an address (default: gRPC's 1 s,
    /// ×1.6, 0.2 jitter, 120 s at most).
    pub fn backoff(mut self, backoff: BackoffConfig) -> Self {
        self.backoff = backoff;
        self
    }

    /// How calls are spread over the target's addresses (default
    /// [`PickFirst`](LoadBalancingPolicy::PickFirst)).
    pub fn load_balancing_policy(mut self, policy: LoadBalancingPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Resolves `dns:///` targets with `resolver` instead of the system's.
    pub fn resolver(mut self, resolver: impl Resolver) -> Self {
        self.resolver = Arc::new(resolver);
        self
    }

    /// How often a `dns:///` target is resolved again (default 30 s). It is resolved
    /// sooner when an address fails to connect, but not within 30 s (or this interval,
    /// if shorter) of the last lookup; a failed lookup is retried with the connection
    /// backoff.
    pub fn resolution_interval(mut self, interval: Duration) -> Self {
        self.resolution_interval = interval;
        self
    }

    /// Returns the channel to idle, closing its connections, after `timeout` with no
    /// call (default 30 minutes, as grpc-go); the next call reconnects. `None` keeps
    /// connections open for as long as the channel lives.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
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

    /// Over HTTP/1.1, the most connections to each address — and so calls in flight —
    /// at once (default 64). Further calls wait for a connection to come free.
    pub fn max_http1_connections(mut self, limit: usize) -> Self {
        self.max_http1_connections = limit.max(1);
        self
    }

    /// Connects now: waits until the channel is ready, and fails with the reason if the
    /// first attempt on every address fails.
    pub async fn connect(self) -> Result<Channel, Error> {
        let channel = self.connect_lazy()?;
        channel
            .ready()
            .await
            .map_err(|status| Error::new("failed to connect", status))?;
        Ok(channel)
    }

    /// Returns an idle channel, which connects on its first call.
    pub fn connect_lazy(self) -> Result<Channel, Error> {
        let scheme = match (&self.target.scheme, &self.tls) {
            (Some(scheme), None) if *scheme == Scheme::HTTPS => {
                return Err(Error::new(
                    "invalid destination",
                    "https needs a TLS configuration: call tls_config",
                ));
            }
            (_, Some(_)) => Scheme::HTTPS,
            (_, None) => Scheme::HTTP,
        };
        let connector_to = |endpoint: &Endpoint| -> Result<Connector, Error> {
            let tls = match &self.tls {
                Some(tls) => Some(tls.connector(host_of(&endpoint.authority), self.version)?),
                None => None,
            };
            Ok(Connector {
                authority: endpoint.authority.clone(),
                address: endpoint.address,
                tcp_keepalive: self.tcp_keepalive,
                tls,
            })
        };
        let authority = self.target.authority().clone();
        let addresses = match &self.target.kind {
            TargetKind::Static(endpoints) => Addresses::Static(
                endpoints
                    .iter()
                    .map(connector_to)
                    .collect::<Result<_, _>>()?,
            ),
            TargetKind::Dns { authority, port } => Addresses::Dns {
                template: connector_to(&Endpoint {
                    authority: authority.clone(),
                    address: None,
                })?,
                port: *port,
                resolver: Arc::clone(&self.resolver),
                interval: self.resolution_interval,
            },
        };
        let keepalive = self.keep_alive_interval.map(|interval| Keepalive {
            interval,
            timeout: self.keep_alive_timeout,
            while_idle: self.keep_alive_while_idle,
        });
        let connect_settings = ConnectSettings {
            version: self.version,
            connect_timeout: self.connect_timeout,
            min_connect_timeout: self.min_connect_timeout,
            backoff: self.backoff,
            keepalive,
            max_http1_connections: self.max_http1_connections,
        };
        let retries = self
            .retry
            .build()
            .map_err(|error| Error::new("invalid retry settings", error))?;
        let channel = Channel::from_shared(Shared {
            scheme,
            authority,
            addresses,
            policy: self.policy,
            connect_settings: Arc::new(connect_settings),
            idle_timeout: self.idle_timeout,
            balancer: std::sync::Mutex::new(None),
            changed: Arc::new(Notify::new()),
            resolve_now: Arc::new(Notify::new()),
            state: watch::channel(ConnectivityState::Idle).0,
            used: AtomicBool::new(false),
            turn: AtomicUsize::new(0),
            retries,
            interceptors: self.interceptors,
            web: self.web,
            format: self.format,
        });
        let layers = self.layers.into_iter().rev();
        Ok(layers.fold(channel, |channel, layer| layer(channel)))
    }
}

impl std::fmt::Debug for ChannelBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelBuilder")
            .field("target", &self.target)
            .field("version", &self.version)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// Settings for a channel to `destination`: `"http://host:port"`,
    /// `"https://host:port"`, or `"dns:///host:port"` to balance over every address
    /// the name resolves to (see [`Target`]).
    pub fn builder<D>(destination: D) -> Result<ChannelBuilder, Error>
    where
        D: TryInto<Target>,
        D::Error: Into<BoxError>,
    {
        Ok(ChannelBuilder::new(parse_target(destination)?))
    }

    /// Settings for a channel balanced over a fixed list of servers, each given as
    /// `"http://host:port"`; calls name the first one's authority. Each server gets a
    /// subchannel of its own, spread over by the
    /// [`load_balancing_policy`](ChannelBuilder::load_balancing_policy).
    pub fn balance_list<D>(
        destinations: impl IntoIterator<Item = D>,
    ) -> Result<ChannelBuilder, Error>
    where
        D: TryInto<Target>,
        D::Error: Into<BoxError>,
    {
        let mut scheme = None;
        let mut endpoints = Vec::new();
        for destination in destinations {
            let target = parse_target(destination)?;
            match target.kind {
                TargetKind::Static(listed) => endpoints.extend(listed),
                TargetKind::Dns { .. } => {
                    return Err(Error::new(
                        "invalid destination",
                        "balance_list takes http or https URIs, not dns targets",
                    ));
                }
            }
            scheme = scheme.or(target.scheme);
        }
        if endpoints.is_empty() {
            return Err(Error::new(
                "invalid destination",
                "balance_list needs a server",
            ));
        }
        Ok(ChannelBuilder::new(Target {
            scheme,
            kind: TargetKind::Static(endpoints),
        }))
    }

    /// Connects to `destination` over HTTP/2 with default settings.
    pub async fn connect<D>(destination: D) -> Result<Channel, Error>
    where
        D: TryInto<Target>,
        D::Error: Into<BoxError>,
    {
        Channel::builder(destination)?.connect().await
    }
}

fn parse_target<D>(destination: D) -> Result<Target, Error>
where
    D: TryInto<Target>,
    D::Error: Into<BoxError>,
{
    destination.try_into().map_err(|error| {
        let error: BoxError = error.into();
        // A target's own parse errors already say what is wrong.
        match error.downcast::<Error>() {
            Ok(error) => *error,
            Err(error) => Error::new("invalid destination", error),
        }
    })
}
