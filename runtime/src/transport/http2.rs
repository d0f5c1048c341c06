//! gRPC over HTTP/2 on hyper: the server side of a connection, and the client handshake.

use hyper::client::conn::http2::SendRequest;
use hyper::rt::{Read, Write};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use std::sync::Mutex;

use super::connect::Connector;
use crate::server::router::Router;
use crate::status::status_from_hyper;
use crate::streaming::InboundBody;
use crate::{Body, Status};

/// Serves one HTTP/2 connection with `router`; when `shutdown` turns true, sends GOAWAY
/// and lets the streams under way finish.
pub(crate) async fn serve_connection<I>(
    io: I,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) -> hyper::Result<()>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(io), router);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => return result,
        _ = shutdown.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
    }
    connection.await
}

/// The client side: one HTTP/2 connection that every call multiplexes on, opened on
/// first use and re-opened by the call after it breaks.
pub(crate) struct Http2Client {
    connector: Connector,
    /// The live connection, if any.
    sender: Mutex<Option<SendRequest<Body>>>,
    /// Serialises reconnection so that concurrent calls open one connection, not many.
    connecting: tokio::sync::Mutex<()>,
}

impl Http2Client {
    pub(crate) fn new(connector: Connector) -> Http2Client {
        Http2Client {
            connector,
            sender: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
        }
    }

    /// Sends a request and waits for the response head.
    pub(crate) async fn send(
        &self,
        request: http::Request<Body>,
    ) -> Result<http::Response<InboundBody>, Status> {
        // `sender` hands out only open connections: no readiness to wait for on HTTP/2.
        let response = self
            .sender()
            .await?
            .send_request(request)
            .await
            .map_err(|error| status_from_hyper(&error))?;
        Ok(response.map(InboundBody::Hyper))
    }

    /// A handle on the live connection, connecting first if there is none.
    pub(crate) async fn sender(&self) -> Result<SendRequest<Body>, Status> {
        if let Some(sender) = self.live_sender() {
            return Ok(sender);
        }
        let _connecting = self.connecting.lock().await;
        if let Some(sender) = self.live_sender() {
            return Ok(sender);
        }
        let io = self.connector.connect().await?;
        let sender = handshake(TokioIo::new(io))
            .await
            .map_err(|error| Status::unavailable(format!("HTTP/2 handshake failed: {error}")))?;
        *self.lock_sender() = Some(sender.clone());
        Ok(sender)
    }

    fn live_sender(&self) -> Option<SendRequest<Body>> {
        self.lock_sender()
            .as_ref()
            .filter(|sender| !sender.is_closed())
            .cloned()
    }

    fn lock_sender(&self) -> std::sync::MutexGuard<'_, Option<SendRequest<Body>>> {
        // The guarded value is a plain handle; a panic elsewhere cannot leave it torn.
        self.sender
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Spawns the client connection's futures on tokio, boxed first.
///
/// hyper spawns two futures per call (one sends the request body, one waits for the
/// response), each several hundred bytes; boxed, a task moves a pointer instead of the
/// future as it is created and completed.
#[derive(Debug, Clone, Copy)]
struct BoxingExecutor;

impl<F> hyper::rt::Executor<F> for BoxingExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        drop(tokio::spawn(Box::pin(future)));
    }
}

/// Performs the client handshake on `io` and spawns the connection driver.
async fn handshake<I>(io: I) -> hyper::Result<SendRequest<Body>>
where
    I: Read + Write + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http2::Builder::new(BoxingExecutor)
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
