//! gRPC over HTTP/2: the server side of a connection on hyper, and the client on h2.

mod client;
mod recv_body;
mod send_body;

pub(crate) use client::Http2Client;
pub(crate) use recv_body::RecvBody;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::future::Future;

use tokio::io::{AsyncRead, AsyncWrite};

use super::limits::ConnectionLimits;
use super::shutdown::Shutdown;
use crate::server::router::Router;

/// Serves one HTTP/2 connection with `router`, within `limits`; when the drain begins,
/// sends GOAWAY and lets the streams under way finish; when the shutdown says close,
/// closes at once.
///
/// The limits are applied before the future is made, so that an idle connection's task
/// holds only hyper's connection and the shutdown it watches.
pub(crate) fn serve_connection<I>(
    io: I,
    router: Router,
    limits: &ConnectionLimits,
    mut shutdown: Shutdown,
) -> impl Future<Output = hyper::Result<()>> + Send + use<I>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Boxed once: a future moved into an async block and pinned there would take its
    // space twice, in every idle connection's task.
    let mut connection = Box::pin(
        hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .max_concurrent_streams(limits.max_concurrent_streams)
            .max_header_list_size(limits.max_header_list_size)
            .serve_connection(TokioIo::new(io), router),
    );
    async move {
        tokio::select! {
            result = connection.as_mut() => return result,
            () = shutdown.draining() => connection.as_mut().graceful_shutdown(),
        }
        tokio::select! {
            result = connection => result,
            () = shutdown.closing() => Ok(()),
        }
    }
}
