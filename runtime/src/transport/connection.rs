//! One accepted connection: HTTP/2 or HTTP/1.1, told apart by its first bytes, then
//! served by that protocol until it ends or the shutdown closes it.

use std::future::Future;

use tokio::time::Instant;

use super::detect::{Detected, Rewind, detect};
use super::io::BoxedIo;
use super::limits::ConnectionLimits;
use super::service::HttpService;
use super::shutdown::{FINAL_STATUS_GRACE, Shutdown};
use super::{http1, http2};

/// Serves one accepted connection with `service`: HTTP/2 if it opens with the HTTP/2
/// preface, HTTP/1.1 otherwise, within `limits`. When the drain begins, the connection
/// finishes the calls under way and closes; when `shutdown` says close, it closes at
/// once. `alive` is dropped when the connection ends.
///
/// Once the first bytes have named the protocol, the connection moves to a task of its
/// own holding just that protocol's state: an idle connection then costs one task, not
/// the detection's future plus a boxed protocol future.
pub(crate) async fn serve_connection<S: HttpService>(
    mut io: BoxedIo,
    service: S,
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
            // Two tasks of their own types, so that connections without the PING policy
            // carry nothing of it.
            match limits.http2_ping_enforcement {
                None => spawn_served(
                    http2::server::serve_connection(io, service, &limits, shutdown),
                    alive,
                ),
                Some(enforcement) => spawn_served(
                    http2::server::serve_policed_connection(
                        io,
                        service,
                        &limits,
                        enforcement,
                        shutdown,
                    ),
                    alive,
                ),
            }
        }
        Detected::Http1(start) => drop(tokio::spawn(async move {
            let served = http1::server::serve_connection(
                io,
                start,
                service,
                &limits,
                head_deadline,
                shutdown.clone(),
            );
            // Boxed so that the selection below does not hold a second copy of it.
            log_end(until_closing(Box::pin(served), shutdown).await, alive);
        })),
    }
}

/// Runs an HTTP/1.1 connection until it ends or, once the shutdown says to close, for
/// at most [`FINAL_STATUS_GRACE`] more: the connection ends the call under way with
/// its final status itself, and this bounds that for a client that does not read.
/// (HTTP/2 watches for the close inside its own future: wrapping it here would add a
/// second selection to every idle connection's task.)
async fn until_closing<E>(
    served: impl Future<Output = Result<(), E>>,
    mut shutdown: Shutdown,
) -> Result<(), E> {
    let closed = async {
        shutdown.closing().await;
        tokio::time::sleep(FINAL_STATUS_GRACE).await;
    };
    tokio::select! {
        result = served => result,
        () = closed => Ok(()),
    }
}

/// Runs a served connection in a task of its own, then logs how it ended.
fn spawn_served<E: std::fmt::Display>(
    served: impl Future<Output = Result<(), E>> + Send + 'static,
    alive: impl Send + 'static,
) {
    drop(tokio::spawn(async move { log_end(served.await, alive) }));
}

/// Logs how a connection ended, then lets go of its `alive` token.
fn log_end(result: Result<(), impl std::fmt::Display>, alive: impl Send) {
    if let Err(error) = result {
        tracing::debug!(%error, "connection ended with an error");
    }
    drop(alive);
}
