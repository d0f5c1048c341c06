//! The server side: [`Server`] accepts connections and routes calls to generated services.

mod connection;
mod cors;
mod intercept;
mod router;
mod signal;
mod trace;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tower_service::Service;

pub use crate::protocol::server_call::{
    CallBody, CallFuture, bidi_streaming, client_streaming, server_streaming, unary, unimplemented,
};
pub use crate::protocol::service_config::ServiceConfig;
pub use crate::transport::incoming::IncomingBody;
pub use cors::Cors;
pub use intercept::InterceptedService;
pub use router::Routes;
pub use signal::shutdown_signal;

use self::connection::Connection;
use self::intercept::intercept_call;
use self::router::{ErasedService, Route, RouteFuture, erase};
use crate::error::Error;
use crate::interceptor::{Interceptor, Interceptors};
use crate::transport::body::Body;
use crate::transport::limits::ConnectionLimits;
use crate::transport::shutdown::{self, Phase};
use crate::transport::{ServerTlsConfig, TowerService};

/// Default for [`Server::max_connections`].
const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default for [`Server::tls_handshake_timeout`].
const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`Server::graceful_shutdown_timeout`].
const DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// A service with a fully qualified gRPC name (`package.Service`), as generated servers are.
pub trait NamedService {
    /// The name requests address in their path: `/{NAME}/{Method}`.
    const NAME: &'static str;

    /// Takes the settings it leaves unset from the server's defaults. Generated servers
    /// do; other services can ignore them.
    fn inherit_config(&mut self, defaults: &ServiceConfig) {
        let _ = defaults;
    }

    /// Called once when the server's shutdown signal fires, before it drains its
    /// connections (before the `GOAWAY`s), while clients can still hear from the service:
    /// the health service reports `NOT_SERVING` here. Does nothing by default.
    fn on_shutdown(&self) {}
}

/// What [`Server::add_service`] routes calls to, with a [`NamedService`]: a tower service
/// whose boxed future cannot fail, as generated servers are. Implemented for every such
/// service; there is nothing to implement by hand.
pub trait RouteService:
    Service<
        http::Request<IncomingBody>,
        Response = http::Response<Body>,
        Error = Infallible,
        Future = RouteFuture,
    > + Clone
    + Send
    + 'static
{
}

impl<S> RouteService for S where
    S: Service<
            http::Request<IncomingBody>,
            Response = http::Response<Body>,
            Error = Infallible,
            Future = RouteFuture,
        > + Clone
        + Send
        + 'static
{
}

/// A gRPC server: add generated services, then serve them on a socket.
///
/// ```text
/// Server::builder()
///     .add_service(GreeterServer::new(MyGreeter))
///     .serve("127.0.0.1:50051".parse()?)
///     .await?;
/// ```
///
/// Everything a client can make the server hold has a limit or a timeout; the builder
/// methods below name each one and its default.
pub struct Server {
    services: Vec<(&'static str, RouteBuilder)>,
    interceptors: Interceptors,
    /// Wraps the routes in the layers, outermost first.
    layers: Vec<LayerFn>,
    fallback: Option<Arc<dyn ErasedService>>,
    cors: Option<Cors>,
    defaults: ServiceConfig,
    tls: Option<ServerTlsConfig>,
    limits: ConnectionLimits,
    max_connections: usize,
    tls_handshake_timeout: Duration,
    graceful_shutdown_timeout: Duration,
}

impl Default for Server {
    fn default() -> Server {
        Server {
            services: Vec::new(),
            interceptors: Interceptors::default(),
            layers: Vec::new(),
            fallback: None,
            cors: None,
            defaults: ServiceConfig::default(),
            tls: None,
            limits: ConnectionLimits::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            tls_handshake_timeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT,
            graceful_shutdown_timeout: DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT,
        }
    }
}

/// Makes a service's route, and its shutdown hook, once the server's defaults are final.
type RouteBuilder = Box<dyn FnOnce(&ServiceConfig) -> (Route, ShutdownHook) + Send>;

/// Calls a service's [`NamedService::on_shutdown`].
type ShutdownHook = Box<dyn FnOnce() + Send>;

/// Wraps routes in a layer.
type LayerFn = Box<dyn FnOnce(Routes) -> Routes + Send>;

impl Server {
    /// A server with no services.
    pub fn builder() -> Server {
        Server::default()
    }

    /// Serves over TLS (ALPN `h2`) instead of cleartext.
    pub fn tls_config(mut self, tls: ServerTlsConfig) -> Server {
        self.tls = Some(tls);
        self
    }

    /// Most connections open at once (default 10,000). A connection accepted past it
    /// is closed at once.
    pub fn max_connections(mut self, max: usize) -> Server {
        self.max_connections = max;
        self
    }

    /// How long a client may take to complete the TLS handshake (default 10 s).
    pub fn tls_handshake_timeout(mut self, timeout: Duration) -> Server {
        self.tls_handshake_timeout = timeout;
        self
    }

    /// How long a new connection may take to send the bytes that tell HTTP/2 from
    /// HTTP/1.1, and an HTTP/1.1 request its whole head, counted from its first byte
    /// (default 30 s, as hyper). A connection that is too slow is closed; an
    /// HTTP/1.1 client that sent part of a head gets `408 Request Timeout` first.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Server {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// How long an HTTP/1.1 connection may wait for its next request before it is
    /// closed (default 60 s).
    pub fn http1_idle_timeout(mut self, timeout: Duration) -> Server {
        self.limits.http1_idle_timeout = timeout;
        self
    }

    /// Largest header list a request may carry, in bytes (default 16 KiB, as hyper):
    /// the HTTP/2 `SETTINGS_MAX_HEADER_LIST_SIZE`, and the most bytes of an HTTP/1.1
    /// request head (answered with 431 past it) and of its trailer section (the call
    /// fails with `RESOURCE_EXHAUSTED`).
    pub fn max_header_list_size(mut self, max: u32) -> Server {
        self.limits.max_header_list_size = max;
        self
    }

    /// Most header lines in an HTTP/1.1 request head (431 past it), and most trailer
    /// lines after a chunked body (`RESOURCE_EXHAUSTED`); default 100, as hyper.
    pub fn http1_max_headers(mut self, max: usize) -> Server {
        self.limits.http1_max_headers = max;
        self
    }

    /// Longest chunk-size line of a chunked HTTP/1.1 request body, chunk extensions
    /// included (default 4 KiB); a longer one fails the call with `RESOURCE_EXHAUSTED`.
    pub fn http1_max_chunk_line(mut self, max: usize) -> Server {
        self.limits.http1_max_chunk_line = max;
        self
    }

    /// Most response bytes buffered for an HTTP/1.1 client that does not send
    /// `te: trailers`, whose response must carry the status in its headers (default
    /// 4 MiB). A longer response is dropped and the call fails with
    /// `RESOURCE_EXHAUSTED`, in the headers.
    pub fn http1_max_buffered_response(mut self, max: usize) -> Server {
        self.limits.http1_max_buffered_response = max;
        self
    }

    /// Most HTTP/2 streams a client may have open at once on one connection (default
    /// 200, as hyper).
    pub fn max_concurrent_streams(mut self, max: u32) -> Server {
        self.limits.max_concurrent_streams = max;
        self
    }

    /// How long an HTTP/2 connection may stay with no call open before the server sends
    /// it `GOAWAY` (default: no limit, as grpc-go's `MaxConnectionIdle`). Clients
    /// reconnect on their next call.
    pub fn max_connection_idle(mut self, idle: Duration) -> Server {
        self.limits.max_connection_idle = Some(idle);
        self
    }

    /// How long an HTTP/2 connection may live, ±10% so that connections opened together
    /// do not all go at once, before the server sends it `GOAWAY` (default: no limit, as
    /// grpc-go's `MaxConnectionAge`). The calls under way go on, for at most
    /// [`max_connection_age_grace`](Self::max_connection_age_grace).
    pub fn max_connection_age(mut self, age: Duration) -> Server {
        self.limits.max_connection_age = Some(age);
        self
    }

    /// How long the calls under way may run on after `max_connection_age`'s `GOAWAY`
    /// before the connection is closed (default: no limit, as grpc-go's
    /// `MaxConnectionAgeGrace`).
    pub fn max_connection_age_grace(mut self, grace: Duration) -> Server {
        self.limits.max_connection_age_grace = Some(grace);
        self
    }

    /// How often the server PINGs each HTTP/2 connection (default: never, as tonic).
    /// A connection that does not answer within
    /// [`http2_keepalive_timeout`](Self::http2_keepalive_timeout) is closed, with the
    /// calls on it.
    pub fn http2_keepalive_interval(mut self, interval: Duration) -> Server {
        self.limits.http2_keepalive_interval = Some(interval);
        self
    }

    /// How long a PING may go unanswered (default 20 s, as tonic and grpc-go): a keepalive
    /// PING, and the one sent with the `GOAWAY` of `max_connection_idle` or
    /// `max_connection_age` once no call is left.
    pub fn http2_keepalive_timeout(mut self, timeout: Duration) -> Server {
        self.limits.http2_keepalive_timeout = timeout;
        self
    }

    /// The least time between two PINGs of an HTTP/2 client (default: no limit, as
    /// tonic), grpc-go's `keepalive.EnforcementPolicy.MinTime`. Setting this or
    /// [`http2_keepalive_permit_without_stream`](Self::http2_keepalive_permit_without_stream)
    /// turns the policy on, with the other at grpc-go's default: 5 min here, `false`
    /// there. grpc-go's servers always enforce it, with those defaults.
    ///
    /// As in grpc-go, a PING sooner than this after the client's previous one is a
    /// strike, and so, with no call open and without `permit_without_stream`, is one
    /// sooner than two hours; a PING after the server has sent a response's headers or
    /// data wipes the strikes. The third strike closes the connection, with the calls on
    /// it, after `GOAWAY` `ENHANCE_YOUR_CALM` with the debug data `too_many_pings`, on
    /// which grpc-go clients double their keepalive interval before reconnecting. Set
    /// this below the `keepalive_time` of the clients you expect (rsrpc's
    /// [`ChannelBuilder::http2_keep_alive_interval`](crate::client::ChannelBuilder::http2_keep_alive_interval)).
    pub fn http2_keepalive_min_time(mut self, min_time: Duration) -> Server {
        self.limits
            .http2_ping_enforcement
            .get_or_insert_with(Default::default)
            .min_time = min_time;
        self
    }

    /// Whether an HTTP/2 client with no call open may PING as often as
    /// [`http2_keepalive_min_time`](Self::http2_keepalive_min_time) allows (default
    /// `false`, as grpc-go's `keepalive.EnforcementPolicy.PermitWithoutStream`); if not,
    /// it may PING once every two hours. Setting this turns the policy on, like
    /// `http2_keepalive_min_time` (default 5 min then, as grpc-go); it is off unless one
    /// of them is set, as in tonic, while grpc-go's servers always enforce it.
    pub fn http2_keepalive_permit_without_stream(mut self, permit: bool) -> Server {
        self.limits
            .http2_ping_enforcement
            .get_or_insert_with(Default::default)
            .permit_without_stream = permit;
        self
    }

    /// How long a graceful shutdown may wait for the calls under way (default 30 s).
    ///
    /// A call still under way when it passes is cancelled (its handler is dropped), and
    /// its client sees `UNAVAILABLE` with the message `server shutting down: drain
    /// deadline passed`, in its protocol, over HTTP/2 and HTTP/1.1 alike: as a
    /// Trailers-Only response (gRPC, gRPC-Web), a JSON error (Connect unary) or an
    /// end-of-stream message (Connect streams) if the call had not answered yet; else
    /// as what ends its response (trailers, gRPC-Web's trailer frame, Connect's
    /// end-of-stream message). A fallback service's request gets `503`. The connections
    /// are then closed; one whose peer does not read those final statuses is closed
    /// within a second more.
    pub fn graceful_shutdown_timeout(mut self, timeout: Duration) -> Server {
        self.graceful_shutdown_timeout = timeout;
        self
    }

    /// Defaults for the settings each service leaves unset (limits, compression).
    pub fn with_config(mut self, defaults: ServiceConfig) -> Server {
        self.defaults = defaults;
        self
    }

    /// Adds a generated service. Calls to `/{S::NAME}/*` go to it.
    ///
    /// Any `tower` service with a name and a boxed future fits, as generated servers do.
    pub fn add_service<S: RouteService + NamedService + Sync>(mut self, service: S) -> Server {
        let build: RouteBuilder = Box::new(move |defaults| {
            let mut service = service;
            service.inherit_config(defaults);
            let on_shutdown = service.clone();
            // Generated services are always ready and box their own future: calling a
            // clone is all routing takes.
            let route: Route = Box::new(move |request| service.clone().call(request));
            (route, Box::new(move || on_shutdown.on_shutdown()))
        });
        self.services.retain(|(name, _)| *name != S::NAME);
        self.services.push((S::NAME, build));
        self
    }

    /// Adds an interceptor that runs before every call to every service of this server,
    /// in the order added, and before the interceptors of an
    /// [`InterceptedService`]. See [`Interceptor`] for what it can do.
    ///
    /// A server without interceptors does no work for them.
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Server {
        self.interceptors = self.interceptors.with(interceptor);
        self
    }

    /// Wraps every request the server receives in a tower layer, such as
    /// `tower::timeout::TimeoutLayer`, `tower::limit::ConcurrencyLimitLayer` or
    /// `tower_http::trace::TraceLayer`. Layers added first are outermost, as in
    /// `tower::ServiceBuilder`.
    ///
    /// The layer wraps [`Routes`]; what it returns may change the response body type.
    /// Each request is served by a clone of the layered service, made ready first, as
    /// hyper serves each connection: state shared between clones (the semaphore of
    /// `ConcurrencyLimit`) is shared by all calls, state kept in one instance (the
    /// window of `tower::limit::RateLimit`) is not.
    /// Its errors become statuses: a [`Status`](crate::Status) as it is,
    /// `tower::timeout`'s `DEADLINE_EXCEEDED`, `tower::load_shed`'s
    /// `RESOURCE_EXHAUSTED`, any other `INTERNAL`.
    pub fn layer<L>(mut self, layer: L) -> Server
    where
        L: tower_layer::Layer<Routes, Service: TowerService<http::Request<IncomingBody>>>
            + Send
            + 'static,
    {
        self.layers.push(Box::new(move |routes| {
            Routes::layered(erase(layer.layer(routes)))
        }));
        self
    }

    /// Lets pages of other origins call the server from browsers (gRPC-Web and Connect
    /// clients): preflight requests are answered for every service, and responses name
    /// the allowed origin and expose their headers (`grpc-status`, `grpc-message`, custom
    /// metadata) to the page. Off by default: browsers then keep responses from pages of
    /// other origins. Checked before any [`layer`](Self::layer).
    pub fn cors(mut self, cors: Cors) -> Server {
        self.cors = Some(cors);
        self
    }

    /// Serves requests that are not gRPC and name no added service with `service`: an
    /// `axum::Router`, for example, to serve REST routes on the gRPC port. gRPC requests
    /// for unknown services still get `UNIMPLEMENTED`.
    pub fn fallback_service(
        mut self,
        service: impl TowerService<http::Request<IncomingBody>>,
    ) -> Server {
        self.fallback = Some(erase(service));
        self
    }

    /// Binds `addr` and serves until the process ends.
    pub async fn serve(self, addr: SocketAddr) -> Result<(), Error> {
        self.serve_with_shutdown(addr, std::future::pending()).await
    }

    /// Binds `addr` and serves until `signal` completes, then shuts down gracefully.
    pub async fn serve_with_shutdown(
        self,
        addr: SocketAddr,
        signal: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|error| Error::new("failed to bind", error))?;
        self.serve_with_listener(listener, signal).await
    }

    /// Serves connections accepted on `listener` until `signal` completes. Then it shuts
    /// down gracefully, and returns once every connection has closed:
    ///
    /// 1. it stops accepting connections, and calls each service's
    ///    [`NamedService::on_shutdown`];
    /// 2. each HTTP/2 connection gets the two-phase GOAWAY of grpc-go (GOAWAY with the
    ///    last stream id 2^31−1 and a PING; when the PING's answer arrives, GOAWAY with
    ///    the last stream it processed, so that no stream in flight is lost), an idle
    ///    HTTP/1.1 connection is closed at once, and a busy one gets `connection: close`
    ///    on the response under way;
    /// 3. the calls under way run on for up to
    ///    [`graceful_shutdown_timeout`](Self::graceful_shutdown_timeout); past it,
    ///    those left end with `UNAVAILABLE` and their connections close.
    ///
    /// Each connection speaks HTTP/2 or HTTP/1.1, told apart by its first bytes.
    pub async fn serve_with_listener(
        mut self,
        listener: TcpListener,
        signal: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let (routes, shutdown_hooks) = self.routes();
        let (trigger, shutdown) = shutdown::channel();
        let slots = Arc::new(Semaphore::new(self.max_connections));
        // Every connection task holds a sender; the channel closes when the last ends.
        let (alive, mut all_closed) = mpsc::channel::<()>(1);
        let mut signal = std::pin::pin!(signal);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut signal => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Accept fails transiently (e.g. out of file descriptors): back off.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                // Debug, not warn: a flood of refusals must not flood the log too.
                tracing::debug!(%peer, "connection refused: max_connections reached");
                continue;
            };
            let _ = stream.set_nodelay(true);
            let connection = Connection {
                routes: routes.clone(),
                remote_addr: peer,
                tls: self.tls.clone(),
                tls_handshake_timeout: self.tls_handshake_timeout,
                limits: self.limits,
                shutdown: shutdown.clone(),
                alive: (alive.clone(), slot),
            };
            tokio::spawn(connection.serve(stream));
        }
        drop(listener);
        shutdown_hooks
            .into_iter()
            .for_each(|on_shutdown| on_shutdown());
        trigger.advance(Phase::Draining);
        drop(alive);
        let drain = tokio::time::timeout(self.graceful_shutdown_timeout, all_closed.recv());
        if drain.await.is_err() {
            tracing::warn!("graceful shutdown timed out: closing the connections left");
            trigger.advance(Phase::Closing);
            let _ = all_closed.recv().await;
        }
        Ok(())
    }
}

impl Server {
    /// The routes to every service, behind the server's interceptors and layers, and
    /// the services' shutdown hooks.
    fn routes(&mut self) -> (Routes, Vec<ShutdownHook>) {
        let defaults = &self.defaults;
        let interceptors = &self.interceptors;
        let mut shutdown_hooks = Vec::new();
        let names: Vec<&'static str> = self.services.iter().map(|(name, _)| *name).collect();
        let routes = std::mem::take(&mut self.services)
            .into_iter()
            .map(|(name, build)| {
                let (route, on_shutdown) = build(defaults);
                shutdown_hooks.push(on_shutdown);
                if interceptors.is_empty() {
                    return (name, route);
                }
                let route = Arc::new(route);
                let interceptors = interceptors.clone();
                let intercepted: Route = Box::new(move |request| {
                    let route = Arc::clone(&route);
                    intercept_call(interceptors.clone(), request, move |request| route(request))
                });
                (name, intercepted)
            })
            .collect();
        let max_receive = self.defaults.settings().max_receive_message_size;
        let fallback = self.fallback.take();
        let has_fallback = fallback.is_some();
        let routes = Routes::new(routes, fallback, max_receive);
        let layers = std::mem::take(&mut self.layers).into_iter().rev();
        let routes = layers.fold(routes, |routes, layer| layer(routes));
        let routes = routes.with_cors(self.cors.take(), names, has_fallback);
        (routes, shutdown_hooks)
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.services.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Server").field("services", &names).finish()
    }
}
