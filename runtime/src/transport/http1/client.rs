//! The client side of gRPC over HTTP/1.1: a pool of connections, one call on each at a
//! time, on hyper-util's pooling client.
//!
//! A connection goes back to the pool only once both the request and the response have
//! ended; a call that is cancelled or times out drops its response, which closes its
//! connection instead.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::boxed::BoxFuture;
use crate::status::Status;
use crate::transport::body::Body;
use crate::transport::connect::Connector;
use crate::transport::error::{SendError, status_from_hyper};
use crate::transport::incoming::IncomingBody;
use crate::transport::io::BoxedIo;

/// Calls over HTTP/1.1 to one server address, at most `max_connections` at once.
pub(crate) struct Http1Client {
    client: Client<PoolConnector, Body>,
    permits: Arc<Semaphore>,
    max_connections: usize,
    connector: PoolConnector,
}

impl Http1Client {
    /// A pool of at most `max_connections` connections opened by `connector`, each
    /// within `connect_timeout`.
    pub(crate) fn new(
        connector: Connector,
        connect_timeout: Duration,
        max_connections: usize,
    ) -> Http1Client {
        let connector = PoolConnector {
            connector,
            timeout: connect_timeout,
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(max_connections)
            .build(connector.clone());
        Http1Client {
            client,
            permits: Arc::new(Semaphore::new(max_connections)),
            max_connections,
            connector,
        }
    }

    /// Sends a request on a free connection, waiting for one if all are busy.
    pub(crate) async fn send(
        &self,
        request: http::Request<Body>,
    ) -> Result<http::Response<IncomingBody>, SendError> {
        let permit = match Arc::clone(&self.permits).acquire_owned().await {
            Ok(permit) => permit,
            Err(_) => {
                let closed = Status::unavailable("the connection pool is closed");
                return Err(SendError::unsent(closed, request));
            }
        };
        let response = self.client.request(request).await.map_err(|error| {
            use std::error::Error as _;
            let status = match error
                .source()
                .and_then(|source| source.downcast_ref::<hyper::Error>())
            {
                Some(error) => status_from_hyper(error),
                None => Status::unavailable(format!("HTTP/1.1 request failed: {error}")),
            };
            SendError {
                status,
                // No connection, so nothing was sent.
                unprocessed: error.is_connect(),
                request: None,
            }
        })?;
        Ok(response.map(|body| {
            IncomingBody::boxed(PermitBody {
                body,
                permit: Some(permit),
            })
        }))
    }

    /// Opens a connection now, to check that the server can be reached.
    pub(crate) async fn probe(&self) -> Result<(), Status> {
        self.connector.connect().await.map(drop)
    }

    /// Whether a call is under way.
    pub(crate) fn has_calls(&self) -> bool {
        self.permits.available_permits() < self.max_connections
    }
}

/// A response body that holds its call's slot in the pool until it has ended (its
/// trailers arrived) or is dropped.
struct PermitBody {
    body: Incoming,
    permit: Option<OwnedSemaphorePermit>,
}

impl http_body::Body for PermitBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        let ended = match &frame {
            Some(Ok(frame)) => frame.is_trailers(),
            _ => true,
        };
        if ended {
            self.permit = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Opens pool connections with the channel's [`Connector`].
#[derive(Clone)]
struct PoolConnector {
    connector: Connector,
    timeout: Duration,
}

impl PoolConnector {
    async fn connect(&self) -> Result<BoxedIo, Status> {
        self.connector.connect(self.timeout).await
    }
}

impl tower_service::Service<Uri> for PoolConnector {
    type Response = TokioIo<PooledIo>;
    type Error = Status;
    type Future = BoxFuture<Result<TokioIo<PooledIo>, Status>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let connector = self.clone();
        Box::pin(async move { Ok(TokioIo::new(PooledIo(connector.connect().await?))) })
    }
}

/// A pooled connection's byte stream.
struct PooledIo(BoxedIo);

impl Connection for PooledIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for PooledIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for PooledIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}
