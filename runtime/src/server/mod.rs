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
use tokio::net::TcpListener;
use tower_service::Service;

pub use config::ServiceConfig;
pub use method::{bidi_streaming, client_streaming, server_streaming, unary, unimplemented};

use self::router::{Route, Router};
use crate::{Body, Error, transport};

/// A service with a fully qualified gRPC name (`package.Service`), as generated servers are.
pub trait NamedService {
    /// The name requests address in their path: `/{NAME}/{Method}`.
    const NAME: &'static str;
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
    routes: Vec<(&'static str, Route)>,
}

impl Server {
    /// A server with no services.
    pub fn builder() -> Server {
        Server::default()
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
        let route: Route = Box::new(move |request| {
            let mut service = service.clone();
            Box::pin(service.call(request))
        });
        self.routes.retain(|(name, _)| *name != S::NAME);
        self.routes.push((S::NAME, route));
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
        let router = Router::new(self.routes);
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
            let connection =
                transport::http2::serve_connection(TokioIo::new(stream), router.clone());
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "connection ended with an error");
                }
            });
        }
        drop(listener);
        graceful.shutdown().await;
        Ok(())
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.routes.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Server").field("services", &names).finish()
    }
}
