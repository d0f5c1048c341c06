//! gRPC over HTTP/2: the server side of a connection, and the client handshake.

use hyper::client::conn::http2::SendRequest;
use hyper::rt::{Read, Write};
use hyper::server::conn::http2::Connection;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::Body;
use crate::server::router::Router;

/// Serves one HTTP/2 connection with `router`.
pub(crate) fn serve_connection<I>(io: I, router: Router) -> Connection<I, Router, TokioExecutor>
where
    I: Read + Write + Unpin + Send + 'static,
{
    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .serve_connection(io, router)
}

/// Performs the client handshake on `io` and spawns the connection driver.
pub(crate) async fn handshake<I>(io: I) -> hyper::Result<SendRequest<Body>>
where
    I: Read + Write + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .handshake(io)
        .await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "client connection ended with an error");
        }
    });
    Ok(sender)
}
