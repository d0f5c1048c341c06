//! The transports gRPC runs over: HTTP/2 and HTTP/1.1, in cleartext or over TLS, with one
//! server port serving both.

pub(crate) mod connect;
mod detect;
pub(crate) mod http1;
pub(crate) mod http2;
mod tls;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

pub use tls::{ClientTlsConfig, ServerTlsConfig};

use self::detect::{Detected, Rewind, detect};
use crate::server::router::Router;

/// The HTTP version a [`Channel`](crate::Channel) speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpVersion {
    /// HTTP/2: calls multiplexed on one connection.
    #[default]
    Http2,
    /// HTTP/1.1, the way Armeria carries gRPC: one call per connection at a time, chunked
    /// bodies, the status in trailers.
    Http1,
}

/// A byte stream a connection runs on: TCP or TLS.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// A connection's byte stream, boxed so that both transports take one type.
pub(crate) type BoxedIo = Box<dyn Io>;

/// Serves one accepted connection: HTTP/2 if it opens with the HTTP/2 preface, HTTP/1.1
/// otherwise. When `shutdown` turns true, the connection finishes the calls under way
/// and closes.
pub(crate) async fn serve_connection(
    mut io: BoxedIo,
    router: Router,
    shutdown: watch::Receiver<bool>,
) -> Result<(), crate::codegen::BoxError> {
    // Each protocol's connection future is boxed once detection has chosen it: the
    // spawned task then holds only the one in use, which keeps idle connections small.
    match detect(&mut io).await? {
        Detected::Http2(preface) => {
            Box::pin(http2::serve_connection(
                Rewind::new(preface, io),
                router,
                shutdown,
            ))
            .await?;
        }
        Detected::Http1(start) => {
            Box::pin(http1::server::serve_connection(io, start, router, shutdown)).await?;
        }
    }
    Ok(())
}
