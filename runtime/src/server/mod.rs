//! The server side: [`Server`] accepts connections and routes calls to generated services.

mod config;
mod incoming;
mod method;
pub(crate) mod router;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower_service::Service;

pub use config::ServiceConfig;
pub use incoming::IncomingBody;
pub use method::{
    CallFuture, bidi_streaming, client_streaming, server_streaming, unary, unimplemented,
};

use self::router::{Route, RouteFuture, Router};
use crate::transport::{BoxedIo, ServerTlsConfig};
use crate::{Body, Error, transport};

/// A service with a fully qualified gRPC name (`package.Service`), as generated servers are.
pub trait NamedService {
    /// The name requests address in their path: `/{NAME}/{Method}`.
    const NAME: &'static str;

    /// Takes the settings it leaves unset from the server's defaults. Generated servers
    /// do; other services can ignore them.
    fn inherit_config(&mut self, defaults: &ServiceConfig) {
        let _ = defaults;
    }
}

/// A gRPC server: add generated services, then serve them on a socket.
///
/// ```text
/// Server::builder()
///     .add_service(GreeterServer::new(MyGreeter))
///     .serve("127.0.0.1:50051".parse()?)
///     .await?;
/// ```
#[derive(Default)]
pub struct Server {
    services: Vec<(&'static str, RouteBuilder)>,
    defaults: ServiceConfig,
    tls: Option<ServerTlsConfig>,
}

/// Makes a service's route once the server's defaults are final.
type RouteBuilder = Box<dyn FnOnce(&ServiceConfig) -> Route + Send>;

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

    /// Defaults for the settings each service leaves unset (limits, compression).
    pub fn with_config(mut self, defaults: ServiceConfig) -> Server {
        self.defaults = defaults;
        self
    }

    /// Adds a generated service. Calls to `/{S::NAME}/*` go to it.
    ///
    /// Any `tower` service with a name and a boxed future fits, as generated servers do.
    pub fn add_service<S>(mut self, service: S) -> Server
    where
        S: Service<
                http::Request<IncomingBody>,
                Response = http::Response<Body>,
                Error = Infallible,
                Future = RouteFuture,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
    {
        let build: RouteBuilder = Box::new(move |defaults| {
            let mut service = service;
            service.inherit_config(defaults);
            // Generated services are always ready and box their own future: calling a
            // clone is all routing takes.
            Box::new(move |request| service.clone().call(request))
        });
        self.services.retain(|(name, _)| *name != S::NAME);
        self.services.push((S::NAME, build));
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

    /// Serves connections accepted on `listener` until `signal` completes. Then it stops
    /// accepting, lets in-flight calls finish, and returns.
    ///
    /// Each connection speaks HTTP/2 or HTTP/1.1, told apart by its first bytes.
    pub async fn serve_with_listener(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let defaults = self.defaults;
        let routes = self
            .services
            .into_iter()
            .map(|(name, build)| (name, build(&defaults)))
            .collect();
        let router = Router::new(routes);
        let (stop, stopping) = watch::channel(false);
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
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let connection = Connection {
                router: router.for_connection(peer),
                tls: self.tls.clone(),
                stopping: stopping.clone(),
                _alive: alive.clone(),
            };
            tokio::spawn(connection.serve(stream));
        }
        drop(listener);
        let _ = stop.send(true);
        drop(alive);
        let _ = all_closed.recv().await;
        Ok(())
    }
}

/// An accepted connection and what serving it needs.
struct Connection {
    router: Router,
    tls: Option<ServerTlsConfig>,
    stopping: watch::Receiver<bool>,
    /// Dropped when the connection ends, so shutdown knows when all have.
    _alive: mpsc::Sender<()>,
}

impl Connection {
    async fn serve(self, stream: TcpStream) {
        let io: BoxedIo = match &self.tls {
            None => Box::new(stream),
            Some(tls) => match Box::pin(accept_tls(tls, stream)).await {
                Some(stream) => Box::new(stream),
                None => return,
            },
        };
        transport::serve_connection(io, self.router, self.stopping, self._alive).await;
    }
}

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Completes the TLS handshake of an accepted connection; `None` if it fails.
async fn accept_tls(
    tls: &ServerTlsConfig,
    stream: TcpStream,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.acceptor().accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(error)) => {
            tracing::debug!(%error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.services.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Server").field("services", &names).finish()
    }
}
