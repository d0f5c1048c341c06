//! The server side: [`Server`] accepts connections and routes calls to generated services.

mod config;
mod method;
pub(crate) mod router;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tower_service::Service;

pub use config::ServiceConfig;
pub use method::{bidi_streaming, client_streaming, server_streaming, unary, unimplemented};

use self::router::{Route, Router};
use crate::transport::ServerTlsConfig;
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
    pub fn add_service<S>(mut self, service: S) -> Server
    where
        S: Service<http::Request<Incoming>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let build: RouteBuilder = Box::new(move |defaults| {
            let mut service = service;
            service.inherit_config(defaults);
            Box::new(move |request| {
                let mut service = service.clone();
                Box::pin(service.call(request))
            })
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
        let graceful = GracefulShutdown::new();
        let mut signal = std::pin::pin!(signal);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut signal => break,
            };
            let stream = match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Accept fails transiently (e.g. out of file descriptors): back off.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let router = router.clone();
            let watcher = graceful.watcher();
            let tls = self.tls.clone();
            tokio::spawn(async move {
                let result = match tls {
                    None => watcher.watch(serve(stream, router)).await,
                    Some(tls) => match accept_tls(&tls, stream).await {
                        Some(stream) => watcher.watch(serve(stream, router)).await,
                        None => return,
                    },
                };
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
            });
        }
        drop(listener);
        graceful.shutdown().await;
        Ok(())
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

/// Serves one connection over HTTP/2.
fn serve<I>(
    io: I,
    router: Router,
) -> hyper::server::conn::http2::Connection<TokioIo<I>, Router, hyper_util::rt::TokioExecutor>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    transport::http2::serve_connection(TokioIo::new(io), router)
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.services.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Server").field("services", &names).finish()
    }
}
