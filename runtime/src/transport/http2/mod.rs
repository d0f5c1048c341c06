//! gRPC over HTTP/2: the server side of a connection on hyper, and the client on h2.

mod client;
mod recv_body;
mod send_body;

pub(crate) use client::Http2Client;
pub(crate) use recv_body::RecvBody;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use super::limits::ConnectionLimits;
use super::shutdown::Shutdown;
use crate::server::router::Router;

/// Serves one HTTP/2 connection with `router`, within `limits`; when the drain begins,
/// sends GOAWAY and lets the streams under way finish.
pub(crate) async fn serve_connection<I>(
    io: I,
    router: Router,
    limits: &ConnectionLimits,
    mut shutdown: Shutdown,
) -> hyper::Result<()>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_header_list_size(limits.max_header_list_size)
        .serve_connection(TokioIo::new(io), router);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => return result,
        () = shutdown.draining() => connection.as_mut().graceful_shutdown(),
    }
    connection.await
}
