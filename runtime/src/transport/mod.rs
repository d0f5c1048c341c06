//! The transports gRPC runs over: HTTP/2 and HTTP/1.1, in cleartext or over TLS, with one
//! server port serving both.

pub(crate) mod connect;
mod detect;
pub(crate) mod http1;
pub(crate) mod http2;
pub(crate) mod limits;
pub(crate) mod shutdown;
mod tls;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

pub use crate::request::Certificate;
pub use tls::{ClientTlsConfig, ServerTlsConfig};

use self::detect::{Detected, Rewind, detect};
use self::limits::ConnectionLimits;
use self::shutdown::Shutdown;
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
/// otherwise, within `limits`. When the drain begins, the connection finishes the calls
/// under way and closes; when `shutdown` says close, it closes at once. `alive` is
/// dropped when the connection ends.
///
/// Once the first bytes have named the protocol, the connection moves to a task of its
/// own holding just that protocol's state: an idle connection then costs one task, not
/// the detection's future plus a boxed protocol future.
pub(crate) async fn serve_connection(
    mut io: BoxedIo,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: Shutdown,
    alive: impl Send + 'static,
) {
    // The first request's head must be complete by then, detection included.
    let head_deadline = Instant::now() + limits.header_read_timeout;
    let detected = tokio::select! {
        detected = tokio::time::timeout_at(head_deadline, detect(&mut io)) => detected,
        () = shutdown.draining() => return,
    };
    let detected = match detected {
        Ok(Ok(detected)) => detected,
        Ok(Err(error)) => {
            return tracing::debug!(%error, "connection failed before its first request");
        }
        Err(_) => return tracing::debug!("connection sent no request in time"),
    };
    match detected {
        Detected::Http2(preface) => {
            let io = Rewind::new(preface, io);
            let served = http2::serve_connection(io, router, &limits, shutdown);
            drop(tokio::spawn(async move { log_end(served.await, alive) }));
        }
        Detected::Http1(start) => drop(tokio::spawn(async move {
            let served = http1::server::serve_connection(
                io,
                start,
                router,
                &limits,
                head_deadline,
                shutdown.clone(),
            );
            // Boxed so that the selection below does not hold a second copy of it.
            log_end(until_closing(Box::pin(served), shutdown).await, alive);
        })),
    }
}

/// Runs an HTTP/1.1 connection until it ends, or until the shutdown says to close it at
/// once. (HTTP/2 watches for that inside its own future: wrapping it here would add a
/// second selection to every idle connection's task.)
async fn until_closing<E>(
    served: impl std::future::Future<Output = Result<(), E>>,
    mut shutdown: Shutdown,
) -> Result<(), E> {
    tokio::select! {
        result = served => result,
        () = shutdown.closing() => Ok(()),
    }
}

/// Logs how a connection ended, then lets go of its `alive` token.
fn log_end(result: Result<(), impl std::fmt::Display>, alive: impl Send) {
    if let Err(error) = result {
        tracing::debug!(%error, "connection ended with an error");
    }
    drop(alive);
}
